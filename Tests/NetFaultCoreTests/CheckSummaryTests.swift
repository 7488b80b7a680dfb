import Foundation
import Testing
@testable import NetFaultCore

/// `netfault check` output, against golden text, and every shipped rule file validated.
struct CheckSummaryTests {
    static let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Rules")

    @Test func exampleSummaryMatchesGoldenText() throws {
        let file = try RuleFile.load(path: Self.rulesDirectory.appendingPathComponent("example.yaml").path)
        let text = CheckSummary(file: file).text.replacingOccurrences(of: file.name, with: "example.yaml")
        #expect(text == """
            example.yaml: valid, 4 rules.

            Diverted to NFQUEUE 0 (passes untouched whenever netfault is not running):
              forward ipv4+ipv6 tcp destination port 8080
              forward ipv4+ipv6 tcp source port 8080
              forward ipv4+ipv6 tcp destination port 443
              forward ipv4+ipv6 tcp source port 443
              forward ipv4+ipv6 udp destination port 53
              forward ipv4+ipv6 udp source port 53
              forward ipv4+ipv6 icmp destination-unreachable (to classify refused and unreachable connections)
            Held packets wait in NFQUEUE 32768, up to 65536 per queue (max_held).

            Rules, first match wins:
              1. keep-health: tcp packets, server port 8080, payload containing "GET /health" → let through untouched
              2. server-crash: tcp packets, client 198.18.1.0/24, server 198.18.2.2, server port 8080, after 700KiB carried → drop and reset both sides
              3. syn-drop: tcp packets, server port 443, flags exactly syn, connection 2-4 only → drop silently
              4. slow-dns: udp packets, server port 53, with probability 0.5 → delay 100ms ± 20ms

            Faults are lifted after 30s.
            Random choices use seed 42.

            """)
    }

    @Test func defaultsAreSpelledOut() throws {
        let file = try RuleFile.parse("rules:\n  - name: all\n    action: drop\n", name: "r.yaml")
        #expect(CheckSummary(file: file).text == """
            r.yaml: valid, 1 rule.

            Diverted to NFQUEUE 0 (passes untouched whenever netfault is not running):
              output ipv4+ipv6 tcp all packets
              output ipv4+ipv6 icmp destination-unreachable (to classify refused and unreachable connections)
              input  ipv4+ipv6 tcp all packets
              input  ipv4+ipv6 icmp destination-unreachable (to classify refused and unreachable connections)
              input  (except from loopback, which output already diverts)

            Rules, first match wins:
              1. all: tcp packets → drop silently

            Faults stay until netfault is stopped.
            Random choices use a fresh seed, printed in the report.

            """)
    }

    /// Several queues and a rule that holds: the queues and the parking queues are named.
    @Test func queuesAndParkingQueuesAreNamed() throws {
        let file = try RuleFile.parse("queue: 3\nqueues: 2\nmax_held: 500\nhooks: [forward]\nrules:\n"
                                      + "  - {name: slow, match: {server_port: 80}, action: {delay: 5ms}}\n", name: "r.yaml")
        let text = CheckSummary(file: file).text
        #expect(text.contains("Diverted to NFQUEUE 3-4, a thread each, connections spread by their addresses (passes"))
        #expect(text.contains("Held packets wait in NFQUEUE 32771-32772, up to 500 per queue (max_held).\n"))
        let wrapping = try RuleFile.parse("queue: 32767\nqueues: 2\nrules:\n  - {name: slow, action: {hold: 1s}}\n", name: "r.yaml")
        #expect(CheckSummary(file: wrapping).text.contains("Held packets wait in NFQUEUE 65535, 0, up to"))
        // The start-up log says the same (it used to say "queues from 65535").
        #expect(wrapping.ruleSet.parkingQueueNames == "65535, 0")
    }

    static var shippedRuleFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: rulesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func rulesDirectoryIsFound() {
        #expect(!Self.shippedRuleFiles.isEmpty, "no .yaml files in \(Self.rulesDirectory.path)")
    }

    @Test(arguments: shippedRuleFiles)
    func shippedRuleFileIsValidWithoutWarnings(_ name: String) throws {
        let file = try RuleFile.load(path: Self.rulesDirectory.appendingPathComponent(name).path)
        #expect(file.warnings.isEmpty, "\(file.warnings)")
        #expect(!file.ruleSet.rules.isEmpty)
    }
}
