import Testing
@testable import NetFaultCore

/// Cutting a GSO super-packet into wire-sized segments, for copies sent through a raw socket.
struct PacketSegmentTests {
    static func superPacket(_ family: IPAddress.Family, payload: Int, flags: TCPFlags = [.ack, .psh, .fin]) -> [UInt8] {
        let (source, destination) = family == .v4 ? ("198.18.2.2", "198.18.1.2") : ("2001:db8:2::2", "2001:db8:1::2")
        return PacketBuilder.tcp(source: IPAddress(source)!, destination: IPAddress(destination)!, sourcePort: 80, destinationPort: 40000,
                                 sequence: 0xffff_ff00, acknowledgment: 7, flags: flags,
                                 payload: (0..<payload).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test(arguments: [IPAddress.Family.v4, .v6])
    func piecesCarryConsecutiveDataWithValidHeaders(_ family: IPAddress.Family) throws {
        let original = Self.superPacket(family, payload: 3000)
        let pieces = parsed(original) { $0.segmented(maxPayload: 1400) }
        #expect(pieces.count == 3)
        var reassembled: [UInt8] = []
        for (index, piece) in pieces.enumerated() {
            #expect(try transportChecksumVerifies(piece))
            if family == .v4 { #expect(ipv4HeaderVerifies(piece)) }
            parsed(piece) { packet in
                #expect(packet.sequenceNumber == 0xffff_ff00 &+ UInt32(index * 1400), "sequence numbers wrap")
                #expect(packet.tcpFlags == (index == 2 ? [.ack, .psh, .fin] : [.ack]), "FIN and PSH on the last piece only")
                reassembled += Array(packet.payload)
            }
        }
        #expect(reassembled == (0..<3000).map { UInt8(truncatingIfNeeded: $0) })
    }

    @Test func aPacketThatFitsComesBackWhole() {
        let original = Self.superPacket(.v4, payload: 100)
        #expect(parsed(original) { $0.segmented(maxPayload: 1400) } == [original])
    }

    @Test func theMSSOptionIsRead() {
        // SYN with MSS 1460, SACK-permitted, timestamps, NOP, window scale (PacketFixtures).
        parsed(PacketFixtures.ipv4TCPSyn) { #expect($0.maximumSegmentSizeOption == 1460) }
        parsed(Self.superPacket(.v4, payload: 10, flags: [.syn])) { #expect($0.maximumSegmentSizeOption == nil) }
    }

    @Test func duplicatesOfASuperPacketAreCutToTheReceiversMSS() throws {
        var driver = try EngineDriver("rules:\n  - name: dup\n    match: {from: server}\n    action: {duplicate: 2}\n")
        var c = Conversation()
        driver.send(c.syn())
        driver.send(c.synAck())
        let decision = driver.send(c.data(from: .server, 3000))
        #expect(decision.injections.count == 6, "3 pieces of at most 1220 bytes (no MSS seen), twice")
        #expect(decision.injections.allSatisfy { $0.bytes.count <= 1280 && $0.toward == .client })
    }
}
