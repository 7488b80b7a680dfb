import Foundation
import Testing
@testable import NetFaultCore

/// Every kind of bad input the rule language refuses, each with file:line:column and field path.
struct RuleFileErrorTests {
    /// A one-rule file whose match is `match` and whose action is `action`.
    static func rule(match: String = "{}", action: String = "drop") -> String {
        "rules:\n  - name: r1\n    match: \(match)\n    action: \(action)\n"
    }

    static let cases: [(String, String, String)] = [
        // (what, file text, the first diagnostic exactly)
        ("misspelled key", rule(match: "{sever_port: 80}"),
         "r.yaml:3:13: rules[0].match.sever_port: unknown key 'sever_port'; did you mean 'server_port'? (allowed here: protocol, client, server, client_port, server_port, from, flags, size, options, payload, after_bytes, after, idle, nth, connection, concurrent_over, probability, correlation, tls_sni, http, dns)"),
        ("port out of range", rule(match: "{server_port: 70000}"),
         "r.yaml:3:26: rules[0].match.server_port: 70000 is not a port (0-65535)"),
        ("port range backwards", rule(match: "{client_port: 6000-5000}"),
         "r.yaml:3:26: rules[0].match.client_port: 6000-5000 is an empty range: the first port must not exceed the second"),
        ("port not a number", rule(match: "{server_port: http}"),
         "r.yaml:3:26: rules[0].match.server_port: http is not a port or range such as 8080 or 40000-60000"),
        ("wrong type: list for port", rule(match: "{server_port: [80, 443]}"),
         "r.yaml:3:26: rules[0].match.server_port: expected a port or range such as 8080 or 40000-60000, found a list"),
        ("leading zero octet", rule(match: "{client: 010.0.0.1}"),
         "r.yaml:3:21: rules[0].match.client: \"010.0.0.1\" is not an IPv4 or IPv6 address or CIDR (leading zeros in an octet are refused)"),
        ("prefix over 32", rule(match: "{server: 198.18.0.0/33}"),
         "r.yaml:3:21: rules[0].match.server: \"198.18.0.0/33\" has a prefix length outside 0-32"),
        ("prefix over 128", rule(match: "{server: \"2001:db8::/129\"}"),
         "r.yaml:3:21: rules[0].match.server: \"2001:db8::/129\" has a prefix length outside 0-128"),
        ("mixed families", rule(match: "{client: 198.18.1.1, server: \"2001:db8::1\"}"),
         "r.yaml:3:41: rules[0].match.server: is IPv6 but client is IPv4: no connection can match both"),
        ("probability above 1", rule(match: "{probability: 1.5}"),
         "r.yaml:3:26: rules[0].match.probability: 1.5 is not a probability (0 to 1, e.g. 0.1, or 10%)"),
        ("negative probability", rule(match: "{probability: -0.1}"),
         "r.yaml:3:26: rules[0].match.probability: -0.1 is not a probability (0 to 1, e.g. 0.1, or 10%)"),
        ("unknown flag", rule(match: "{flags: [syn, foo]}"),
         "r.yaml:3:26: rules[0].match.flags[1]: 'foo' is not a TCP flag; use syn, ack, fin, rst, psh, urg, ece or cwr"),
        ("flags on udp", rule(match: "{protocol: udp, flags: [syn]}"),
         "r.yaml:3:35: rules[0].match.flags: only TCP packets have flags, and this rule matches udp"),
        ("unknown protocol", rule(match: "{protocol: sctp}"),
         "r.yaml:3:23: rules[0].match.protocol: 'sctp' is not a protocol; use one of tcp, udp, icmp"),
        ("bad from", rule(match: "{from: middle}"),
         "r.yaml:3:19: rules[0].match.from: 'middle' is not a side; use one of client, server"),
        ("nth zero", rule(match: "{nth: 0}"),
         "r.yaml:3:18: rules[0].match.nth: 0 is not a packet count from 1 (1-2147483647)"),
        ("connection range backwards", rule(match: "{connection: \"4-2\"}"),
         "r.yaml:3:25: rules[0].match.connection: 4-2 is not a connection range: \"3\", \"2-4\" or \"11-\", counted from 1, lower first"),
        ("size without number", rule(match: "{after_bytes: lots}"),
         "r.yaml:3:26: rules[0].match.after_bytes: lots is not a size: write a number and B, KB, KiB, MB, MiB, GB or GiB (700KiB)"),
        ("duration without unit", rule(match: "{idle: 10}"),
         "r.yaml:3:19: rules[0].match.idle: 10 is not a duration: write a number and a unit, us, ms, s, m or h (250us, 500ms, 3s, 2m, 1h)"),
        ("odd hex payload", rule(match: "{payload: \"hex:0d0\"}"),
         "r.yaml:3:22: rules[0].match.payload: hex:0d0 needs an even, non-zero number of hex digits after 'hex:'"),
        ("expected count not a count", rule(action: "drop\n    expect: {fired: lots}"),
         #"r.yaml:5:21: rules[0].expect.fired: 'lots' is not a count: a number, or >=, >, <=, <, == and a number (">=1")"#),
        ("unknown expected outcome", rule(action: "drop\n    expect: {outcome: exploded}"),
         "r.yaml:5:23: rules[0].expect.outcome: 'exploded' is not an outcome; use one of refused, connect-timeout, unreachable, reset, aborted, closed, open, idle"),
        ("unknown expectation key", rule(action: "drop\n    expect: {fires: 1}"),
         "r.yaml:5:14: rules[0].expect.fires: unknown key 'fires'; did you mean 'fired'? (allowed here: fired, outcome)"),
        ("sticky not a boolean", rule(action: "drop\n    sticky: yes please"),
         "r.yaml:5:13: rules[0].sticky: 'yes please' is not true or false"),
        ("unknown action", rule(action: "dorp"),
         "r.yaml:4:13: rules[0].action: 'dorp' is not an action; did you mean 'drop'? (\(Action.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"),
        ("action missing parameter", rule(action: "hold"),
         "r.yaml:4:13: rules[0].action: hold needs a time: {hold: 3s} or {hold: forever}"),
        ("action missing parameter value", rule(action: "{reset: }"),
         "r.yaml:4:21: rules[0].action.reset: expected a reset target: client, server, both, found nothing"),
        ("action extra parameter", rule(action: "{hold: 3s, jitter: 1s}"),
         "r.yaml:4:24: rules[0].action.jitter: jitter belongs to delay, not hold"),
        ("two actions", rule(action: "{drop: , duplicate: 2}"),
         "r.yaml:4:13: rules[0].action: has 'drop' and 'duplicate': a rule takes exactly one action"),
        ("parameter on drop", rule(action: "{drop: 5}"),
         "r.yaml:4:20: rules[0].action.drop: drop takes no parameter; write `action: drop`"),
        ("hold too long", rule(action: "{hold: 2h}"),
         "r.yaml:4:20: rules[0].action.hold: 2h is outside 50us-1h; use `hold: forever` to keep packets until the run ends"),
        ("jitter above delay", rule(action: "{delay: 10ms, jitter: 20ms}"),
         "r.yaml:4:35: rules[0].action.jitter: 20ms exceeds the delay 10ms: the delay would go below zero"),
        ("reset on udp", rule(match: "{protocol: udp}", action: "{reset: both}"),
         "r.yaml:4:21: rules[0].action.reset: reset needs TCP, and this rule matches udp"),
        ("bad reject kind", rule(action: "{reject: icmp-net-unreachable}"),
         "r.yaml:4:22: rules[0].action.reject: 'icmp-net-unreachable' is not a reject kind; use one of tcp-reset, icmp-port-unreachable, icmp-host-unreachable, icmp-admin-prohibited, icmp-frag-needed, icmp6-packet-too-big"),
        ("rewrite unknown field", rule(action: "{rewrite: {windw: 0}}"),
         "r.yaml:4:24: rules[0].action.rewrite.windw: unknown key 'windw'; did you mean 'window'? (allowed here: window, ttl, tos, flags, truncate)"),
        ("rewrite ttl too big", rule(action: "{rewrite: {ttl: 300}}"),
         "r.yaml:4:29: rules[0].action.rewrite.ttl: 300 is not a TTL (0-255)"),
        ("duplicate too many", rule(action: "{duplicate: 1000}"),
         "r.yaml:4:25: rules[0].action.duplicate: 1000 is not a number of extra copies (1-100)"),
        ("missing action", "rules:\n  - name: r1\n",
         "r.yaml:2:5: rules[0].action: is missing: every rule needs an action"),
        ("missing name", "rules:\n  - action: drop\n",
         "r.yaml:2:5: rules[0].name: is missing: every rule needs a name"),
        ("empty name", "rules:\n  - name: \"\"\n    action: drop\n",
         "r.yaml:2:11: rules[0].name: '' is not a rule name: 1-64 letters, digits, '.', '_' or '-'"),
        ("name with space", "rules:\n  - name: my rule\n    action: drop\n",
         "r.yaml:2:11: rules[0].name: 'my rule' is not a rule name: 1-64 letters, digits, '.', '_' or '-'"),
        ("duplicate name", "rules:\n  - name: a\n    action: drop\n  - name: a\n    action: pass\n",
         "r.yaml:4:11: rules[1].name: 'a' is already the name of rules[0]; names must be unique"),
        ("no rules key", "queue: 1\n",
         "r.yaml:1:1: rules: is missing: a rule file needs at least one rule, or filters to `observe`"),
        ("rules not a list", "rules: drop\n",
         "r.yaml:1:8: rules: expected a list of rules (a list such as [a, b]), found \"drop\""),
        ("queue out of range", "queue: 70000\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:8: queue: 70000 is not a queue number (0-65535)"),
        ("unknown hook", "hooks: [prerouting]\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:9: hooks[0]: 'prerouting' is not a hook; use one of output, input, forward"),
        ("no connection tracked", "flows: {max_tracked: 0}\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:22: flows.max_tracked: 0 is not a number of connections (1-10000000)"),
        ("unknown flow limit", "flows: {max_flows: 10}\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:9: flows.max_flows: unknown key 'max_flows' (allowed here: max_tracked, max_listed)"),
        ("unknown top-level key", "hook: [forward]\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:1: hook: unknown key 'hook'; did you mean 'hooks'? (allowed here: parameters, queue, queues, hooks, duration, seed, flows, max_held, observe, rules)"),
        ("too many queues", "queues: 17\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:9: queues: 17 is not a number of queues (1-16)"),
        ("queues past the last", "queue: 65530\nqueues: 8\nrules: [{name: a, action: drop}]\n",
         "r.yaml:2:9: queues: queues 65530-65537 go past the last queue, 65535"),
        ("nothing may be held", "max_held: 0\nrules: [{name: a, action: drop}]\n",
         "r.yaml:1:11: max_held: 0 is not a number of packets (1-1000000)"),
        ("malformed YAML", "rules:\n  - name: a\n   action: drop\n",
         "r.yaml:3:4: malformed YAML: while parsing a block collection (line 2): did not find expected '-' indicator"),
        ("unclosed flow", "rules: [{name: a, action: drop}\n",
         "r.yaml:2:1: malformed YAML: while parsing a flow sequence (line 1): did not find expected ',' or ']'"),
        ("duplicate key", "rules:\n  - name: a\n    name: b\n    action: drop\n",
         "r.yaml:2:5: malformed YAML: duplicate key 'name' in a mapping"),
        ("two documents", "rules: []\n---\nrules: []\n",
         "r.yaml:2:1: malformed YAML: expected a single document in the stream (line 1): but found another document"),
        ("empty file", "", "r.yaml: the rule file is empty"),
        ("document is a list", "- drop\n",
         "r.yaml:1:1: expected a rule file (a mapping), found a list"),
    ]

    @Test(arguments: cases)
    func refused(_ what: String, _ text: String, _ expected: String) {
        do {
            let file = try RuleFile.parse(text, name: "r.yaml")
            Issue.record("\(what): accepted, with \(file.ruleSet.rules.count) rules")
        } catch {
            #expect(error.errors.first?.description == expected, "\(what)")
        }
    }

    @Test func everyErrorIsListedNotOnlyTheFirst() throws {
        let text = """
            queue: -1
            rules:
              - name: a
                match: {server_port: 70000, sever: 1.2.3.4, probability: 2}
                action: {reset: sideways}
              - name: a
                action: drop
            """
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "rules.yaml") }
        #expect(error.errors.map(\.description) == [
            "rules.yaml:1:8: queue: -1 is not a queue number (0-65535)",
            "rules.yaml:4:26: rules[0].match.server_port: 70000 is not a port (0-65535)",
            "rules.yaml:4:33: rules[0].match.sever: unknown key 'sever'; did you mean 'server'? (allowed here: protocol, client, server, client_port, server_port, from, flags, size, options, payload, after_bytes, after, idle, nth, connection, concurrent_over, probability, correlation, tls_sni, http, dns)",
            "rules.yaml:4:62: rules[0].match.probability: 2 is not a probability (0 to 1, e.g. 0.1, or 10%)",
            "rules.yaml:5:21: rules[0].action.reset: 'sideways' is not a reset target; use one of client, server, both",
            "rules.yaml:6:11: rules[1].name: 'a' is already the name of rules[0]; names must be unique",
        ])
    }

    @Test func missingFileIsNamed() throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.load(path: "/nonexistent/rules.yaml") }
        #expect(error.description == "/nonexistent/rules.yaml: the rule file does not exist")
    }

    @Test func nonUTF8IsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-\(UInt64.random(in: 0...UInt64.max)).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x72, 0x75, 0xff, 0xfe, 0x0a]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: RuleFileError.self) { try RuleFile.load(path: path) }
        #expect(error.description == "\(path): the file is not UTF-8 text")
    }
}
