import Testing
@testable import NetFaultCore

/// `{shift_seq: random | N}` packet by packet: the client's sequence numbers shifted toward the
/// server, the server's acknowledgments shifted back, SACK blocks left as they were, checksums
/// complete; the offset per connection, from the seed, and gone with its flow.
struct ShiftSeqActionTests {
    static func rules(_ setting: String, extra: String = "") -> String {
        "rules:\n\(extra)  - name: asa\n    match: {server_port: 80}\n    action: {shift_seq: \(setting)}\n"
    }

    /// The bytes a `replace` verdict lets through; records an issue for any other verdict.
    func replaced(_ decision: Decision) -> [UInt8] {
        guard case .replace(let bytes) = decision.verdict else {
            Issue.record("not replaced: \(decision.verdict)")
            return []
        }
        return bytes
    }

    func fields(_ bytes: [UInt8]) -> (seq: UInt32, ack: UInt32) { parsed(bytes) { ($0.sequenceNumber, $0.acknowledgmentNumber) } }

    func checksumsVerify(_ bytes: [UInt8]) throws -> Bool {
        try transportChecksumVerifies(bytes) && (bytes[0] >> 4 == 6 || ipv4HeaderVerifies(bytes))
    }

    /// A whole handshake and a data exchange, both ways, over IPv4 and IPv6; the offset wraps
    /// around 2^32 where the client's ISN is near its top.
    @Test(arguments: [("198.18.1.2:40000", "198.18.2.2:80"), ("[2001:db8:1::2]:40000", "[2001:db8:2::2]:80")],
          [UInt32(1000), 0xFFFF_FF00])
    func bothDirectionsAreShifted(_ ends: (String, String), _ clientISN: UInt32) throws {
        let offset: UInt32 = 0x0000_0200
        var driver = try EngineDriver(Self.rules("\(offset)"))
        var conversation = Conversation(client: ends.0, server: ends.1, clientISN: clientISN)
        // Client → server: seq + offset (the SYN included), ack untouched.
        let syn = replaced(driver.send(conversation.syn()))
        #expect(fields(syn).seq == clientISN &+ offset)
        #expect(try checksumsVerify(syn))
        // Server → client: what the server acknowledges is the shifted ISN + 1; it reaches the
        // client as the client's own.
        let synAck = conversation.tcp(from: .server, seq: 900_000, ack: clientISN &+ 1 &+ offset, flags: [.syn, .ack])
        conversation.serverNext = 900_001
        let synAckOut = replaced(driver.send(synAck))
        #expect(fields(synAckOut) == (900_000, clientISN &+ 1))
        #expect(try checksumsVerify(synAckOut))
        let ack = replaced(driver.send(conversation.ack()))
        #expect(fields(ack) == (clientISN &+ 1 &+ offset, 900_001))
        let data = replaced(driver.send(conversation.data(from: .client, 1000)))
        #expect(fields(data).seq == clientISN &+ 1 &+ offset)
        #expect(parsed(data) { Array($0.payload) } == Array(repeating: UInt8(ascii: "x"), count: 1000), "the payload as it was")
        #expect(try checksumsVerify(data))
        let serverAck = conversation.tcp(from: .server, seq: 900_001, ack: clientISN &+ 1001 &+ offset, flags: [.ack])
        let serverAckOut = replaced(driver.send(serverAck))
        #expect(fields(serverAckOut) == (900_001, clientISN &+ 1001))
        #expect(try checksumsVerify(serverAckOut))
        // The report counts in the client's own numbers: the 1000 bytes reached the server.
        #expect(driver.onlyFlow?.fromClient.payloadBytes == 1000)
        #expect(driver.onlyFlow?.fromClient.acknowledgedThrough == clientISN &+ 1001, "the server's ACK taken in the client's numbers")
        #expect(driver.onlyFlow?.fromServer.lastAcknowledgment == clientISN &+ 1001)
        #expect(driver.onlyFlow?.sequenceShift == offset)
    }

    /// The server's SACK blocks name the shifted numbers it received; the ASA passes them on as
    /// they are, so they reach the client off by the offset, while the ACK field is brought back.
    @Test func sackBlocksAreLeftAsTheyAre() throws {
        let offset: UInt32 = 5_000_000
        var driver = try EngineDriver(Self.rules("\(offset)"))
        var conversation = Conversation()
        driver.send(conversation.syn())
        let left = 2001 &+ offset, right = 3001 &+ offset
        // NOP, NOP, SACK (kind 5, length 10) with one block.
        var sack: [UInt8] = [1, 1, 5, 10]
        for edge in [left, right] { sack += [UInt8(edge >> 24), UInt8((edge >> 16) & 0xff), UInt8((edge >> 8) & 0xff), UInt8(edge & 0xff)] }
        let packet = try Self.withOptions(conversation.tcp(from: .server, seq: 900_001, ack: 1001 &+ offset, flags: [.ack]), sack)
        #expect(try transportChecksumVerifies(packet))
        let out = replaced(driver.send(packet))
        #expect(fields(out).ack == 1001)
        #expect(Array(out[40..<52]) == sack, "the SACK block untouched: \(Array(out[40..<52]))")
        #expect(try checksumsVerify(out))
    }

    /// A packet queued with only its pseudo-header sum (offloaded) leaves with a complete checksum.
    @Test func anOffloadedSegmentLeavesWithItsChecksumComplete() throws {
        var driver = try EngineDriver(Self.rules("77"))
        var conversation = Conversation()
        driver.send(conversation.syn())
        let out = replaced(driver.send(try PacketRewriteTests.offloaded(conversation.data(from: .client, 1400))))
        #expect(try transportChecksumVerifies(out))
    }

    /// `random`: each connection its own offset, never 0, the same for the same seed and packets.
    @Test func randomOffsetsRepeatWithTheSeed() throws {
        func offsets(seed: UInt64) throws -> [UInt32] {
            var driver = try EngineDriver(Self.rules("random"), seed: seed)
            var offsets: [UInt32] = []
            for port in 40_000..<40_004 {
                var conversation = Conversation(client: "198.18.1.2:\(port)")
                let syn = conversation.syn()
                let out = replaced(driver.send(syn))
                offsets.append(fields(out).seq &- fields(syn).seq)
                // A retransmitted SYN keeps the connection's offset.
                #expect(fields(replaced(driver.send(conversation.synAgain()))).seq == fields(out).seq)
            }
            return offsets
        }
        let first = try offsets(seed: 42)
        #expect(try offsets(seed: 42) == first)
        #expect(try offsets(seed: 43) != first)
        #expect(Set(first).count == 4 && !first.contains(0), "\(first)")
    }

    /// The offset lives in the flow: a slot freed by eviction and taken by another connection
    /// starts without it. The evicted connection's later packets are a connection seen
    /// mid-stream, which `shift_seq` leaves alone; the new one draws its own offset.
    @Test func aReusedSlotStartsWithoutTheOldOffset() throws {
        var driver = try EngineDriver("flows: {max_tracked: 1}\n" + Self.rules("random"), seed: 9)
        var first = Conversation(client: "198.18.1.2:40000")
        let firstSYN = first.syn()
        let firstOffset = fields(replaced(driver.send(firstSYN, at: 0))).seq &- fields(firstSYN).seq
        var second = Conversation(client: "198.18.1.2:40001")
        let secondSYN = second.syn()
        let secondOut = replaced(driver.send(secondSYN, at: 10))
        #expect(driver.engine.statistics.flowsEvicted == 1)
        #expect(fields(secondOut).seq &- fields(secondSYN).seq != firstOffset)
        // The first connection's data now finds a new flow in the slot, with no offset.
        #expect(driver.send(first.data(from: .client), at: 20).verdict == .accept)
        #expect(driver.onlyFlow?.sequenceShift == 0)
    }

    /// A connection whose SYN the rule did not see (open before netfault) is not shifted: that
    /// would break it.
    @Test func aConnectionSeenMidStreamIsLeftAlone() throws {
        var driver = try EngineDriver(Self.rules("random"))
        var conversation = Conversation()
        _ = conversation.syn()
        #expect(driver.send(conversation.data(from: .client)).verdict == .accept)
        #expect(driver.send(conversation.data(from: .server)).verdict == .accept)
    }

    /// netfault's own RSTs on a shifted connection carry the numbers each receiver expects.
    @Test func aResetOnAShiftedConnectionTakesTheShiftIntoAccount() throws {
        let crash = "  - name: crash\n    match: {server_port: 80, payload: \"crash\"}\n    action: {reset: both}\n"
        var driver = try EngineDriver(Self.rules("1000", extra: crash))
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        let trigger = conversation.data(from: .client, payload: Array("crash".utf8))
        let decision = driver.send(trigger)
        let toServer = try #require(decision.injections.first { $0.toward == .server })
        #expect(fields(toServer.bytes).seq == fields(trigger).seq &+ 1000)
        let toClient = try #require(decision.injections.first { $0.toward == .client })
        #expect(fields(toClient.bytes).seq == fields(trigger).ack)
    }

    /// `clear_options` beside it: the ASA's normalizer in the same rule. The SYN is shifted and
    /// loses its unknown options (here kind 253, an experiment), keeping MSS and SACK permitted.
    @Test func clearOptionsBesideItStripsTheSameRulesPackets() throws {
        var driver = try EngineDriver("rules:\n  - name: asa\n    match: {server_port: 80}\n    action: {shift_seq: 10, clear_options: [unknown, mptcp, tfo]}\n")
        var conversation = Conversation()
        let options: [UInt8] = [2, 4, 0x05, 0xb4, 4, 2, 253, 4, 0xab, 0xcd]
        let syn = try Self.withOptions(conversation.syn(), options + [0, 0])
        let out = replaced(driver.send(syn))
        #expect(fields(out).seq == 1010)
        try withParsedPacket(out) { #expect($0.tcpOptionKinds == [.mss, .sackok]) }
        #expect(try checksumsVerify(out))
    }

    @Test(arguments: [
        ("{shift_seq: 0}", "rules[0].action.shift_seq: 0 is not an offset or random (1-4294967295)"),
        ("{shift_seq: 4294967296}", "rules[0].action.shift_seq:"),
        ("{shift_seq: sometimes}", "is not an offset or random"),
        ("{shift_seq: random, clear_options: [bogus]}", "rules[0].action.clear_options[0]: \"bogus\" is not a TCP option"),
        ("shift_seq", "shift_seq needs an offset"),
    ])
    func badSettingsAreNamed(_ action: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {server_port: 80}\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func onlyTCPHasSequenceNumbers() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {protocol: udp}\n    action: {shift_seq: random}\n", name: "r.yaml")
        }
        #expect(error.description.contains("needs TCP"), "\(error)")
    }

    /// `packet` (TCP without options) with `options` (a multiple of 4 bytes) between its header and
    /// payload, lengths and checksums made right.
    static func withOptions(_ packet: [UInt8], _ options: [UInt8]) throws -> [UInt8] {
        precondition(options.count % 4 == 0, "options fill whole words")
        return try withParsedPacket(packet) { parsed in
            let tcp = parsed.transportOffset
            var bytes = Array(packet[0..<(tcp + 20)]) + options + Array(packet[(tcp + 20)...])
            bytes[tcp + 12] = UInt8((20 + options.count) / 4) << 4
            bytes[tcp + 16] = 0
            bytes[tcp + 17] = 0
            if parsed.family == .v4 {
                let total = UInt16(bytes.count)
                bytes[2] = UInt8(total >> 8)
                bytes[3] = UInt8(total & 0xff)
                bytes[10] = 0
                bytes[11] = 0
                let header = bytes.withUnsafeBytes { internetChecksum(UnsafeRawBufferPointer(rebasing: $0[0..<tcp])) }
                bytes[10] = UInt8(header >> 8)
                bytes[11] = UInt8(header & 0xff)
            } else {
                let payload = UInt16(bytes.count - 40)
                bytes[4] = UInt8(payload >> 8)
                bytes[5] = UInt8(payload & 0xff)
            }
            let pseudo = pseudoHeaderSum(source: parsed.source, destination: parsed.destination, protocolNumber: 6, length: bytes.count - tcp)
            let checksum = bytes.withUnsafeBytes { foldedChecksum(onesComplementSum(UnsafeRawBufferPointer(rebasing: $0[tcp...]), initial: pseudo)) }
            bytes[tcp + 16] = UInt8(checksum >> 8)
            bytes[tcp + 17] = UInt8(checksum & 0xff)
            return bytes
        }
    }
}
