/// The start of the packet an ICMP error quotes (RFC 792: the IP header and at least 8 bytes of
/// what follows; RFC 4443: as much as fits): enough to name the connection it belongs to.
public struct QuotedHeader: Sendable, Equatable {
    public var transport: Transport
    public var source: Endpoint
    public var destination: Endpoint
}

extension Packet {
    /// What kind of destination-unreachable this is; nil for every other packet.
    public var unreachableReason: UnreachableReason? {
        guard transport == .icmp else { return nil }
        switch (family, icmpType, icmpCode) {
        case (.v4, 3, 3), (.v6, 1, 4): return .port
        case (.v4, 3, 9), (.v4, 3, 10), (.v4, 3, 13), (.v6, 1, 1), (.v6, 1, 5), (.v6, 1, 6): return .adminProhibited
        case (.v4, 3, _), (.v6, 1, _): return .host
        default: return nil
        }
    }

    /// The TCP or UDP packet an ICMP error quotes, read leniently: the quote is cut short by
    /// design, so only the addresses and ports must be there. Nil when they are not, or when this
    /// is no ICMP error.
    public var quotedHeader: QuotedHeader? {
        guard isICMPError else { return nil }
        let quote = payload
        guard let first = quote.first else { return nil }
        var protocolNumber: UInt8
        var offset: Int
        let family: IPAddress.Family
        switch first >> 4 {
        case 4:
            family = .v4
            offset = Int(first & 0x0f) * 4
            guard offset >= 20, quote.count >= 20 else { return nil }
            // A non-initial fragment quotes no transport header.
            guard quote.loadBigEndianUInt16(at: 6) & 0x1fff == 0 else { return nil }
            protocolNumber = quote[9]
        case 6:
            family = .v6
            guard quote.count >= 40 else { return nil }
            protocolNumber = quote[6]
            offset = 40
            // Extension headers with the common length format (hop-by-hop, routing, destination options).
            while [0, 43, 60].contains(protocolNumber) {
                guard quote.count >= offset + 2 else { return nil }
                protocolNumber = quote[offset]
                offset += (Int(quote[offset + 1]) + 1) * 8
            }
        default:
            return nil
        }
        let transport: Transport
        switch protocolNumber {
        case 6: transport = .tcp
        case 17: transport = .udp
        default: return nil
        }
        let addressLength = family == .v4 ? 4 : 16
        let addressOffset = family == .v4 ? 12 : 8
        guard quote.count >= offset + 4 else { return nil }
        let source = IPAddress(wire: quote, at: addressOffset, family: family)
        let destination = IPAddress(wire: quote, at: addressOffset + addressLength, family: family)
        return QuotedHeader(transport: transport,
                            source: Endpoint(source, quote.loadBigEndianUInt16(at: offset)),
                            destination: Endpoint(destination, quote.loadBigEndianUInt16(at: offset + 2)))
    }
}
