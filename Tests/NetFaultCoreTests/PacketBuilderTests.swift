import Testing
@testable import NetFaultCore

/// Built packets parse back to what was asked for, with checksums that verify.
struct PacketBuilderTests {
    static let families: [(source: String, destination: String)] = [
        ("192.0.2.1", "198.51.100.2"),
        ("2001:db8::1", "2001:db8:ffff::2"),
    ]

    @Test(arguments: families)
    func tcpRoundTrip(source: String, destination: String) throws {
        let payload = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        let bytes = PacketBuilder.tcp(source: testAddress(source), destination: testAddress(destination),
                                      sourcePort: 40000, destinationPort: 8080, sequence: 0xfeed_f00d,
                                      acknowledgment: 0x0bad_cafe, flags: [.psh, .ack], window: 1234,
                                      payload: payload, hopLimit: 33)
        try withParsedPacket(bytes) { packet in
            #expect(packet.source == testAddress(source))
            #expect(packet.destination == testAddress(destination))
            #expect(packet.transport == .tcp)
            #expect(packet.sourcePort == 40000)
            #expect(packet.destinationPort == 8080)
            #expect(packet.sequenceNumber == 0xfeed_f00d)
            #expect(packet.acknowledgmentNumber == 0x0bad_cafe)
            #expect(packet.tcpFlags == [.psh, .ack])
            #expect(packet.window == 1234)
            #expect(packet.timeToLive == 33)
            #expect(packet.trafficClass == 0)
            #expect(!packet.isFragment)
            #expect(Array(packet.payload) == payload)
        }
        #expect(try transportChecksumVerifies(bytes))
        if bytes[0] >> 4 == 4 { #expect(ipv4HeaderVerifies(bytes)) }
    }

    @Test(arguments: families)
    func tcpDefaults(source: String, destination: String) throws {
        let bytes = PacketBuilder.tcp(source: testAddress(source), destination: testAddress(destination),
                                      sourcePort: 1, destinationPort: 2, sequence: 0, acknowledgment: 0, flags: .rst)
        try withParsedPacket(bytes) { packet in
            #expect(packet.window == 65535)
            #expect(packet.timeToLive == 64)
            #expect(packet.payloadLength == 0)
            #expect(packet.tcpFlags == .rst)
        }
        #expect(try transportChecksumVerifies(bytes))
    }

    @Test(arguments: families)
    func udpRoundTrip(source: String, destination: String) throws {
        let payload: [UInt8] = [1, 2, 3, 4, 5]  // odd length: the checksum pads with a zero byte
        let bytes = PacketBuilder.udp(source: testAddress(source), destination: testAddress(destination),
                                      sourcePort: 5353, destinationPort: 53, payload: payload, hopLimit: 7)
        try withParsedPacket(bytes) { packet in
            #expect(packet.transport == .udp)
            #expect(packet.sourcePort == 5353)
            #expect(packet.destinationPort == 53)
            #expect(packet.timeToLive == 7)
            #expect(Array(packet.payload) == payload)
            #expect(packet.bytes.loadBigEndianUInt16(at: packet.transportOffset + 4) == 13)
        }
        #expect(try transportChecksumVerifies(bytes))
        if bytes[0] >> 4 == 4 { #expect(ipv4HeaderVerifies(bytes)) }
    }

    /// RFC 768: a checksum that computes to 0 is sent as 0xffff. Payload words chosen so the sum is 0xffff.
    @Test func udpZeroChecksumSentAsOnes() throws {
        let source = testAddress("10.0.0.1"), destination = testAddress("10.0.0.2")
        let empty = PacketBuilder.udp(source: source, destination: destination, sourcePort: 1, destinationPort: 2,
                                      payload: [0, 0])
        // The checksum of the datagram with a zero payload word; a payload word equal to it makes the sum 0xffff.
        let filler = try withParsedPacket(empty) { $0.bytes.loadBigEndianUInt16(at: 26) }
        let bytes = PacketBuilder.udp(source: source, destination: destination, sourcePort: 1, destinationPort: 2,
                                      payload: [UInt8(filler >> 8), UInt8(filler & 0xff)])
        #expect(bytes[26] == 0xff && bytes[27] == 0xff)
        #expect(try transportChecksumVerifies(bytes))
    }

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.2", UInt8(8)),
        ("fe80::1", "fe80::2", 128),
    ])
    func icmpEchoRoundTrip(source: String, destination: String, type: UInt8) throws {
        let bytes = PacketBuilder.icmpEcho(source: testAddress(source), destination: testAddress(destination),
                                           identifier: 0xbeef, sequence: 42, payload: Array("ping".utf8))
        try withParsedPacket(bytes) { packet in
            #expect(packet.transport == .icmp)
            #expect(packet.icmpType == type)
            #expect(packet.icmpCode == 0)
            #expect(packet.sourcePort == 0xbeef)
            #expect(packet.bytes.loadBigEndianUInt16(at: packet.transportOffset + 6) == 42)
            #expect(Array(packet.payload) == Array("ping".utf8))
        }
        #expect(try transportChecksumVerifies(bytes))
    }

    /// The builder reproduces a fixture whose checksums were computed independently.
    @Test func icmpEchoMatchesFixture() {
        let bytes = PacketBuilder.icmpEcho(source: testAddress("fe80::1"), destination: testAddress("fe80::2"),
                                           identifier: 0x4321, sequence: 7, payload: Array("ping".utf8))
        var expected = PacketFixtures.ipv6ICMPEcho
        expected[7] = 64  // the fixture uses hop limit 255; the builder always 64
        #expect(bytes == expected)
    }

    static let unreachableCodes: [(UnreachableReason, IPAddress.Family, UInt8, UInt8)] = [
        (.port, .v4, 3, 3), (.host, .v4, 3, 1), (.adminProhibited, .v4, 3, 13),
        (.port, .v6, 1, 4), (.host, .v6, 1, 3), (.adminProhibited, .v6, 1, 1),
    ]

    @Test(arguments: unreachableCodes)
    func unreachableQuotesOriginal(reason: UnreachableReason, family: IPAddress.Family, type: UInt8, code: UInt8) throws {
        let (client, server) = family == .v4
            ? (testAddress("192.0.2.10"), testAddress("198.51.100.20"))
            : (testAddress("2001:db8::10"), testAddress("2001:db8::20"))
        let original = PacketBuilder.udp(source: client, destination: server, sourcePort: 33434, destinationPort: 53,
                                         payload: Array("query".utf8))
        let reply = try withParsedPacket(original) { PacketBuilder.icmpUnreachable(reason, quoting: $0, from: server) }
        let quoteOffset = try withParsedPacket(reply) { packet in
            #expect(packet.family == family)
            #expect(packet.source == server)
            #expect(packet.destination == client)
            #expect(packet.transport == .icmp)
            #expect(packet.icmpType == type)
            #expect(packet.icmpCode == code)
            #expect(packet.isICMPError)
            #expect(packet.bytes.loadBigEndianUInt32(at: packet.transportOffset + 4) == 0)  // unused
            return packet.payloadOffset
        }
        #expect(try transportChecksumVerifies(reply))
        if family == .v4 { #expect(ipv4HeaderVerifies(reply)) }
        // The whole original fits, so the quote parses back as the original packet.
        let quoted = Array(reply[quoteOffset...])
        #expect(quoted == original)
        try withParsedPacket(quoted) { inner in
            #expect(inner.source == client)
            #expect(inner.destination == server)
            #expect(inner.sourcePort == 33434)
            #expect(inner.destinationPort == 53)
        }
    }

    /// A 64 KiB offending packet is quoted only up to 576 (IPv4) / 1280 (IPv6) bytes in total.
    @Test(arguments: [(IPAddress.Family.v4, 576), (.v6, 1280)])
    func unreachableRespectsSizeCap(family: IPAddress.Family, cap: Int) throws {
        let (client, server) = family == .v4
            ? (testAddress("192.0.2.10"), testAddress("198.51.100.20"))
            : (testAddress("2001:db8::10"), testAddress("2001:db8::20"))
        let headerLength = family == .v4 ? 20 : 40
        let payload = (0..<(65_535 - headerLength - 20)).map { UInt8(truncatingIfNeeded: $0) }
        let original = PacketBuilder.tcp(source: client, destination: server, sourcePort: 50000, destinationPort: 443,
                                         sequence: 1, acknowledgment: 2, flags: [.psh, .ack], payload: payload)
        let reply = try withParsedPacket(original) { PacketBuilder.icmpUnreachable(.port, quoting: $0, from: server) }
        #expect(reply.count == cap)
        #expect(try transportChecksumVerifies(reply))
        let quoted = Array(reply[(headerLength + 8)...])
        #expect(quoted == Array(original[0..<(cap - headerLength - 8)]))
        // The quoted header still states the original length, so it no longer parses as a whole packet,
        // but its fields are all there.
        #expect(parseError(of: quoted) == .truncated(layer: family == .v4 ? .ipv4 : .ipv6,
                                                     needed: original.count, available: quoted.count))
        let quotedSource = quoted.withUnsafeBytes { IPAddress(wire: $0, at: family == .v4 ? 12 : 8, family: family) }
        #expect(quotedSource == client)
    }

    /// Quoting a packet that carries IPv4 options or IPv6 extension headers keeps them byte for byte.
    @Test(arguments: [PacketFixtures.ipv4OptionsUDP, PacketFixtures.ipv6ExtensionChainUDP])
    func unreachableQuotesHeadersVerbatim(original: [UInt8]) throws {
        let reply = try withParsedPacket(original) { packet in
            PacketBuilder.icmpUnreachable(.adminProhibited, quoting: packet, from: packet.destination)
        }
        let headerLength = original[0] >> 4 == 4 ? 20 : 40
        #expect(Array(reply[(headerLength + 8)...]) == original)
        #expect(try transportChecksumVerifies(reply))
    }
}
