import Testing
@testable import NetFaultCore

/// `Packet.rewritten(with:)`: each field on IPv4 and IPv6, truncation, complete checksums.
struct PacketRewriteTests {
    static let tcpV4 = PacketBuilder.tcp(
        source: testAddress("192.0.2.1"), destination: testAddress("198.51.100.2"), sourcePort: 40000,
        destinationPort: 443, sequence: 1000, acknowledgment: 2000, flags: [.psh, .ack], window: 5000,
        payload: Array(0..<100))
    static let tcpV6 = PacketBuilder.tcp(
        source: testAddress("2001:db8::1"), destination: testAddress("2001:db8::2"), sourcePort: 40000,
        destinationPort: 443, sequence: 1000, acknowledgment: 2000, flags: [.psh, .ack], window: 5000,
        payload: Array(0..<101))
    static let udpV4 = PacketBuilder.udp(source: testAddress("10.0.0.1"), destination: testAddress("10.0.0.2"),
                                         sourcePort: 1111, destinationPort: 2222, payload: Array(0..<50))
    static let udpV6 = PacketBuilder.udp(source: testAddress("2001:db8::1"), destination: testAddress("2001:db8::2"),
                                         sourcePort: 1111, destinationPort: 2222, payload: Array(0..<51))

    static let allTransports: [[UInt8]] = [
        tcpV4, tcpV6, udpV4, udpV6, PacketFixtures.ipv4ICMPEcho, PacketFixtures.ipv6ICMPEcho,
        PacketFixtures.ipv4TCPSyn, PacketFixtures.ipv6TCPData, PacketFixtures.ipv4OptionsUDP,
        withIPv6ExtensionHeaders(tcpV6),
    ]

    func rewrite(_ bytes: [UInt8], _ rewrite: HeaderRewrite) throws -> [UInt8] {
        try withParsedPacket(bytes) { $0.rewritten(with: rewrite) }
    }

    @Test(arguments: [tcpV4, tcpV6])
    func windowAndFlags(original: [UInt8]) throws {
        let out = try rewrite(original, HeaderRewrite(window: 0, flags: [.rst, .ack]))
        try withParsedPacket(out) { packet in
            #expect(packet.window == 0)
            #expect(packet.tcpFlags == [.rst, .ack])
            #expect(packet.sequenceNumber == 1000)
            #expect(packet.payloadLength == original.count - packet.payloadOffset)
        }
        #expect(try transportChecksumVerifies(out))
        if original[0] >> 4 == 4 { #expect(ipv4HeaderVerifies(out)) }
    }

    @Test(arguments: allTransports)
    func ttlAndTOS(original: [UInt8]) throws {
        let out = try rewrite(original, HeaderRewrite(ttl: 3, tos: 0x2e))
        #expect(out.count == original.count)
        try withParsedPacket(out) { packet in
            #expect(packet.timeToLive == 3)
            #expect(packet.trafficClass == 0x2e)
            #expect(packet.transport != nil)
        }
        #expect(try transportChecksumVerifies(out))
        if original[0] >> 4 == 4 { #expect(ipv4HeaderVerifies(out)) }
        // Only the TTL/TOS bytes (and the IPv4 header checksum) differ.
        let changed = (0..<out.count).filter { out[$0] != original[$0] }
        #expect(Set(changed).isSubset(of: original[0] >> 4 == 4 ? [1, 8, 10, 11] : [0, 1, 7]))
    }

    /// RFC 8200 §3: the traffic class straddles bytes 0-1; version and flow label stay.
    @Test func ipv6TrafficClassKeepsFlowLabel() throws {
        let out = try rewrite(PacketFixtures.ipv6TCPData, HeaderRewrite(tos: 0x04))
        #expect(Array(out[0..<4]) == [0x60, 0x4a, 0xbc, 0xde])
        try withParsedPacket(out) { #expect($0.trafficClass == 0x04) }
    }

    /// Window and flags mean nothing to UDP or ICMP: the bytes come back unchanged.
    @Test(arguments: [udpV4, udpV6, PacketFixtures.ipv4ICMPEcho, PacketFixtures.ipv6ICMPEcho])
    func tcpFieldsIgnoredElsewhere(original: [UInt8]) throws {
        #expect(try rewrite(original, HeaderRewrite(window: 1, flags: .rst)) == original)
    }

    @Test(arguments: allTransports, [0, 1, 7, 10_000, -5])
    func truncate(original: [UInt8], keep: Int) throws {
        let (payloadOffset, payloadLength) = try withParsedPacket(original) { ($0.payloadOffset, $0.payloadLength) }
        let kept = min(payloadLength, max(0, keep))
        let out = try rewrite(original, HeaderRewrite(truncate: keep))
        #expect(out.count == payloadOffset + kept)
        #expect(Array(out[payloadOffset...]) == Array(original[payloadOffset..<(payloadOffset + kept)]))
        try withParsedPacket(out) { packet in
            #expect(packet.payloadLength == kept)
            #expect(packet.bytes.count == out.count)
            if packet.transport == .udp {
                #expect(packet.bytes.loadBigEndianUInt16(at: packet.transportOffset + 4) == UInt16(out.count - packet.transportOffset))
            }
        }
        // The stated IP length matches, so trailing padding would not be mistaken for payload.
        if original[0] >> 4 == 4 {
            #expect(Int(out[2]) << 8 | Int(out[3]) == out.count)
            #expect(ipv4HeaderVerifies(out))
        } else {
            #expect(Int(out[4]) << 8 | Int(out[5]) == out.count - 40)
        }
        #expect(try transportChecksumVerifies(out))
    }

    /// `packet` as the kernel queues it when the sender offloaded its checksum (CHECKSUM_PARTIAL:
    /// veth, virtio, containers): the TCP/UDP field holds only the folded pseudo-header sum.
    static func offloaded(_ packet: [UInt8]) throws -> [UInt8] {
        var bytes = packet
        try withParsedPacket(packet) { parsed in
            guard let transport = parsed.transport, transport != .icmp else { return }
            let field = parsed.transportOffset + (transport == .tcp ? 16 : 6)
            let sum = foldedSum(pseudoHeaderSum(source: parsed.source, destination: parsed.destination,
                                                protocolNumber: transport == .tcp ? 6 : 17,
                                                length: parsed.bytes.count - parsed.transportOffset))
            bytes[field] = UInt8(sum >> 8)
            bytes[field + 1] = UInt8(sum & 0xff)
        }
        return bytes
    }

    /// The kernel does not finish the checksum of a packet handed back changed (it marks it
    /// CHECKSUM_NONE): whatever the change, even the IP header's TOS alone, the transport checksum
    /// of an offloaded packet leaves complete, or the receiver discards the packet.
    @Test(arguments: [tcpV4, tcpV6, udpV4, udpV6, withIPv6ExtensionHeaders(tcpV6)],
          [HeaderRewrite(tos: 4), HeaderRewrite(ttl: 9), HeaderRewrite(window: 0), HeaderRewrite(flags: [.fin, .ack]),
           HeaderRewrite(truncate: 4), HeaderRewrite()])
    func offloadedChecksumsLeaveComplete(original: [UInt8], change: HeaderRewrite) throws {
        let queued = try Self.offloaded(original)
        #expect(try !transportChecksumVerifies(queued))
        let out = try rewrite(queued, change)
        #expect(try transportChecksumVerifies(out))
        if original[0] >> 4 == 4 { #expect(ipv4HeaderVerifies(out)) }
    }

    /// With nothing changed, the rewrite of an offloaded packet is the packet as it goes on the wire.
    @Test func anUnchangedOffloadedPacketComesBackAsOnTheWire() throws {
        #expect(try rewrite(try Self.offloaded(Self.tcpV4), HeaderRewrite()) == Self.tcpV4)
        #expect(try rewrite(try Self.offloaded(Self.udpV6), HeaderRewrite()) == Self.udpV6)
    }

    @Test func icmpChecksumComplete() throws {
        for original in [PacketFixtures.ipv4ICMPEcho, PacketFixtures.ipv6ICMPEcho] {
            let out = try rewrite(original, HeaderRewrite(truncate: 3))
            #expect(try transportChecksumVerifies(out))
        }
    }

    /// RFC 768: over IPv4 a zero UDP checksum means "none", and stays so.
    @Test func udpV4ZeroChecksumKept() throws {
        var original = Self.udpV4
        original[26] = 0; original[27] = 0
        let out = try rewrite(original, HeaderRewrite(ttl: 9, truncate: 10))
        #expect(out[26] == 0 && out[27] == 0)
        #expect(out[24] == 0 && out[25] == 18)  // the UDP length still shrinks
    }

    @Test func ipv4OptionsKept() throws {
        let original = PacketFixtures.ipv4OptionsUDP
        let out = try rewrite(original, HeaderRewrite(ttl: 2, tos: 0, truncate: 1))
        #expect(Array(out[20..<24]) == [0x94, 0x04, 0x00, 0x00])  // Router Alert
        #expect(out[0] == 0x46)
        try withParsedPacket(out) { packet in
            #expect(packet.transportOffset == 24)
            #expect(Array(packet.payload) == [0xde])
        }
        #expect(ipv4HeaderVerifies(out))
        #expect(try transportChecksumVerifies(out))
    }

    @Test func ipv6ExtensionHeadersKept() throws {
        let original = withIPv6ExtensionHeaders(Self.tcpV6)
        let out = try rewrite(original, HeaderRewrite(window: 7, ttl: 1, truncate: 5))
        #expect(Array(out[40..<56]) == Array(original[40..<56]))
        try withParsedPacket(out) { packet in
            #expect(packet.transportOffset == 56)
            #expect(packet.window == 7)
            #expect(packet.payloadLength == 5)
        }
        #expect(try transportChecksumVerifies(out))
    }

    /// A first fragment's TCP checksum covers the whole datagram; window/flags changes adjust it
    /// incrementally (RFC 1624). Here the "datagram" is the fragment itself, so the result must verify.
    @Test func firstFragmentChecksumAdjustedIncrementally() throws {
        var original = Self.tcpV4
        original[6] |= 0x20  // MF
        original[10] = 0; original[11] = 0
        let header = Array(original[0..<20]).withUnsafeBytes { internetChecksum($0) }
        original[10] = UInt8(header >> 8); original[11] = UInt8(header & 0xff)
        try withParsedPacket(original) { #expect($0.isFragment && $0.transport == .tcp) }
        let out = try rewrite(original, HeaderRewrite(window: 0xffff, flags: .fin))
        try withParsedPacket(out) { #expect($0.window == 0xffff && $0.tcpFlags == .fin) }
        #expect(try transportChecksumVerifies(out))
        #expect(ipv4HeaderVerifies(out))
    }

    @Test(arguments: [PacketFixtures.ipv4LaterFragment, PacketFixtures.ipv6NonFirstFragment])
    func laterFragmentOnlyIPFields(original: [UInt8]) throws {
        let out = try rewrite(original, HeaderRewrite(window: 1, ttl: 200, flags: .rst, truncate: 0))
        #expect(out.count == original.count)
        try withParsedPacket(out) { #expect($0.timeToLive == 200) }
        let changed = (0..<out.count).filter { out[$0] != original[$0] }
        #expect(Set(changed).isSubset(of: [7, 8, 10, 11]))
    }

    /// A GSO super-packet (stated length 0) keeps 0 while it still exceeds 64 KiB, and gets a real
    /// length once truncation brings it under.
    @Test func superPacketLengths() throws {
        var big = PacketBuilder.tcp(source: testAddress("192.0.2.1"), destination: testAddress("192.0.2.2"),
                                    sourcePort: 1, destinationPort: 2, sequence: 0, acknowledgment: 0, flags: .ack,
                                    payload: Array(repeating: 1, count: 1000))
        big[2] = 0; big[3] = 0
        big += [UInt8](repeating: 1, count: 80_000 - big.count)
        let unchanged = try rewrite(big, HeaderRewrite(ttl: 1))
        #expect(unchanged.count == 80_000 && unchanged[2] == 0 && unchanged[3] == 0)
        let cut = try rewrite(big, HeaderRewrite(truncate: 100))
        #expect(cut.count == 140 && Int(cut[2]) << 8 | Int(cut[3]) == 140)
        #expect(try transportChecksumVerifies(cut))
        #expect(ipv4HeaderVerifies(cut))
    }
}

/// `packet` (IPv6, no extension headers) with a hop-by-hop and a destination-options header
/// (PadN only, RFC 8200 §4.2) spliced in after the fixed header.
func withIPv6ExtensionHeaders(_ packet: [UInt8]) -> [UInt8] {
    var header = Array(packet[0..<40])
    let upperLayer = header[6]
    header[6] = 0  // hop-by-hop
    let payloadLength = (Int(header[4]) << 8 | Int(header[5])) + 16
    header[4] = UInt8(payloadLength >> 8); header[5] = UInt8(payloadLength & 0xff)
    return header + [60, 0, 1, 4, 0, 0, 0, 0] + [upperLayer, 0, 1, 4, 0, 0, 0, 0] + packet[40...]
}
