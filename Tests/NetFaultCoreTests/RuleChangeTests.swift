import Testing
@testable import NetFaultCore

/// Rules changed while traffic flows (`Engine.replaceRules`), driven packet by packet.
struct RuleChangeTests {
    private func ruleSet(_ yaml: String) throws -> RuleSet {
        try RuleFile.parse(yaml, name: "test.yaml", requiresRules: false).ruleSet
    }

    @Test func aRuleAddedActsOnAConnectionAlreadyOpenAndARemovedOneStops() throws {
        var driver = try EngineDriver("rules: [{name: other, match: {server_port: 9}, action: drop}]")
        var web = Conversation()
        for packet in web.handshake() { #expect(driver.send(packet).verdict == .accept) }
        #expect(driver.send(web.data(from: .client)).verdict == .accept)
        driver.engine.replaceRules(with: try ruleSet("rules: [{name: cut, match: {server_port: 80, from: client}, action: drop}]"))
        let cut = driver.send(web.data(from: .client))
        #expect(cut.verdict == .drop)
        #expect(driver.engine.knownRules[try #require(cut.rule)].name == "cut")
        driver.engine.replaceRules(with: try ruleSet("rules: []"))
        #expect(driver.send(web.data(from: .client)).verdict == .accept)
        #expect(driver.engine.ruleChanges == 2)
    }

    /// An unchanged rule keeps its id, counters and `nth` count; a changed one starts over.
    @Test func anUnchangedRuleKeepsItsStateAndAChangedOneStartsOver() throws {
        let third = "{name: third, match: {server_port: 80, from: client, nth: 3}, action: drop}"
        var driver = try EngineDriver("rules: [\(third)]")
        var web = Conversation()
        for packet in web.handshake() { driver.send(packet) }
        // The handshake's SYN and ACK were the first two client packets: the next is the third.
        driver.engine.replaceRules(with: try ruleSet("rules: [{name: new, match: {server_port: 99}, action: drop}, \(third)]"))
        #expect(driver.send(web.data(from: .client)).verdict == .drop, "the nth count survived the change")
        #expect(driver.engine.ruleStatistics[0] == .init(fired: 1, connections: 1))
        let changed = "{name: third, match: {server_port: 80, from: client, nth: 2}, action: drop}"
        driver.engine.replaceRules(with: try ruleSet("rules: [\(changed)]"))
        #expect(driver.send(web.data(from: .client)).verdict == .accept, "a changed rule counts from its arrival: packet 1")
        let second = driver.send(web.data(from: .client))
        #expect(second.verdict == .drop)
        #expect(second.rule == 2, "the changed rule is a new entry: third (0), new (1), third changed (2)")
        #expect(driver.engine.knownRules.map(\.name) == ["third", "new", "third"])
    }

    @Test func aStickyLatchFollowsItsRuleAndEndsWithIt() throws {
        let forget = "{name: forget, match: {server_port: 80, idle: 5s}, action: drop, sticky: true}"
        var driver = try EngineDriver("rules: [\(forget)]")
        var web = Conversation()
        for packet in web.handshake() { driver.send(packet) }
        #expect(driver.send(web.data(from: .client), at: 6000).verdict == .drop)
        driver.engine.replaceRules(with: try ruleSet("rules: [{name: first, match: {server_port: 7}, action: drop}, \(forget)]"))
        #expect(driver.send(web.data(from: .client), at: 6001).verdict == .drop, "latched, though the rule moved to index 1")
        driver.engine.replaceRules(with: try ruleSet("rules: [{name: first, match: {server_port: 7}, action: drop}]"))
        #expect(driver.send(web.data(from: .client), at: 6002).verdict == .accept, "the latch went with its rule")
    }

    /// A rule removed and added back unchanged is a new rule: it counts from its arrival.
    @Test func aRuleRemovedAndAddedBackCountsAgain() throws {
        let refuse = "{name: syn, match: {server_port: 80, flags: [syn]}, action: drop}"
        var driver = try EngineDriver("rules: [\(refuse)]")
        var a = Conversation(client: "198.18.1.2:40000")
        driver.send(a.syn())
        driver.engine.replaceRules(with: try ruleSet("rules: []"))
        driver.engine.replaceRules(with: try ruleSet("rules: [\(refuse)]"))
        var b = Conversation(client: "198.18.1.2:40001")
        let decision = driver.send(b.syn())
        #expect(decision.verdict == .drop && decision.rule == 1)
        #expect(driver.engine.ruleStatistics == [.init(fired: 1, connections: 1), .init(fired: 1, connections: 1)])
        #expect(driver.engine.ruleID(named: "syn") == 1)
    }

    /// Connections already open are none of a new `connection:` rule's ordinals; those that
    /// open after it are counted from 1.
    @Test func aNewConnectionRuleCountsFromItsArrival() throws {
        var driver = try EngineDriver("rules: [{name: other, match: {server_port: 9}, action: drop}]")
        var before = Conversation(client: "198.18.1.2:40000")
        driver.send(before.syn())
        driver.engine.replaceRules(with: try ruleSet("rules: [{name: second, match: {server_port: 80, connection: 2}, action: drop}]"))
        #expect(driver.send(before.synAck()).verdict == .accept)
        var first = Conversation(client: "198.18.1.2:40001")
        var second = Conversation(client: "198.18.1.2:40002")
        #expect(driver.send(first.syn()).verdict == .accept)
        #expect(driver.send(second.syn()).verdict == .drop)
    }

    @Test func aDisabledRuleStopsAndKeepsItsCountersWhenEnabledAgain() throws {
        var driver = try EngineDriver("rules: [{name: syn, match: {server_port: 80, flags: [syn]}, action: drop}]")
        var a = Conversation(client: "198.18.1.2:40000")
        #expect(driver.send(a.syn()).verdict == .drop)
        var disabled = try ruleSet("rules: [{name: syn, match: {server_port: 80, flags: [syn]}, action: drop, enabled: false}]")
        driver.engine.replaceRules(with: disabled)
        var b = Conversation(client: "198.18.1.2:40001")
        #expect(driver.send(b.syn()).verdict == .accept)
        disabled.rules[0].enabled = true
        driver.engine.replaceRules(with: disabled)
        var c = Conversation(client: "198.18.1.2:40002")
        #expect(driver.send(c.syn()).verdict == .drop)
        #expect(driver.engine.ruleStatistics == [.init(fired: 2, connections: 2)])
    }

    /// A report since a mark lists the connections first seen after it and the counts since.
    @Test func aSegmentReportCountsFromItsMark() throws {
        var driver = try EngineDriver("rules: [{name: refuse, match: {server_port: 80, flags: [syn]}, action: {reject: tcp-reset}}]")
        var early = Conversation(client: "198.18.1.2:40000")
        driver.send(early.syn(), at: 1)
        let mark = driver.engine.mark("test_two", at: .milliseconds(5))
        var late = Conversation(client: "198.18.1.2:40001")
        driver.send(late.syn(), at: 6)
        let report = RunReport(engine: driver.engine, ruleFile: "test.yaml", stopReason: RunReport.running, startedAt: "",
                               start: .zero, end: .milliseconds(10), queue: .init(), since: mark)
        #expect(report.since == "test_two")
        #expect(report.connections.map(\.client.port) == [40001])
        #expect(report.connections.first?.outcome == .refused)
        #expect(report.rules.map(\.fired) == [1])
        #expect(report.rules.map(\.connections) == [1])
        let whole = RunReport(engine: driver.engine, ruleFile: "test.yaml", stopReason: RunReport.running, startedAt: "",
                              start: .zero, end: .milliseconds(10), queue: .init())
        #expect(whole.connections.count == 2)
        #expect(whole.rules.map(\.fired) == [2])
        #expect(whole.text().hasPrefix("netfault running for"))
    }

    /// A removed rule that acted is still named in the report; one that never acted is gone.
    @Test func theReportNamesARemovedRuleThatActed() throws {
        var driver = try EngineDriver("rules: [{name: gone, match: {server_port: 80, flags: [syn]}, action: drop}, {name: idle, match: {server_port: 7}, action: drop}]")
        var web = Conversation()
        driver.send(web.syn())
        driver.engine.replaceRules(with: try ruleSet("rules: []"))
        let report = RunReport(engine: driver.engine, ruleFile: "x", stopReason: "interrupted", startedAt: "", start: .zero,
                               end: .milliseconds(1), queue: .init())
        #expect(report.rules.map(\.name) == ["gone"])
        #expect(report.connections.first?.faults.map(\.rule) == ["gone"])
    }

    /// The retired connections listed are the latest ones: a long-running netfault's report still
    /// lists what its newest test cases did.
    @Test func theRetiredListKeepsTheLatestConnections() throws {
        var configuration = Engine.Configuration()
        configuration.retainedFlows = 2
        var driver = try EngineDriver("rules: [{name: refuse, match: {server_port: 80, flags: [syn]}, action: {reject: tcp-reset}}]",
                                      configuration: configuration)
        for index in 0..<5 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)")
            driver.send(conversation.syn(), at: Int64(index) * 20_000)
        }
        driver.engine.expire(at: .seconds(200))
        #expect(driver.engine.retiredFlows.map(\.flow.client.port) == [40003, 40004])
        #expect(driver.engine.unlistedOutcomes == [.refused: 3])
    }
}
