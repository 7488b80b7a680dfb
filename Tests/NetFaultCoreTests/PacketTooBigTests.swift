import Testing
@testable import NetFaultCore

/// `{reject: icmp-frag-needed | icmp6-packet-too-big, mtu: N}`: the message a router before a
/// smaller link sends, with the MTU where each family's stack reads it.
struct PacketTooBigTests {
    func decide(_ action: String, _ packet: [UInt8]) throws -> Decision {
        var driver = try EngineDriver("rules:\n  - name: a\n    action: \(action)\n")
        return driver.send(packet)
    }

    @Test func ipv4GetsFragmentationNeededWithTheNextHopMTU() throws {
        let decision = try decide("{reject: icmp-frag-needed, mtu: 1400}", PacketFixtures.ipv4TCPSyn)
        #expect(decision.verdict == .drop)
        let answer = try #require(decision.injections.first?.bytes)
        try withParsedPacket(answer) { icmp in
            #expect(icmp.transport == .icmp && icmp.icmpType == 3 && icmp.icmpCode == 4)
            #expect(icmp.bytes.loadBigEndianUInt16(at: icmp.transportOffset + 6) == 1400)
            #expect(icmp.destination.description == "192.0.2.1", "back to the sender")
            // The quoted packet: the sender's IP header and TCP ports and sequence number.
            #expect(Array(answer[28..<(28 + 28)]) == Array(PacketFixtures.ipv4TCPSyn[0..<28]))
        }
        #expect(ipv4HeaderVerifies(answer))
        #expect(try transportChecksumVerifies(answer))
    }

    @Test func ipv6GetsPacketTooBigWithTheMTU() throws {
        let decision = try decide("{reject: icmp6-packet-too-big, mtu: 1280}", PacketFixtures.ipv6TCPData)
        let answer = try #require(decision.injections.first?.bytes)
        try withParsedPacket(answer) { icmp in
            #expect(icmp.icmpType == 2 && icmp.icmpCode == 0)
            #expect(icmp.bytes.loadBigEndianUInt16(at: icmp.transportOffset + 4) == 0)
            #expect(icmp.bytes.loadBigEndianUInt16(at: icmp.transportOffset + 6) == 1280)
        }
        #expect(try transportChecksumVerifies(answer))
    }

    @Test func eitherNameAnswersEachFamilyWithItsOwnMessageAndTheMTUDefaultsTo1280() throws {
        let answer = try #require(try decide("{reject: icmp-frag-needed}", PacketFixtures.ipv6TCPData).injections.first?.bytes)
        try withParsedPacket(answer) { icmp in
            #expect(icmp.icmpType == 2)
            #expect(icmp.bytes.loadBigEndianUInt16(at: icmp.transportOffset + 6) == 1280)
        }
    }

    @Test(arguments: [
        ("{reject: tcp-reset, mtu: 1280}", "mtu: goes with icmp-frag-needed or icmp6-packet-too-big, not tcp-reset"),
        ("{reject: icmp6-packet-too-big, mtu: 1000}", "rules[0].action.mtu:"),
        ("{reject: icmp-frag-needed, mtu: 40}", "rules[0].action.mtu:"),
    ])
    func badMTUsAreNamed(_ action: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains(expected), "\(error)")
    }
}
