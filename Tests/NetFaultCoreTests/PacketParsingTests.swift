import Testing
@testable import NetFaultCore

/// `Packet(parsing:)` on byte-literal packets, truncated prefixes and random bytes.
struct PacketParsingTests {
    @Test func ipv4TCPWithOptions() throws {
        try withParsedPacket(PacketFixtures.ipv4TCPSyn) { packet in
            #expect(packet.family == .v4)
            #expect(packet.source == testAddress("192.0.2.1"))
            #expect(packet.destination == testAddress("198.51.100.2"))
            #expect(packet.protocolNumber == 6)
            #expect(packet.transport == .tcp)
            #expect(packet.transportOffset == 20)
            #expect(packet.timeToLive == 64)
            #expect(packet.trafficClass == 0)
            #expect(!packet.isFragment)
            #expect(packet.sourcePort == 49152)
            #expect(packet.destinationPort == 80)
            #expect(packet.sequenceNumber == 0x1234_5678)
            #expect(packet.acknowledgmentNumber == 0)
            #expect(packet.tcpFlags == .syn)
            #expect(packet.window == 64240)
            // Data offset 10 words: the 20 option bytes are header, not payload.
            #expect(packet.payloadOffset == 60)
            #expect(packet.payloadLength == 0)
            #expect(packet.sequenceLength == 1)
        }
    }

    @Test func ipv6TCPWithPayload() throws {
        try withParsedPacket(PacketFixtures.ipv6TCPData) { packet in
            #expect(packet.family == .v6)
            #expect(packet.source == testAddress("2001:db8::1"))
            #expect(packet.destination == testAddress("2001:db8::2"))
            #expect(packet.transport == .tcp)
            #expect(packet.transportOffset == 40)
            #expect(packet.timeToLive == 57)
            #expect(packet.trafficClass == 0xb8)
            #expect(packet.sourcePort == 443)
            #expect(packet.destinationPort == 51000)
            #expect(packet.sequenceNumber == 0xdead_beef)
            #expect(packet.acknowledgmentNumber == 0x0102_0304)
            #expect(packet.tcpFlags == [.psh, .ack])
            #expect(packet.window == 502)
            #expect(Array(packet.payload) == Array("hello".utf8))
            #expect(packet.sequenceLength == 5)
        }
    }

    @Test func ipv4OptionsAndUDP() throws {
        try withParsedPacket(PacketFixtures.ipv4OptionsUDP) { packet in
            #expect(packet.transportOffset == 24)  // IHL 6: the Router Alert option is skipped
            #expect(packet.transport == .udp)
            #expect(packet.trafficClass == 0xc0)
            #expect(packet.timeToLive == 1)
            #expect(packet.destination == testAddress("224.0.0.251"))
            #expect(packet.sourcePort == 5353)
            #expect(packet.destinationPort == 5353)
            #expect(packet.payloadOffset == 32)
            #expect(Array(packet.payload) == [0xde, 0xad, 0xbe, 0xef])
            #expect(!packet.isFragment)
        }
    }

    @Test func ipv6ExtensionHeaderChain() throws {
        try withParsedPacket(PacketFixtures.ipv6ExtensionChainUDP) { packet in
            // Hop-by-hop (8) + destination options (8) + fragment (8) after the 40-byte header.
            #expect(packet.transportOffset == 64)
            #expect(packet.protocolNumber == 17)
            #expect(packet.transport == .udp)
            #expect(packet.isFragment)  // offset 0 with M set: the first fragment
            #expect(packet.sourcePort == 1234)
            #expect(packet.destinationPort == 53)
            #expect(Array(packet.payload) == Array("12345678".utf8))
        }
    }

    /// A later IPv6 fragment carries no transport header, whatever its Next Header says.
    @Test func ipv6NonFirstFragment() throws {
        try withParsedPacket(PacketFixtures.ipv6NonFirstFragment) { packet in
            #expect(packet.isFragment)
            #expect(packet.transport == nil)
            #expect(packet.protocolNumber == 60)
            #expect(packet.transportOffset == 48)
            #expect(packet.sourcePort == 0)
            #expect(packet.payloadLength == 0)
        }
    }

    @Test func ipv4Fragments() throws {
        try withParsedPacket(PacketFixtures.ipv4FirstFragment) { packet in
            #expect(packet.isFragment)
            #expect(packet.transport == .udp)
            #expect(packet.sourcePort == 4000)
            #expect(packet.destinationPort == 5000)
        }
        try withParsedPacket(PacketFixtures.ipv4LaterFragment) { packet in
            #expect(packet.isFragment)
            #expect(packet.transport == nil)
            #expect(packet.protocolNumber == 17)
            #expect(packet.sourcePort == 0)
            #expect(packet.destinationPort == 0)
            #expect(packet.payloadLength == 0)
        }
    }

    @Test(arguments: [
        (PacketFixtures.ipv4ICMPEcho, IPAddress.Family.v4, UInt8(8), UInt16(0x1234), 8),
        (PacketFixtures.ipv6ICMPEcho, .v6, 128, 0x4321, 4),
    ])
    func icmpEcho(bytes: [UInt8], family: IPAddress.Family, type: UInt8, identifier: UInt16, payloadLength: Int) throws {
        try withParsedPacket(bytes) { packet in
            #expect(packet.family == family)
            #expect(packet.transport == .icmp)
            #expect(packet.icmpType == type)
            #expect(packet.icmpCode == 0)
            // Echo flows are keyed by the identifier, placed in both port fields.
            #expect(packet.sourcePort == identifier)
            #expect(packet.destinationPort == identifier)
            #expect(packet.payloadLength == payloadLength)
            #expect(!packet.isICMPError)
        }
    }

    /// Link-layer padding past the stated length is not part of the packet.
    @Test(arguments: PacketFixtures.all.map(\.bytes))
    func trailingPaddingIgnored(bytes: [UInt8]) throws {
        let padded = bytes + [UInt8](repeating: 0xee, count: 18)
        let expected = try withParsedPacket(bytes) { ($0.bytes.count, $0.payloadLength, $0.transport) }
        let actual = try withParsedPacket(padded) { ($0.bytes.count, $0.payloadLength, $0.transport) }
        #expect(actual.0 == expected.0)
        #expect(actual.1 == expected.1)
        #expect(actual.2 == expected.2)
    }

    /// A stated length of zero means "the whole buffer" (GSO super-packets).
    @Test func zeroLengthMeansWholeBuffer() throws {
        var v4 = PacketBuilder.tcp(source: testAddress("192.0.2.1"), destination: testAddress("192.0.2.2"),
                                   sourcePort: 1, destinationPort: 2, sequence: 0, acknowledgment: 0, flags: .ack,
                                   payload: [UInt8](repeating: 7, count: 1000))
        v4[2] = 0; v4[3] = 0
        v4 += [UInt8](repeating: 7, count: 70_000 - v4.count)
        #expect(try withParsedPacket(v4) { $0.payloadLength } == 70_000 - 40)
        var v6 = PacketBuilder.udp(source: testAddress("2001:db8::1"), destination: testAddress("2001:db8::2"),
                                   sourcePort: 1, destinationPort: 2, payload: [1, 2, 3])
        v6[4] = 0; v6[5] = 0
        v6 += [UInt8](repeating: 9, count: 100)
        #expect(try withParsedPacket(v6) { $0.payloadLength } == 103)
    }

    @Test(arguments: [0x00, 0x10, 0x50, 0x55, 0x70, 0xf0] as [UInt8])
    func unsupportedVersionRefused(firstByte: UInt8) {
        var bytes = PacketFixtures.ipv4TCPSyn
        bytes[0] = firstByte
        #expect(parseError(of: bytes) == .unsupportedVersion(firstByte >> 4))
    }

    @Test func malformedHeaderLengths() {
        var ipv4 = PacketFixtures.ipv4TCPSyn
        ipv4[0] = 0x44  // IHL 4 words is shorter than the fixed header
        #expect(parseError(of: ipv4) == .badHeaderLength(layer: .ipv4, length: 16))
        var tcp = PacketFixtures.ipv4TCPSyn
        tcp[32] = 0x40  // TCP data offset 4 words
        #expect(parseError(of: tcp) == .badHeaderLength(layer: .tcp, length: 16))
        var long = PacketFixtures.ipv4TCPSyn
        long[3] = 0x3d  // states one byte more than there is
        #expect(parseError(of: long) == .truncated(layer: .ipv4, needed: 61, available: 60))
    }

    /// Every prefix of every fixture either fails with a `PacketParseError` or, where the prefix is a
    /// packet in its own right (a zero stated length), parses consistently. Never a trap.
    @Test(arguments: PacketFixtures.all.map(\.name))
    func everyTruncationFailsCleanly(name: String) throws {
        let bytes = try #require(PacketFixtures.all.first { $0.name == name }).bytes
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            if let error = parseError(of: prefix) {
                switch error {
                case .truncated(_, let needed, let available): #expect(needed > available, "\(name) prefix \(length)")
                case .badHeaderLength, .unsupportedVersion, .tooManyExtensionHeaders: break
                }
            } else {
                try withParsedPacket(prefix) { packet in
                    #expect(packet.bytes.count <= length)
                    #expect(packet.payloadOffset + packet.payloadLength == packet.bytes.count)
                }
            }
        }
    }

    /// The same with the length fields zeroed ("whole buffer"), so that prefixes are cut inside the
    /// transport header rather than refused by the IP length check.
    @Test(arguments: PacketFixtures.all.map(\.name))
    func everyTruncationWithZeroLength(name: String) throws {
        var bytes = try #require(PacketFixtures.all.first { $0.name == name }).bytes
        if bytes[0] >> 4 == 4 { bytes[2] = 0; bytes[3] = 0 } else { bytes[4] = 0; bytes[5] = 0 }
        var parsed = 0
        for length in 0...bytes.count {
            let prefix = Array(bytes[0..<length])
            guard parseError(of: prefix) == nil else { continue }
            parsed += 1
            try withParsedPacket(prefix) { packet in
                #expect(packet.bytes.count == length)
                #expect(packet.payloadOffset + packet.payloadLength == length)
                #expect(packet.transportOffset <= length)
            }
        }
        #expect(parsed >= 1)
    }

    @Test func tooManyExtensionHeaders() {
        // 40 empty destination-options headers, each naming the next.
        var bytes = hexBytes("60 00 00 00 01 40 3c 40") + [UInt8](repeating: 0, count: 32)
        for _ in 0..<40 { bytes += [60, 0, 1, 4, 0, 0, 0, 0] }
        #expect(parseError(of: bytes) == .tooManyExtensionHeaders)
    }

    /// Headers-only capture (the queue's copy range cut the packet): lengths are the whole
    /// packet's, the payload is what was captured, and a cut inside a header is refused.
    @Test(arguments: ["198.18.1.2", "2001:db8:1::2"])
    func aTruncatedCaptureKeepsTheWholePacketsLengths(_ client: String) throws {
        let server = client.contains(":") ? "2001:db8:2::2" : "198.18.2.2"
        let whole = PacketBuilder.tcp(source: IPAddress(client)!, destination: IPAddress(server)!, sourcePort: 40000,
                                      destinationPort: 8080, sequence: 7, acknowledgment: 9, flags: [.ack, .psh],
                                      payload: Array(repeating: 0x61, count: 3000))
        let header = client.contains(":") ? 60 : 40
        try Array(whole.prefix(512)).withUnsafeBytes { captured in
            let packet = try Packet(parsing: captured, originalLength: whole.count)
            #expect(packet.isCaptureTruncated && packet.length == whole.count && packet.bytes.count == 512)
            #expect(packet.payloadOffset == header && packet.payloadLength == 3000)
            #expect(packet.sequenceLength == 3000)
            #expect(packet.payload.count == 512 - header)
        }
        try whole.withUnsafeBytes { buffer in
            let packet = try Packet(parsing: buffer, originalLength: whole.count)
            #expect(!packet.isCaptureTruncated && packet.payload.count == 3000)
        }
        Array(whole.prefix(header - 4)).withUnsafeBytes { cut in
            _ = #expect(throws: PacketParseError.self) { try Packet(parsing: cut, originalLength: whole.count) }
        }
        // Without the original length, a cut packet is refused as before.
        Array(whole.prefix(512)).withUnsafeBytes { cut in
            _ = #expect(throws: PacketParseError.self) { try Packet(parsing: cut) }
        }
    }

    /// Seeded random input, some of it dressed up with a plausible version nibble. Only the absence of a
    /// trap is checked, plus the invariants every parsed packet must keep.
    @Test func randomBytesNeverTrap() {
        var random = TestRandom(seed: 0x6e65_7466_6175_6c74)
        var parsedCount = 0
        for round in 0..<20_000 {
            let length = Int.random(in: 0..<160, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if length > 0, round % 4 != 0 {
                bytes[0] = round % 2 == 0 ? 0x45 + UInt8.random(in: 0...10, using: &random) : 0x60
                if length >= 4, round % 3 == 0 { bytes[2] = 0; bytes[3] = 0 }
                if length >= 7, bytes[0] == 0x60 {
                    bytes[4] = 0; bytes[5] = 0
                    bytes[6] = [0, 6, 17, 43, 44, 51, 58, 60][Int.random(in: 0..<8, using: &random)]
                }
            }
            bytes.withUnsafeBytes { buffer in
                if let packet = try? Packet(parsing: buffer) {
                    parsedCount += 1
                    #expect(packet.bytes.count <= buffer.count)
                    #expect(packet.transportOffset <= packet.bytes.count)
                    #expect(packet.payloadOffset + packet.payloadLength == packet.bytes.count)
                }
                // The same bytes as the start of a longer packet, as a headers-only copy delivers them.
                let original = length + Int.random(in: 0..<3000, using: &random)
                if let packet = try? Packet(parsing: buffer, originalLength: original) {
                    #expect(packet.bytes.count <= buffer.count && packet.length <= original)
                    #expect(packet.transportOffset <= packet.bytes.count)
                    #expect(packet.payload.count <= packet.payloadLength)
                    #expect(packet.transport == nil || packet.payloadOffset + packet.payloadLength == packet.length)
                }
            }
        }
        #expect(parsedCount > 100)
    }
}
