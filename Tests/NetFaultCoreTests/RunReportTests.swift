import Foundation
import Testing
@testable import NetFaultCore

/// The report formats, on a scripted run: one connection reset by a rule, one closed cleanly,
/// a rule that never fired, and a rule whose expectation failed.
struct RunReportTests {
    static let rules = """
        rules:
          - name: crash
            match: {server_port: 80, from: server, after_bytes: 2KB}
            action: {reset: both}
            expect: {outcome: reset}
          - name: never
            match: {server_port: 443}
            action: drop
          - name: slow
            match: {server_port: 80, flags: [syn]}
            action: {delay: 10ms}
            expect: {fired: ">=3"}
        """

    static func report() throws -> RunReport {
        var driver = try EngineDriver(rules, seed: 7)
        var clean = Conversation(client: "198.18.1.2:40001")
        var crashing = Conversation(client: "198.18.1.2:40002")
        var now: Int64 = 0
        func send(_ packets: [[UInt8]]) {
            for packet in packets {
                driver.send(packet, at: now)
                now += 10
            }
        }
        send(clean.handshake() + [clean.data(from: .client, 100), clean.data(from: .server, 500)])
        send([clean.fin(from: .server), clean.fin(from: .client), clean.ack(from: .server)])
        send(crashing.handshake())
        send([crashing.data(from: .server), crashing.data(from: .server), crashing.data(from: .server)])
        var queue = RunReport.QueueStatistics()
        queue.packets = 13
        queue.verdicts = 13
        queue.injected = 2
        queue.escapedFailOpen = 0
        queue.kernelDropped = 0
        queue.receiveBufferDropped = 0
        return RunReport(engine: driver.engine, ruleFile: "rules.yaml", stopReason: "SIGINT received",
                         startedAt: "2026-11-24T10:00:00Z", start: .zero, end: .milliseconds(1500), queue: queue)
    }

    @Test func connectionsAreClassifiedAndRulesChecked() throws {
        let report = try Self.report()
        #expect(report.connections.map(\.outcome) == [.closed, .reset])
        #expect(report.connections[1].resetDescription == "netfault (crash) → both")
        #expect(report.connections[1].faults.map(\.rule) == ["slow", "crash"])
        #expect(report.rules.map(\.failure) == [nil, "never fired", "fired 2 times, expected >=3"])
    }

    /// Several queues add up; what the hooks diverted beyond what all queues received and the
    /// kernel dropped escaped; a queue whose kernel counters are unknown makes the sum unknown.
    @Test func queuesAddUp() throws {
        var first = RunReport.QueueStatistics()
        first.queue = 4
        first.packets = 10
        first.verdicts = 10
        first.heldPeak = 3
        first.kernelDropped = 1
        first.receiveBufferDropped = 0
        var second = first
        second.queue = 5
        second.packets = 20
        second.verdicts = 20
        let combined = RunReport.QueueStatistics(combining: [first, second], diverted: 35)
        #expect(combined.queue == 4 && combined.packets == 30 && combined.verdicts == 30 && combined.heldPeak == 6)
        #expect(combined.packetsPerQueue == [10, 20])
        #expect(combined.kernelDropped == 2 && combined.escapedFailOpen == 3)
        second.kernelDropped = nil
        let unknown = RunReport.QueueStatistics(combining: [first, second], diverted: nil)
        #expect(unknown.kernelDropped == nil && unknown.escapedFailOpen == nil)
        #expect(RunReport.QueueStatistics(combining: [first], diverted: 10).packetsPerQueue == [], "one queue lists none")
        let driver = try EngineDriver("rules:\n  - {name: a, action: drop}\n")
        let report = RunReport(engine: driver.engine, ruleFile: "r.yaml", stopReason: "SIGINT received", startedAt: "2026-11-26T10:00:00Z",
                               start: .zero, end: .milliseconds(10), queue: combined)
        #expect(report.text().contains("Queues 4-5: 30 packets (10 + 20), 30 verdicts"))
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        #expect((json?["queue"] as? [String: Any])?["packets_per_queue"] as? [Int] == [10, 20])
    }

    /// With `flows: {max_listed: 1}` and two connections still open at the end, the faulted one is
    /// listed and the other counted.
    @Test func beyondMaxListedTheFaultedConnectionsAreListedFirst() throws {
        var driver = try EngineDriver("flows: {max_listed: 1}\nrules:\n  - {name: slow, match: {client_port: 40002}, action: {delay: 1ms}}\n")
        var plain = Conversation(client: "198.18.1.2:40001")
        var slowed = Conversation(client: "198.18.1.2:40002")
        for packet in plain.handshake() + slowed.handshake() { driver.send(packet, at: 0) }
        let report = RunReport(engine: driver.engine, ruleFile: "r.yaml", stopReason: "test", startedAt: "", start: .zero,
                               end: .milliseconds(10), queue: RunReport.QueueStatistics())
        #expect(report.connections.map(\.client.port) == [40002])
        #expect(report.unlistedOutcomes == [.open: 1])
        #expect(report.flows.limits.maxListed == 1 && report.flows.created == 2 && report.flows.peakTracked == 2)
    }

    @Test func theTextReportListsFaultedConnectionsAndFlagsRules() throws {
        let text = try Self.report().text()
        #expect(text == """
            netfault stopped: SIGINT received after 1.5s; seed 7.

            Connections a fault touched (2 of 2):
              CONNECTION                            OUTCOME  ERROR                                  FAULTS             TIME  PACKETS c/s  RETRANS c/s  ENDED BY
              tcp 198.18.1.2:40001 → 198.18.2.2:80  closed   -                                      slow ×1            60ms  4/4          0/0          -
              tcp 198.18.1.2:40002 → 198.18.2.2:80  reset    both ECONNRESET / WSAECONNRESET 10054  slow ×1, crash ×1  50ms  2/4          0/0          netfault (crash) → both

            Rules:
              crash (reset): fired 1 time on 1 connection  (expected fired >=1, outcome reset: held)
              never (drop): fired 0 times on 0 connections  ← never fired: this run proved nothing about it
              slow (delay): fired 2 times on 2 connections  ← FAILED: fired 2 times, expected >=3

            Queue 0: 13 packets, 13 verdicts, held at peak 0, 0 escaped (queue full, fail-open), kernel dropped 0 (queue full) + 0 (receive buffer); injected 2.
            Flows: 2 seen, at most 2 tracked at once (limit 262144), 0 expired, 0 evicted; 2 listed (limit 100000).

            """)
    }

    @Test func theJSONReportHasEveryDocumentedKey() throws {
        let json = try Self.report().json()
        for key in ["\"version\": 2", "\"max_tracked\": 262144", "\"peak_tracked\": 2", "\"evicted\": 0", "\"seed\": \"7\"", "\"started_at\": \"2026-11-24T10:00:00Z\"", "\"escaped_fail_open\": 0",
                    "\"held_peak\": 0", "\"outcome\": \"reset\"",
                    "\"errno\": {\n        \"client\": \"ECONNRESET\",\n        \"server\": \"ECONNRESET\"",
                    "\"winsock\": {\n        \"client\": \"WSAECONNRESET\"", "\"winsock_code\": {\n        \"client\": 10054", "\"sender\": \"netfault\"", "\"rule\": \"crash\"", "\"toward\": \"both\"",
                    "\"handshake_ms\": 20", "\"errno\": {\n        \"client\": null,\n        \"server\": null", "\"reset_by\": null", "\"passed\": false",
                    "\"failure\": \"never fired\"", "\"first_ms\": 0"] {
            #expect(json.contains(key), "missing \(key) in \(json)")
        }
    }

    @Test func jsonStringsAreEscaped() {
        #expect(JSONValue.string("a\"b\\c\n\u{1}").rendered() == #""a\"b\\c\n\u0001""#)
        #expect(JSONValue.object([("x", .array([])), ("y", .null), ("z", .number(1.25))]).rendered() == "{\n  \"x\": [],\n  \"y\": null,\n  \"z\": 1.25\n}")
    }

    @Test func junitHasOneTestCasePerRuleAndFailsTheUnprovenOnes() throws {
        let xml = try Self.report().junit()
        #expect(xml.contains(#"<testsuites name="netfault" tests="3" failures="2" time="1.5">"#))
        #expect(xml.contains(#"<testcase classname="netfault.rules" name="crash" time="0"/>"#))
        #expect(xml.contains(#"<failure message="never fired" type="expectation">never (drop): fired 0 times on 0 connections</failure>"#))
        #expect(xml.contains(#"<failure message="fired 2 times, expected &gt;=3""#))
        #expect(xml.contains("netfault (crash) → both"), "the text report rides along as system-out")
    }

    @Test func expectationsParseAndCompare() throws {
        #expect(Expectation.Count(parsing: ">= 2") == .init(.atLeast, 2))
        #expect(Expectation.Count(parsing: "3") == .init(.equal, 3))
        #expect(Expectation.Count(parsing: "<1")?.holds(for: 0) == true)
        #expect(Expectation.Count(parsing: "many") == nil)
        #expect(Expectation.Count(parsing: ">-1") == nil)
        let expectation = Expectation(fired: .init(.equal, 0))
        #expect(expectation.failure(fired: 0, outcomes: []) == nil, "a rule expected never to fire")
        let reset = Expectation(outcome: .reset)
        #expect(reset.failure(fired: 2, outcomes: [.reset, .closed]) == "1 of 2 connections ended closed, expected reset")
    }
}
