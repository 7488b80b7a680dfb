import Testing
@testable import NetFaultCore

/// `{slice: {size: 64}}`: the same bytes, in order, in segments of at most 64.
struct SliceActionTests {
    @Test func aSegmentBecomesContiguousPiecesWithTheLastCarryingPSH() throws {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {server_port: 80, from: client}\n    action: {slice: {size: 64}}\n")
        var conversation = Conversation()
        driver.send(conversation.syn())
        let payload = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let original = conversation.data(from: .client, payload: payload)
        let decision = driver.send(original)
        #expect(decision.verdict == .drop)
        #expect(decision.injections.count == 16)
        let firstSequence = parsed(original) { $0.sequenceNumber }
        var expected = firstSequence
        var received: [UInt8] = []
        for (index, injection) in decision.injections.enumerated() {
            #expect(injection.toward == .server)
            try withParsedPacket(injection.bytes) { piece in
                #expect(piece.sequenceNumber == expected)
                #expect(piece.payloadLength <= 64)
                #expect(piece.tcpFlags.contains(.psh) == (index == 15))
                expected &+= UInt32(piece.payloadLength)
                received += piece.payload
            }
            #expect(try transportChecksumVerifies(injection.bytes))
        }
        #expect(received == payload)
    }

    @Test func aShortSegmentGoesAsItCame() throws {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {server_port: 80}\n    action: {slice: {size: 64}}\n")
        var conversation = Conversation()
        driver.send(conversation.syn())
        #expect(driver.send(conversation.data(from: .client, 64)).verdict == .accept)
    }

    @Test(arguments: [("{slice: {}}", "needs size"), ("{slice: {size: 0}}", "rules[0].action.slice.size:"), ("{slice: {sise: 4}}", "unknown key")])
    func badSettingsAreNamed(_ action: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains(expected), "\(error)")
    }
}
