import Testing
@testable import NetFaultCore

/// `{corrupt: …}` packet by packet: the bits flipped in the payload only, the checksum kept wrong
/// or summed anew, the chance rolled like `probability`.
struct CorruptActionTests {
    var conversation = Conversation()

    /// The rule's decision on a 1 000-byte data segment (`offloaded`: as queued before the NIC
    /// would have summed it).
    mutating func corrupted(_ action: String, offloaded: Bool = false, seed: UInt64 = 1) throws -> (sent: [UInt8], out: [UInt8]?) {
        var driver = try EngineDriver("rules:\n  - name: c\n    match: {server_port: 80}\n    action: \(action)\n", seed: seed)
        let complete = conversation.data(from: .client, 1000)
        let sent = offloaded ? try PacketRewriteTests.offloaded(complete) : complete
        guard case .replace(let out) = driver.send(sent).verdict else { return (complete, nil) }
        return (complete, out)
    }

    /// The bits that differ between two packets of one length, by byte offset.
    func differences(_ a: [UInt8], _ b: [UInt8]) -> [(offset: Int, bits: Int)] {
        zip(a, b).enumerated().compactMap { $0.element.0 == $0.element.1 ? nil : ($0.offset, ($0.element.0 ^ $0.element.1).nonzeroBitCount) }
    }

    @Test mutating func keepFlipsPayloadBitsAndLeavesTheChecksumWrong() throws {
        let (sent, out) = try corrupted("{corrupt: {bits: 3, checksum: keep}}")
        let changed = differences(sent, try #require(out))
        #expect(changed.allSatisfy { $0.offset >= 40 }, "only the payload: \(changed)")
        #expect(changed.map(\.bits).reduce(0, +) <= 3 && !changed.isEmpty)
        #expect(try !transportChecksumVerifies(out!), "the receiver's stack discards it")
        #expect(ipv4HeaderVerifies(out!))
    }

    /// Queued with only the pseudo-header sum (veth, containers), `keep` still leaves a checksum
    /// that is complete for the bytes sent and wrong for those that arrive.
    @Test mutating func keepCompletesAnOffloadedChecksumFirst() throws {
        let (sent, out) = try corrupted("{corrupt: {bits: 1, checksum: keep}}", offloaded: true)
        let arrived = try #require(out)
        #expect(Array(arrived[36..<38]) == Array(sent[36..<38]), "the checksum of the bytes as sent")
        #expect(try !transportChecksumVerifies(arrived))
    }

    @Test(arguments: [false, true])
    mutating func fixSumsTheCorruptedBytesAnew(_ offloaded: Bool) throws {
        let (sent, out) = try corrupted("{corrupt: {bits: 8, checksum: fix}}", offloaded: offloaded)
        let arrived = try #require(out)
        #expect(differences(Array(sent[40...]), Array(arrived[40...])).map(\.bits).reduce(0, +) >= 1)
        #expect(try transportChecksumVerifies(arrived) && ipv4HeaderVerifies(arrived))
    }

    @Test mutating func aSegmentWithoutPayloadGoesAsItCame() throws {
        var driver = try EngineDriver("rules:\n  - name: c\n    match: {server_port: 80}\n    action: {corrupt: {bits: 1}}\n")
        #expect(driver.send(conversation.syn()).verdict == .accept)
    }

    /// 10% of 10 000 segments are corrupted; the others go on to the later rules.
    @Test mutating func theChanceIsRolledAndTheSparedGoOn() throws {
        var driver = try EngineDriver("""
            rules:
              - name: c
                match: {server_port: 80}
                action: {corrupt: {probability: 10%, checksum: fix}}
              - name: later
                match: {server_port: 80}
                action: {delay: 1ms}
            """, seed: 9)
        let verdicts = (0..<10_000).map { _ in driver.send(conversation.data(from: .client, 100)).verdict }
        let corrupted = verdicts.count { if case .replace = $0 { return true } else { return false } }
        #expect(abs(corrupted - 1000) < 100, "\(corrupted)")
        #expect(verdicts.count { $0 == .acceptAfter(.milliseconds(1)) } == 10_000 - corrupted)
    }

    @Test func aRuleSetThatCorruptsHasTheKernelCutSuperPackets() throws {
        #expect(try RuleFile.parse("rules:\n  - name: c\n    match: {server_port: 80}\n    action: {corrupt: {bits: 1}}\n", name: "t").ruleSet.needsSegments)
    }

    @Test func checkSaysWhatItDoes() throws {
        let rule = try RuleFile.parse("rules:\n  - name: c\n    match: {server_port: 80}\n    action: {corrupt: {probability: 0.1%, bits: 2, checksum: fix}}\n",
                                      name: "t").ruleSet.rules[0]
        #expect(rule.action.summary == "flip 2 bits in the payload of 0.1% of the packets, the checksum fixed (the application reads it)")
    }

    @Test(arguments: [
        ("{corrupt: {probability: 0%}}", "rules[0].action.corrupt.probability: is 0%: no packet would be corrupted"),
        ("{corrupt: {bits: 0}}", "rules[0].action.corrupt.bits: 0 is not a number of bits (1-64)"),
        ("{corrupt: {checksum: maybe}}", "rules[0].action.corrupt.checksum: 'maybe' is not a checksum choice; use one of keep, fix"),
        ("{corrupt: {bytes: 1}}", "rules[0].action.corrupt.bytes: unknown key 'bytes'"),
    ])
    func badSettingsAreRefusedWhereTheyStand(_ action: String, _ message: String) throws {
        do {
            _ = try RuleFile.parse("rules:\n  - name: c\n    match: {server_port: 80}\n    action: \(action)\n", name: "t")
            Issue.record("\(action) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
