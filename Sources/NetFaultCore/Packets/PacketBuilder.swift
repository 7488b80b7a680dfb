/// Builds complete IPv4/IPv6 packets byte for byte, with every checksum filled in: the packets
/// netfault injects (resets, unreachables) and the packets tests feed the engine.
///
/// IPv4 headers carry no options, DF set and identification 0 (RFC 6864 §4.1 allows any value for an
/// atomic datagram); IPv6 headers carry no extension headers, traffic class 0 and flow label 0.
public enum PacketBuilder {
    /// A complete IPv4 or IPv6 + TCP packet with correct checksums (IPv4 header and TCP), no TCP options.
    /// `source` and `destination` must be the same family.
    public static func tcp(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
        sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags, window: UInt16 = 65535,
        payload: [UInt8] = [], hopLimit: UInt8 = 64
    ) -> [UInt8] {
        // RFC 9293 §3.1.
        var segment: [UInt8] = []
        segment.reserveCapacity(20 + payload.count)
        segment.appendBigEndian(sourcePort)
        segment.appendBigEndian(destinationPort)
        segment.appendBigEndian(sequence)
        segment.appendBigEndian(acknowledgment)
        segment.append(5 << 4)  // data offset: 5 words, reserved bits zero
        segment.append(flags.rawValue)
        segment.appendBigEndian(window)
        segment.appendBigEndian(UInt16(0))  // checksum, filled in by `assemble`
        segment.appendBigEndian(UInt16(0))  // urgent pointer
        segment += payload
        return assemble(source: source, destination: destination, protocolNumber: ProtocolNumber.tcp,
                        transport: segment, checksumOffset: 16, hopLimit: hopLimit)
    }

    /// A complete IPv4 or IPv6 + UDP packet with correct checksums. `source` and `destination` must be
    /// the same family.
    public static func udp(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
        payload: [UInt8] = [], hopLimit: UInt8 = 64
    ) -> [UInt8] {
        // RFC 768: the length field counts the 8-byte header too.
        precondition(8 + payload.count <= Int(UInt16.max), "UDP payload too long for the length field")
        var datagram: [UInt8] = []
        datagram.reserveCapacity(8 + payload.count)
        datagram.appendBigEndian(sourcePort)
        datagram.appendBigEndian(destinationPort)
        datagram.appendBigEndian(UInt16(8 + payload.count))
        datagram.appendBigEndian(UInt16(0))  // checksum
        datagram += payload
        return assemble(source: source, destination: destination, protocolNumber: ProtocolNumber.udp,
                        transport: datagram, checksumOffset: 6, hopLimit: hopLimit)
    }

    /// ICMP echo request (v4 type 8 / v6 type 128) with identifier and sequence, for tests and flows.
    public static func icmpEcho(
        source: IPAddress, destination: IPAddress, identifier: UInt16, sequence: UInt16, payload: [UInt8] = []
    ) -> [UInt8] {
        // RFC 792 "Echo or Echo Reply Message"; RFC 4443 §4.1.
        var message: [UInt8] = [source.family == .v4 ? 8 : 128, 0, 0, 0]
        message.appendBigEndian(identifier)
        message.appendBigEndian(sequence)
        message += payload
        return assemble(source: source, destination: destination, protocolNumber: ProtocolNumber.icmp(source.family),
                        transport: message, checksumOffset: 2, hopLimit: 64)
    }

    /// The ICMP(v6) destination-unreachable a rejecting firewall sends back to `packet.source`, from `source`
    /// (normally `packet.destination`), quoting the offending packet: for IPv4 as much as fits in 576 bytes
    /// total (RFC 1812 §4.3.2.3), for IPv6 as much as fits in 1280 bytes (RFC 4443 §2.4(c)).
    ///
    /// Types/codes: v4 3/3 port, 3/1 host, 3/13 admin-prohibited; v6 type 1 code 4 port, code 3 address
    /// unreachable (host), code 1 admin-prohibited. The ICMPv6 checksum covers the pseudo-header.
    /// Whether an unreachable may be sent at all (never in answer to an ICMP error, RFC 1122 §3.2.2;
    /// RFC 4443 §2.4(e)) is the caller's decision.
    public static func icmpUnreachable(_ reason: UnreachableReason, quoting packet: Packet, from source: IPAddress) -> [UInt8] {
        precondition(source.family == packet.family, "unreachable from a \(source.family) address for a \(packet.family) packet")
        let type: UInt8
        let code: UInt8
        let limit: Int
        switch packet.family {
        case .v4:
            // RFC 792 "Destination Unreachable Message"; code 13 is RFC 1812 §5.2.7.1.
            type = 3
            switch reason {
            case .port: code = 3
            case .host: code = 1
            case .adminProhibited: code = 13
            }
            limit = 576
        case .v6:
            // RFC 4443 §3.1.
            type = 1
            switch reason {
            case .port: code = 4
            case .host: code = 3
            case .adminProhibited: code = 1
            }
            limit = 1280
        }
        let quoted = min(packet.bytes.count, limit - ipHeaderLength(packet.family) - 8)
        // Type, code, checksum, then four unused bytes that must be zero.
        var message: [UInt8] = [type, code, 0, 0, 0, 0, 0, 0]
        message.reserveCapacity(8 + quoted)
        message += packet.bytes[0..<quoted]
        return assemble(source: source, destination: packet.source, protocolNumber: ProtocolNumber.icmp(packet.family),
                        transport: message, checksumOffset: 2, hopLimit: 64)
    }
}

extension PacketBuilder {
    /// What a router whose next hop takes at most `mtu` bytes sends back for `packet`: ICMPv4 3/4
    /// "fragmentation needed and DF set" with the next-hop MTU (RFC 1191 §4), or ICMPv6 "packet too
    /// big" (RFC 4443 §3.2, RFC 8201), quoting as much of the packet as the message may hold.
    public static func icmpPacketTooBig(mtu: Int, quoting packet: Packet, from source: IPAddress) -> [UInt8] {
        precondition(source.family == packet.family, "packet too big from a \(source.family) address for a \(packet.family) packet")
        var message: [UInt8]
        let limit: Int
        switch packet.family {
        case .v4:
            // Type 3, code 4, checksum, unused (16 bits), next-hop MTU (16 bits).
            message = [3, 4, 0, 0, 0, 0]
            message.appendBigEndian(UInt16(clamping: mtu))
            limit = 576
        case .v6:
            // Type 2, code 0, checksum, MTU (32 bits).
            message = [2, 0, 0, 0]
            message.appendBigEndian(UInt16(truncatingIfNeeded: mtu >> 16))
            message.appendBigEndian(UInt16(truncatingIfNeeded: mtu))
            limit = 1280
        }
        message += packet.bytes[0..<min(packet.bytes.count, limit - ipHeaderLength(packet.family) - 8)]
        return assemble(source: source, destination: packet.source, protocolNumber: ProtocolNumber.icmp(packet.family),
                        transport: message, checksumOffset: 2, hopLimit: 64)
    }
}

extension PacketBuilder {
    /// Protocol numbers (IANA "Assigned Internet Protocol Numbers").
    enum ProtocolNumber {
        static let tcp: UInt8 = 6
        static let udp: UInt8 = 17
        static let icmpV4: UInt8 = 1
        static let icmpV6: UInt8 = 58

        static func icmp(_ family: IPAddress.Family) -> UInt8 {
            family == .v4 ? icmpV4 : icmpV6
        }
    }

    static func ipHeaderLength(_ family: IPAddress.Family) -> Int {
        family == .v4 ? 20 : 40
    }

    /// Puts an IP header in front of `transport` and fills in the checksums: the IPv4 header's, and the
    /// transport's 16-bit field at `checksumOffset` (relative to the transport header).
    static func assemble(
        source: IPAddress, destination: IPAddress, protocolNumber: UInt8,
        transport: [UInt8], checksumOffset: Int, hopLimit: UInt8
    ) -> [UInt8] {
        precondition(source.family == destination.family, "\(source) and \(destination) are of different families")
        let headerLength = ipHeaderLength(source.family)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerLength + transport.count)
        switch source.family {
        case .v4:
            // RFC 791 §3.1: version 4, IHL 5; TOS 0; total length; identification; flags DF, offset 0.
            precondition(headerLength + transport.count <= Int(UInt16.max), "IPv4 packet longer than 65535 bytes")
            bytes += [0x45, 0]
            bytes.appendBigEndian(UInt16(headerLength + transport.count))
            bytes += [0, 0, 0x40, 0, hopLimit, protocolNumber, 0, 0]
        case .v6:
            // RFC 8200 §3: version 6, traffic class 0, flow label 0; payload length; next header; hop limit.
            precondition(transport.count <= Int(UInt16.max), "IPv6 payload longer than 65535 bytes")
            bytes += [0x60, 0, 0, 0]
            bytes.appendBigEndian(UInt16(transport.count))
            bytes += [protocolNumber, hopLimit]
        }
        bytes += source.bytes
        bytes += destination.bytes
        bytes += transport
        bytes.withUnsafeMutableBytes { buffer in
            if source.family == .v4 {
                buffer.storeBigEndian(internetChecksum(UnsafeRawBufferPointer(rebasing: buffer[0..<headerLength])), at: 10)
            }
            let segment = UnsafeRawBufferPointer(rebasing: buffer[headerLength...])
            // ICMPv4 alone has no pseudo-header (RFC 792); ICMPv6 does (RFC 4443 §2.3).
            let initial = protocolNumber == ProtocolNumber.icmpV4
                ? 0
                : pseudoHeaderSum(source: source, destination: destination, protocolNumber: protocolNumber, length: segment.count)
            var checksum = foldedChecksum(onesComplementSum(segment, initial: initial))
            // RFC 768: a computed UDP checksum of zero goes out as all ones, since zero means "none".
            if protocolNumber == ProtocolNumber.udp, checksum == 0 { checksum = 0xffff }
            buffer.storeBigEndian(checksum, at: headerLength + checksumOffset)
        }
        assert(bytes.withUnsafeBytes { (try? Packet(parsing: $0)) != nil }, "a built packet does not parse")
        return bytes
    }
}
