import Foundation
import Testing
@testable import NetFaultCore

/// The reports are written as they are made (`ReportWriter`), one connection at a time: the bytes
/// are those the whole-document renderers wrote (`ReportOracle`, the code before), byte for byte,
/// over engines of every kind: many connections beginning at the same instant, every outcome,
/// faults, netfault's own resets, rules removed, flows evicted and expired, more connections
/// than are listed, a wrapped command, segments since a mark, text that needs escaping.
struct ReportStreamingTests {
    static let rules = """
        rules:
          - name: crash
            match: {server_port: 80, from: server, after_bytes: 2KB}
            action: {reset: both}
            expect: {outcome: reset}
          - name: slow
            match: {server_port: 80, flags: [syn]}
            action: {delay: 10ms}
          - name: blackhole
            match: {server_port: 81}
            action: drop
            expect: {fired: ">=1", outcome: connect-timeout}
          - name: refuse
            match: {server_port: 82, flags: [syn]}
            action: {reject: tcp-reset}
          - name: watch
            match: {server_port: 83}
            action: pass
          - name: dns
            match: {protocol: udp, server_port: 53}
            action: {reject: icmp-port-unreachable}
          - name: host-down
            match: {protocol: udp, server_port: 54}
            action: {reject: icmp-host-unreachable}
          - name: never
            match: {server_port: 9}
            action: drop
        """

    /// One engine, driven through `count` connections of every kind by a seeded generator.
    struct Scenario: CustomStringConvertible, Sendable {
        var name: String
        var count: Int
        var flows = ""
        var seed: UInt64 = 1
        var description: String { name }
    }

    static let scenarios = [
        Scenario(name: "none", count: 0),
        Scenario(name: "a few", count: 12),
        Scenario(name: "many, the defaults", count: 3000),
        Scenario(name: "evicted and unlisted", count: 3000, flows: "flows: {max_tracked: 400, max_listed: 700}\n", seed: 2),
        Scenario(name: "none listed", count: 300, flows: "flows: {max_listed: 0}\n", seed: 3),
        Scenario(name: "fewer listed than tracked", count: 1500, flows: "flows: {max_listed: 250}\n", seed: 4),
    ]

    /// Drives an engine through `scenario.count` connections: clean closes, timeouts, refusals,
    /// resets by netfault and by the client, aborted uploads, UDP refused and idle, IPv4 and
    /// IPv6, several beginning at the same millisecond, with pauses long enough to expire flows.
    static func drive(_ scenario: Scenario) throws -> EngineDriver {
        var driver = try EngineDriver(scenario.flows + rules, seed: 7)
        var random = TestRandom(seed: scenario.seed)
        var now: Int64 = 0
        func send(_ packets: [[UInt8]]) {
            for packet in packets { driver.send(packet, at: now) }
        }
        for index in 0..<scenario.count {
            // Mostly at the same millisecond as the one before; sometimes a pause past the
            // closed (10 s) or datagram (30 s) timeout.
            switch random.next() % 20 {
            case 0: now += 11_000
            case 1: now += 31_000
            case 2...8: now += 1
            default: break
            }
            let port = UInt16(10_000 + index % 50_000)
            let v6 = random.next() % 4 == 0
            let client = v6 ? "[2001:db8:1::\(1 + index / 50_000)]:\(port)" : "198.18.1.\(2 + index / 50_000):\(port)"
            let server = { (port: Int) in v6 ? "[2001:db8:2::2]:\(port)" : "198.18.2.2:\(port)" }
            switch random.next() % 10 {
            case 0:
                var conversation = Conversation(client: client, server: server(80))
                send(conversation.handshake() + [conversation.data(from: .client, 100), conversation.data(from: .server, 500)])
                send([conversation.fin(from: .server), conversation.fin(from: .client), conversation.ack(from: .server)])
            case 1:
                var conversation = Conversation(client: client, server: server(81))
                send([conversation.syn(), conversation.synAgain()])
            case 2:
                var conversation = Conversation(client: client, server: server(82))
                send([conversation.syn()])
            case 3:
                var conversation = Conversation(client: client, server: server(80))
                send(conversation.handshake())
                send((0..<3).map { _ in conversation.data(from: .server) })
            case 4:
                var conversation = Conversation(client: client, server: server(83))
                send(conversation.handshake() + [conversation.data(from: .client, 10)])
                send([conversation.rst(from: .client)])
            case 5:
                var conversation = Conversation(client: client, server: server(83))
                send(conversation.handshake() + [conversation.data(from: .client, 1000)])
                send([conversation.retransmit(from: .client), conversation.retransmit(from: .client)])
            case 6:
                let conversation = Conversation(client: client, server: server(53 + Int(random.next() % 2)))
                send([conversation.datagram(from: .client)])
            case 7:
                let conversation = Conversation(client: client, server: server(5353))
                send([conversation.datagram(from: .client), conversation.datagram(from: .server, 200)])
            case 8:
                var conversation = Conversation(client: client, server: server(84))
                send(conversation.handshake() + [conversation.data(from: .server, 50)])
            default:
                // First seen mid-stream: open before netfault started.
                var conversation = Conversation(client: client, server: server(83))
                _ = conversation.handshake()
                send([conversation.data(from: .client, 20), conversation.ack(from: .server)])
            }
            if index == scenario.count / 2 {
                // The rule `slow` goes: the report still names it where it acted.
                driver.engine.replaceRules(with: try RuleFile.parse(scenario.flows + rules.replacingOccurrences(of: "{delay: 10ms}", with: "pass"),
                                                                     name: "test.yaml").ruleSet)
            }
        }
        driver.engine.expire(at: .milliseconds(now + 5))
        return driver
    }

    static func queue() -> RunReport.QueueStatistics {
        var queue = RunReport.QueueStatistics()
        queue.packets = 123_456
        queue.verdicts = 123_450
        queue.heldPeak = 17
        queue.heldReleasedEarly = 2
        queue.unreadable = 1
        queue.escapedFailOpen = 0
        queue.kernelDropped = 3
        queue.receiveBufferDropped = nil
        queue.injected = 99
        queue.injectionFailures = 1
        queue.packetsPerQueue = [100_000, 23_456]
        return queue
    }

    /// Every format, old and new, for the report of `engine` (since `mark`), with `command`.
    static func expectSameBytes(_ engine: Engine, since mark: ReportMark? = nil, command: RunReport.CommandResult? = nil,
                                stopReason: String = "SIGINT received", ruleFile: String = "rules.yaml",
                                sourceLocation: SourceLocation = #_sourceLocation) {
        let start = Instant.milliseconds(-3)
        let end = Instant.milliseconds(4_000_123)
        var report = RunReport(engine: engine, ruleFile: ruleFile, stopReason: stopReason, startedAt: "2026-12-05T10:00:00Z",
                               start: start, end: end, queue: queue(), since: mark)
        var oracle = ReportOracle(engine: engine, ruleFile: ruleFile, stopReason: stopReason, startedAt: "2026-12-05T10:00:00Z",
                                  start: start, end: end, queue: queue(), since: mark)
        report.command = command
        oracle.command = command
        let connections = Array(report.connections)
        let firstDifferent = zip(connections, oracle.connections).prefix { $0 == $1 }.count
        #expect(connections.count == oracle.connections.count && firstDifferent == connections.count,
                "\(connections.count) connections, \(oracle.connections.count) before; the first that differs: \(firstDifferent)",
                sourceLocation: sourceLocation)
        #expect(report.rules == oracle.rules && report.unlistedOutcomes == oracle.unlistedOutcomes, sourceLocation: sourceLocation)
        for (format, new, old) in [("json", report.json(), oracle.json()), ("text", report.text(), oracle.text()),
                                   ("text --all", report.text(all: true), oracle.text(all: true)), ("junit", report.junit(), oracle.junit())] {
            let same = new == old
            #expect(same, "\(format): \(new.utf8.count) bytes, \(old.utf8.count) before; the first that differs: \(zip(new.utf8, old.utf8).prefix { $0 == $1 }.count)",
                    sourceLocation: sourceLocation)
        }
        // In chunks of any size, the same bytes.
        for capacity in [1, 7, 4096] {
            var bytes: [UInt8] = []
            var writer = ReportWriter<Never>(capacity: capacity) { bytes.append(contentsOf: $0) }
            report.writeJUnit(to: &writer)
            writer.finish()
            let same = bytes == Array(oracle.junit().utf8)
            #expect(same, "capacity \(capacity)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: scenarios)
    func theStreamedReportIsTheOneBuiltWhole(_ scenario: Scenario) throws {
        Self.expectSameBytes(try Self.drive(scenario).engine)
    }

    /// The scenarios reach what they are meant to: every outcome, evictions, expiries, the
    /// retired ring wrapped, connections beyond the list counted only, faulted and not.
    @Test func theScenariosCoverEveryKindOfConnection() throws {
        var outcomes = Set<ConnectionOutcome>()
        for scenario in Self.scenarios {
            let engine = try Self.drive(scenario).engine
            let report = RunReport(engine: engine, ruleFile: "", stopReason: "", startedAt: "", start: .zero, end: .zero, queue: .init())
            outcomes.formUnion(report.connections.map(\.outcome))
            switch scenario.name {
            case "evicted and unlisted":
                #expect(report.flows.evicted > 0 && report.flows.expired > 0 && report.connections.count == 700)
                #expect(engine.unlistedOutcomes.values.reduce(0, +) > 0, "the retired ring wrapped")
            case "none listed": #expect(report.connections.isEmpty && report.unlistedOutcomes.values.reduce(0, +) == 300)
            case "fewer listed than tracked":
                #expect(report.connections.count == 250 && report.connections.contains { !$0.isFaulted })
                #expect(report.unlistedOutcomes.values.reduce(0, +) > 0, "tracked connections beyond the list")
            default: break
            }
        }
        #expect(outcomes == Set(ConnectionOutcome.allCases), "\(outcomes)")
    }

    /// A wrapped command, a stop reason, a rule file name and arguments that need escaping in
    /// JSON and XML.
    @Test func aCommandAndTextThatNeedsEscaping() throws {
        let driver = try Self.drive(Scenario(name: "escaping", count: 40))
        let command = RunReport.CommandResult(arguments: ["sh", "-c", "echo \"<a & b>\"\n\t\u{1}'x' → ✓"], status: 137, ended: "killed by SIGKILL")
        let everyControlCharacter = String(decoding: Array(0..<32) + [127], as: UTF8.self)
        Self.expectSameBytes(driver.engine, command: command, stopReason: "error: \"queue\" <gone> & \(everyControlCharacter)\\ é 🎉",
                             ruleFile: "dir/ru\"les <&> ✓.yaml")
        Self.expectSameBytes(driver.engine, command: RunReport.CommandResult(arguments: [], status: 0, ended: "exit 0"), stopReason: RunReport.running)
    }

    /// The report of a segment since a mark, made halfway through a run of many connections.
    @Test func aSegmentSinceAMark() throws {
        var driver = try EngineDriver("flows: {max_listed: 500}\n" + Self.rules)
        var random = TestRandom(seed: 9)
        func connect(_ indices: Range<Int>) {
            for index in indices {
                var conversation = Conversation(client: "198.18.1.2:\(20_000 + index)", server: "198.18.2.2:\(80 + Int(random.next() % 4))")
                for packet in conversation.handshake() { driver.send(packet, at: Int64(index / 3)) }
            }
        }
        connect(0..<600)
        let mark = driver.engine.mark("test_case::two", at: .milliseconds(200))
        connect(600..<1000)
        Self.expectSameBytes(driver.engine, since: mark)
    }

    /// A report of 20 000 connections handed on in chunks no bigger than the buffer and the
    /// longest single piece: the writer never gathers the document.
    @Test func theWriterHandsOnChunksOfItsCapacity() throws {
        let driver = try Self.drive(Scenario(name: "large", count: 20_000))
        let report = RunReport(engine: driver.engine, ruleFile: "r.yaml", stopReason: "SIGINT received", startedAt: "", start: .zero,
                               end: .milliseconds(1), queue: .init())
        var largest = 0
        var total = 0
        var writer = ReportWriter<Never>(capacity: 65_536) { chunk in
            largest = max(largest, chunk.count)
            total += chunk.count
        }
        report.writeJSON(to: &writer)
        writer.finish()
        #expect(total > 10 * 65_536, "a report of \(total) bytes")
        #expect(largest <= 65_536 + 1024, "the largest chunk: \(largest) bytes")
    }

    /// The writer hands on what it was given once, in order, and a flush that fails stops it.
    @Test func aFailingFlushIsThrown() throws {
        struct Full: Error {}
        var calls = 0
        var writer = ReportWriter<Full>(capacity: 4) { (_) throws(Full) in
            calls += 1
            throw Full()
        }
        #expect(throws: Full.self) { try writer.write("0123456789") }
        try writer.finish()
        #expect(calls == 1, "the bytes a failed flush was given are not handed on again")
    }
}
