import Testing
@testable import NetFaultCore

/// The rule language as the issue writes it: every example parses to what it says.
struct RuleFileTests {
    static let fullExample = """
        queue: 3
        hooks: [forward]
        duration: 30s
        seed: 42
        rules:
          - name: server-crash
            match:
              protocol: tcp
              client: 198.18.1.0/24
              server: 198.18.2.2
              client_port: 40000-60000
              server_port: 8080
              from: server
              flags: [syn, ack]
              payload: "EICAR"
              after_bytes: 700KiB
              after: 2s
              idle: 10s
              nth: 3
              connection: "3"
              concurrent_over: 10
              probability: 0.1
            action: drop
        """

    @Test func fullExampleParsesEveryField() throws {
        let file = try RuleFile.parse(Self.fullExample, name: "rules.yaml")
        let set = file.ruleSet
        #expect(set.queue == 3)
        #expect(set.hooks == [.forward])
        #expect(set.duration == .seconds(30))
        #expect(set.seed == 42)
        #expect(set.rules.count == 1)
        let match = set.rules[0].match
        #expect(set.rules[0].name == "server-crash")
        #expect(match.transport == .tcp)
        #expect(match.client == (try CIDR(parsing: "198.18.1.0/24")))
        #expect(match.server?.description == "198.18.2.2")
        #expect(match.clientPort == PortRange(40000, 60000))
        #expect(match.serverPort == PortRange(8080))
        #expect(match.from == .server)
        #expect(match.flags == [.syn, .ack])
        #expect(match.payload == Array("EICAR".utf8))
        #expect(match.afterBytes == 700 * 1024)
        #expect(match.after == .seconds(2))
        #expect(match.idle == .seconds(10))
        #expect(match.nth == 3)
        #expect(match.connection == ConnectionRange(3, 3))
        #expect(match.concurrentOver == 10)
        #expect(match.probability == 0.1)
        #expect(set.rules[0].action == .drop(.init()))
        #expect(file.warnings.isEmpty)
    }

    /// Only rules that read or rebuild payload make the queue copy whole packets.
    @Test(arguments: [("{drop: }", false), ("{reset: both}", false), ("{hold: 1s}", false), ("{reject: tcp-reset}", false),
                      ("{rewrite: {window: 0}}", true), ("{duplicate: 1}", true)])
    func wholePacketsAreNeededOnlyForPayload(_ action: String, _ needed: Bool) throws {
        let yaml = "rules:\n  - {name: a, match: {server_port: 1}, action: \(action == "{drop: }" ? "drop" : action)}\n"
        #expect(try RuleFile.parse(yaml, name: "r.yaml").ruleSet.needsWholePackets == needed)
        let withPayload = "rules:\n  - {name: a, match: {payload: \"EICAR\"}, action: drop}\n"
        #expect(try RuleFile.parse(withPayload, name: "r.yaml").ruleSet.needsWholePackets)
    }

    /// Only `hold` and `delay` keep packets back, so only they need the parking queue.
    @Test(arguments: [("drop", false), ("{reset: both}", false), ("{hold: 1s}", true), ("{hold: forever}", true),
                      ("{delay: 5ms}", true), ("{reject: tcp-reset}", false)])
    func onlyHoldsAndDelaysHold(_ action: String, _ holds: Bool) throws {
        let yaml = "max_held: 50000\nrules:\n  - {name: a, match: {server_port: 1}, action: \(action)}\n"
        let ruleSet = try RuleFile.parse(yaml, name: "r.yaml").ruleSet
        #expect(ruleSet.canHold == holds)
        #expect(ruleSet.maxHeld == 50_000)
    }

    @Test func defaults() throws {
        let set = try RuleFile.parse("rules:\n  - name: a\n    action: drop\n", name: "r.yaml").ruleSet
        #expect(set.queue == 0)
        #expect(set.hooks == [.output, .input])
        #expect(set.duration == nil)
        #expect(set.seed == nil)
        #expect(set.flows == FlowLimits(maxTracked: 262_144, maxListed: 100_000))
        #expect(set.maxHeld == 65_536)
        #expect(set.queues == 1)
        #expect(set.rules[0].match.transport == .tcp)
        #expect(set.rules[0].match.isUnconditional)
    }

    static let actions: [(String, Action)] = [
        ("pass", .pass(.init())),
        ("drop", .drop(.init())),
        ("{hold: 3s}", .hold(.init(.seconds(3)))),
        ("{hold: forever}", .hold(.init(nil))),
        ("{delay: 100ms, jitter: 20ms}", .delay(.init(.milliseconds(100), jitter: .milliseconds(20)))),
        ("{delay: 1.5s}", .delay(.init(.milliseconds(1500)))),
        ("{reset: client}", .reset(.init(.client))),
        ("{reset: server}", .reset(.init(.server))),
        ("{reset: both}", .reset(.init(.both))),
        ("{reject: tcp-reset}", .reject(.init(.tcpReset))),
        ("{reject: icmp-port-unreachable}", .reject(.init(.icmpPortUnreachable))),
        ("{reject: icmp-host-unreachable}", .reject(.init(.icmpHostUnreachable))),
        ("{reject: icmp-admin-prohibited}", .reject(.init(.icmpAdminProhibited))),
        ("{rewrite: {window: 0, ttl: 1, tos: 4, flags: [ack, psh], truncate: 100}}",
         .rewrite(.init(HeaderRewrite(window: 0, ttl: 1, tos: 4, flags: [.ack, .psh], truncate: 100)))),
        ("{duplicate: 2}", .duplicate(.init(2))),
    ]

    @Test(arguments: actions)
    func actionParses(_ text: String, _ expected: Action) throws {
        let set = try RuleFile.parse("rules:\n  - name: a\n    action: \(text)\n", name: "r.yaml").ruleSet
        #expect(set.rules[0].action == expected)
    }

    static let sizes: [(String, UInt64)] = [
        ("100B", 100), ("100", 100), ("2KB", 2000), ("2KiB", 2048), ("700KiB", 716_800), ("1.5MB", 1_500_000),
        ("1MiB", 1_048_576), ("1GB", 1_000_000_000), ("2GiB", 2_147_483_648),
    ]

    @Test(arguments: sizes)
    func sizeUnits(_ text: String, _ bytes: UInt64) {
        #expect(Units.size(text) == bytes)
    }

    static let durations: [(String, Duration)] = [
        ("250ms", .milliseconds(250)), ("3s", .seconds(3)), ("1.5s", .milliseconds(1500)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("250us", .microseconds(250)), ("50µs", .microseconds(50)), ("0.5ms", .microseconds(500)), ("1.5us", .nanoseconds(1500)),
    ]

    @Test(arguments: [(Duration.microseconds(250), "250us"), (.microseconds(1500), "1500us"), (.nanoseconds(1500), "1.5us"), (.milliseconds(2), "2ms")])
    func durationsAreWrittenBackInTheirUnit(_ duration: Duration, _ text: String) {
        #expect(duration.ruleText == text)
        #expect(Units.duration(text) == duration)
    }

    /// Holds and delays go down to 50 µs: the queue threads wait on a nanosecond timer.
    @Test func holdsAndDelaysTakeMicroseconds() throws {
        let yaml = "rules:\n  - name: a\n    match: {server_port: 80}\n    action: {delay: 250us, jitter: 20us}\n"
        let rule = try RuleFile.parse(yaml, name: "r.yaml").ruleSet.rules[0]
        #expect(rule.action == .delay(Action.Delay(.microseconds(250), jitter: .microseconds(20))))
        #expect(rule.summary.contains("250us"), "\(rule.summary)")
        #expect(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {server_port: 80}\n    action: {hold: 40us}\n", name: "r.yaml")
        }
        #expect(try RuleFile.parse("rules:\n  - name: a\n    match: {server_port: 80}\n    action: {hold: 50us}\n", name: "r.yaml")
            .ruleSet.rules[0].action == .hold(Action.Hold(.microseconds(50))))
    }

    @Test(arguments: durations)
    func durationUnits(_ text: String, _ duration: Duration) {
        #expect(Units.duration(text) == duration)
    }

    @Test(arguments: ["30", "3 sec", "-1s", "1e3s", "s", "nan s", ""])
    func badDurations(_ text: String) {
        #expect(Units.duration(text) == nil)
    }

    static let connectionRanges: [(String, ConnectionRange)] = [
        ("\"3\"", ConnectionRange(3, 3)), ("3", ConnectionRange(3, 3)), ("\"2-4\"", ConnectionRange(2, 4)), ("\"11-\"", ConnectionRange(11, nil)),
    ]

    @Test(arguments: connectionRanges)
    func connectionRangeForms(_ text: String, _ range: ConnectionRange) throws {
        let yaml = "rules:\n  - name: a\n    match: {connection: \(text)}\n    action: drop\n"
        #expect(try RuleFile.parse(yaml, name: "r.yaml").ruleSet.rules[0].match.connection == range)
    }

    @Test func payloadHex() throws {
        let yaml = "rules:\n  - name: a\n    match: {payload: \"hex:0d0a0D0A\"}\n    action: drop\n"
        #expect(try RuleFile.parse(yaml, name: "r.yaml").ruleSet.rules[0].match.payload == [0x0d, 0x0a, 0x0d, 0x0a])
    }

    @Test func ipv6AddressesAndUDP() throws {
        let yaml = """
            rules:
              - name: dns-loss
                match: {protocol: udp, client: "2001:db8:1::/48", server: "2001:db8:2::53", server_port: 53}
                action: drop
            """
        let match = try RuleFile.parse(yaml, name: "r.yaml").ruleSet.rules[0].match
        #expect(match.transport == .udp)
        #expect(match.client?.description == "2001:db8:1::/48")
        #expect(match.server?.description == "2001:db8:2::53")
    }

    @Test func hostBitsAreAWarningNotAnError() throws {
        let yaml = "rules:\n  - name: a\n    match: {client: 198.18.1.7/24}\n    action: drop\n"
        let file = try RuleFile.parse(yaml, name: "r.yaml")
        #expect(file.ruleSet.rules[0].match.client?.description == "198.18.1.0/24")
        #expect(file.warnings.map(\.description) == [
            "r.yaml:3:21: warning: rules[0].match.client: 198.18.1.7/24 has host bits set; it matches 198.18.1.0/24 (did you mean 198.18.1.0?)",
        ])
    }

    @Test func shadowedRuleIsAWarning() throws {
        let yaml = "rules:\n  - name: everything\n    action: drop\n  - name: never\n    match: {server_port: 80}\n    action: pass\n"
        let file = try RuleFile.parse(yaml, name: "r.yaml")
        #expect(file.warnings.map(\.description) == [
            "r.yaml:4:5: warning: rules[1]: can never act: rules[0] ('everything') matches every tcp packet before it",
        ])
    }
}
