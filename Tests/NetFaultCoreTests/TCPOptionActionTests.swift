import Testing
@testable import NetFaultCore

/// `strip_options` and `clamp_mss` on a real SYN (MSS 1460, SACK permitted, timestamps, NOP,
/// window scale 7): only the named bytes change, the header keeps its length, checksums complete.
struct TCPOptionActionTests {
    static let syn = PacketFixtures.ipv4TCPSyn

    /// The rule file with `action` on SYNs to port 80, and its decision on the fixture SYN.
    func decide(_ action: String) throws -> Decision {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {server_port: 80, flags: [syn]}\n    action: \(action)\n")
        return driver.send(Self.syn)
    }

    func replaced(_ decision: Decision) throws -> [UInt8] {
        guard case .replace(let bytes) = decision.verdict else {
            Issue.record("not replaced: \(decision.verdict)")
            return []
        }
        return bytes
    }

    @Test func theFixtureCarriesFourOptions() throws {
        try withParsedPacket(Self.syn) { #expect($0.tcpOptionKinds == [.mss, .sackok, .timestamps, .wscale]) }
    }

    @Test func strippingWindowScaleLeavesNoOperationsInItsPlace() throws {
        let out = try replaced(try decide("{strip_options: [wscale]}"))
        #expect(out.count == Self.syn.count)
        // The window scale option (03 03 07) was the header's last three bytes.
        #expect(Array(out[57..<60]) == [1, 1, 1])
        #expect(Array(out[40..<57]) == Array(Self.syn[40..<57]), "the other options untouched")
        #expect(try transportChecksumVerifies(out) && ipv4HeaderVerifies(out))
        try withParsedPacket(out) { #expect($0.tcpOptionKinds == [.mss, .sackok, .timestamps]) }
    }

    @Test func strippingSeveralAtOnce() throws {
        let out = try replaced(try decide("{strip_options: [sackok, timestamps, unknown]}"))
        try withParsedPacket(out) { #expect($0.tcpOptionKinds == [.mss, .wscale]) }
        #expect(try transportChecksumVerifies(out))
    }

    /// The checksum of a packet queued with only its pseudo-header sum (offloaded) leaves complete.
    @Test func anOffloadedSYNLeavesWithItsChecksumComplete() throws {
        let queued = try PacketRewriteTests.offloaded(Self.syn)
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {server_port: 80}\n    action: {strip_options: [wscale]}\n")
        let out = try replaced(driver.send(queued))
        #expect(try transportChecksumVerifies(out))
    }

    @Test func aPacketWithoutTheOptionGoesAsItCame() throws {
        #expect(try decide("{strip_options: [mptcp, tfo]}").verdict == .accept)
    }

    @Test func anMSSAboveTheLimitIsLowered() throws {
        let out = try replaced(try decide("{clamp_mss: 1200}"))
        try withParsedPacket(out) { #expect($0.maximumSegmentSizeOption == 1200) }
        #expect(Array(out[44..<60]) == Array(Self.syn[44..<60]), "only the MSS changed")
        #expect(try transportChecksumVerifies(out) && ipv4HeaderVerifies(out))
    }

    @Test func anMSSWithinTheLimitIsLeftAlone() throws {
        #expect(try decide("{clamp_mss: 1460}").verdict == .accept)
        #expect(try decide("{clamp_mss: 9000}").verdict == .accept)
    }

    @Test(arguments: [
        ("{strip_options: [bogus]}", "rules[0].action.strip_options[0]: \"bogus\" is not a TCP option; use mss, wscale, sackok, sack, timestamps, mptcp, tfo, unknown"),
        ("{strip_options: []}", "rules[0].action.strip_options: names no option"),
        ("{clamp_mss: 20}", "rules[0].action.clamp_mss:"),
    ])
    func badSettingsAreNamed(_ action: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {server_port: 80}\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test(arguments: ["{strip_options: [wscale]}", "{clamp_mss: 1200}"])
    func onlyTCPHasOptions(_ action: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {protocol: udp, server_port: 53}\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains("needs TCP, and this rule matches udp"), "\(error)")
    }
}

/// `flags:` with ece and cwr: the ECN-setup SYN (RFC 3168 §6.1.1) that some firewalls drop (RFC 3360).
struct ECNFlagMatchTests {
    func decision(flags: String, packetFlags: TCPFlags) throws -> Decision {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {server_port: 80, flags: \(flags)}\n    action: drop\n")
        return driver.send(Conversation().tcp(from: .client, seq: 1, ack: 0, flags: packetFlags))
    }

    @Test func anECNSetupSYNIsMatchedByItsFlags() throws {
        #expect(try decision(flags: "[syn, ece, cwr]", packetFlags: [.syn, .ece, .cwr]).verdict == .drop)
        #expect(try decision(flags: "[syn, ece, cwr]", packetFlags: [.syn]).verdict == .accept, "a plain SYN is not")
        #expect(try decision(flags: "[syn, ece]", packetFlags: [.syn, .ece, .cwr]).verdict == .drop, "listed ones must be set")
    }

    @Test func unlistedECNFlagsAreIgnoredAsBefore() throws {
        #expect(try decision(flags: "[syn]", packetFlags: [.syn, .ece, .cwr]).verdict == .drop)
        #expect(try decision(flags: "[syn]", packetFlags: [.syn, .ack]).verdict == .accept, "the six are exact")
    }
}
