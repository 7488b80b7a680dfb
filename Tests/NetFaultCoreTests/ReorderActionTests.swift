import Testing
@testable import NetFaultCore

/// `{reorder: …}` packet by packet: the chosen packet leaves the stream and is sent again after
/// `gap` later packets of its connection, or after its timeout.
struct ReorderActionTests {
    var conversation = Conversation()

    static func rules(_ match: String, _ setting: String) -> String {
        "rules:\n  - name: r\n    match: \(match)\n    action: {reorder: \(setting)}\n"
    }

    /// The second data segment (the client's fourth packet, after SYN and ACK) comes again with
    /// the fifth: after the third, fourth and fifth.
    @Test mutating func theChosenPacketGoesAfterTheGap() throws {
        var driver = try EngineDriver(Self.rules("{server_port: 80, from: client, nth: 4}", "{gap: 3}"))
        _ = conversation.handshake().map { driver.send($0) }
        let segments = (0..<6).map { _ in conversation.data(from: .client, 100) }
        let decisions = segments.map { driver.send($0) }
        #expect(decisions.map(\.verdict) == [.accept, .drop, .accept, .accept, .accept, .accept])
        #expect(decisions.enumerated().allSatisfy { $0.offset == 4 || !$0.element.hasInjections })
        let sent = try #require(decisions[4].injections.first)
        #expect(sent.toward == .server && sent.bytes == segments[1] && decisions[4].injections.count == 1)
        #expect(try transportChecksumVerifies(sent.bytes))
        #expect(driver.engine.reorderPending.isEmpty)
    }

    /// A connection that falls silent: the packet goes after its timeout, with any packet netfault handles.
    @Test mutating func aSilentConnectionGetsItsPacketAfterTheTimeout() throws {
        var driver = try EngineDriver(Self.rules("{server_port: 80, from: client, nth: 1}", "{gap: 5, timeout: 200ms}"))
        let taken = conversation.data(from: .client, 100)
        #expect(driver.send(taken, at: 0).verdict == .drop)
        var other = Conversation(client: "198.18.1.9:40001")
        #expect(!driver.send(other.data(from: .client, 10), at: 150).hasInjections)
        let late = driver.send(other.data(from: .client, 10), at: 201)
        #expect(late.injections.map(\.bytes) == [taken])
    }

    /// A quarter of the packets are taken out; the others go on to the later rules.
    @Test mutating func theChanceIsRolledAndTheSparedGoOn() throws {
        var driver = try EngineDriver("""
            seed: 3
            rules:
              - name: r
                match: {server_port: 80}
                action: {reorder: {probability: 25%, gap: 2}}
              - name: later
                match: {server_port: 80}
                action: {delay: 1ms}
            """)
        let decisions = (0..<8000).map { _ in driver.send(conversation.data(from: .client, 10)) }
        let taken = decisions.count { $0.verdict == .drop }
        #expect(abs(taken - 2000) < 150, "\(taken)")
        #expect(decisions.count { $0.verdict == .acceptAfter(.milliseconds(1)) } == 8000 - taken)
        #expect(decisions.map(\.injections.count).reduce(0, +) >= taken - 2, "every taken packet sent again")
    }

    @Test func checkSaysWhatItDoes() throws {
        let rule = try RuleFile.parse(Self.rules("{server_port: 80}", "{probability: 5%, gap: 4}"), name: "t").ruleSet.rules[0]
        #expect(rule.action.summary == "send 5% of the packets again after 4 later packets of the connection (at most 1s later)")
    }

    @Test(arguments: [
        ("{probability: 0%}", "rules[0].action.reorder.probability: is 0%: no packet would be reordered"),
        ("{gap: 0}", "rules[0].action.reorder.gap: 0 is not a packet count (1-1000)"),
        ("{gap: 2, after: 3}", "rules[0].action.reorder.after: unknown key 'after'"),
    ])
    func badSettingsAreRefusedWhereTheyStand(_ setting: String, _ message: String) throws {
        do {
            _ = try RuleFile.parse(Self.rules("{server_port: 80}", setting), name: "t")
            Issue.record("\(setting) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
