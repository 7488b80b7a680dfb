/// Why bytes did not parse as a packet. Hostile or truncated input lands here; parsing never traps.
public enum PacketParseError: Error, Equatable, Sendable {
    case truncated(layer: Layer, needed: Int, available: Int)
    case unsupportedVersion(UInt8)
    case badHeaderLength(layer: Layer, length: Int)
    case tooManyExtensionHeaders

    public enum Layer: String, Sendable { case ipv4, ipv6, ipv6Extension, tcp, udp, icmp }
}

extension Packet {
    /// Parses an IPv4 or IPv6 packet starting at the first byte of `bytes`.
    ///
    /// A packet that says it is longer than `bytes` is truncated and refused; trailing bytes beyond the
    /// stated length (link padding) are ignored. A stated length of zero is taken as "the whole buffer",
    /// which is how GSO super-packets above 64 KiB arrive.
    ///
    /// `originalLength`: the packet was `originalLength` bytes long and only its first `bytes.count`
    /// were captured (the queue copies headers only when no rule needs payload). Its headers must
    /// lie within the capture; its lengths are those of the whole packet, its `payload` only the
    /// captured part (`isCaptureTruncated`).
    public init(parsing bytes: UnsafeRawBufferPointer, originalLength: Int? = nil) throws(PacketParseError) {
        guard bytes.count >= 1 else { throw .truncated(layer: .ipv4, needed: 1, available: 0) }
        let version = bytes[0] >> 4
        let original = max(bytes.count, originalLength ?? 0)
        var header: NetworkHeader
        switch version {
        case 4: header = try NetworkHeader(ipv4: bytes, originalLength: original)
        case 6: header = try NetworkHeader(ipv6: bytes, originalLength: original)
        default: throw .unsupportedVersion(version)
        }
        let packet = UnsafeRawBufferPointer(rebasing: bytes[0..<min(header.totalLength, bytes.count)])
        try self.init(packet, header: &header)
    }

    private init(_ bytes: UnsafeRawBufferPointer, header: inout NetworkHeader) throws(PacketParseError) {
        self.bytes = bytes
        length = header.totalLength
        family = header.family
        source = header.source
        destination = header.destination
        protocolNumber = header.protocolNumber
        transportOffset = header.transportOffset
        isFragment = header.isFragment
        timeToLive = header.timeToLive
        trafficClass = header.trafficClass

        var fields = TransportFields()
        let offset = header.transportOffset
        let available = bytes.count - offset
        var transport: Transport?
        if header.carriesTransportHeader {
            switch header.protocolNumber {
            case 6:
                // RFC 9293 §3.1: data offset in 32-bit words, at least 5.
                guard available >= 20 else { throw .truncated(layer: .tcp, needed: 20, available: available) }
                let headerLength = Int(bytes[offset + 12] >> 4) * 4
                guard headerLength >= 20 else { throw .badHeaderLength(layer: .tcp, length: headerLength) }
                guard available >= headerLength else {
                    throw .truncated(layer: .tcp, needed: headerLength, available: available)
                }
                fields.sourcePort = bytes.loadBigEndianUInt16(at: offset)
                fields.destinationPort = bytes.loadBigEndianUInt16(at: offset + 2)
                fields.sequenceNumber = bytes.loadBigEndianUInt32(at: offset + 4)
                fields.acknowledgmentNumber = bytes.loadBigEndianUInt32(at: offset + 8)
                fields.tcpFlags = TCPFlags(rawValue: bytes[offset + 13])
                fields.window = bytes.loadBigEndianUInt16(at: offset + 14)
                fields.payloadOffset = offset + headerLength
                transport = .tcp
            case 17:
                guard available >= 8 else { throw .truncated(layer: .udp, needed: 8, available: available) }
                fields.sourcePort = bytes.loadBigEndianUInt16(at: offset)
                fields.destinationPort = bytes.loadBigEndianUInt16(at: offset + 2)
                fields.payloadOffset = offset + 8
                transport = .udp
            case 1 where header.family == .v4, 58 where header.family == .v6:
                guard available >= 8 else { throw .truncated(layer: .icmp, needed: 8, available: available) }
                fields.icmpType = bytes[offset]
                fields.icmpCode = bytes[offset + 1]
                // Echo request/reply (v4 8/0, v6 128/129) belong to a flow keyed by their identifier.
                if [0, 8, 128, 129].contains(fields.icmpType) {
                    let identifier = bytes.loadBigEndianUInt16(at: offset + 4)
                    fields.sourcePort = identifier
                    fields.destinationPort = identifier
                }
                fields.payloadOffset = offset + 8
                transport = .icmp
            default:
                fields.payloadOffset = offset
            }
        } else {
            fields.payloadOffset = offset
        }
        self.transport = transport
        sourcePort = fields.sourcePort
        destinationPort = fields.destinationPort
        sequenceNumber = fields.sequenceNumber
        acknowledgmentNumber = fields.acknowledgmentNumber
        tcpFlags = fields.tcpFlags
        window = fields.window
        icmpType = fields.icmpType
        icmpCode = fields.icmpCode
        payloadOffset = transport == nil ? bytes.count : fields.payloadOffset
        payloadLength = transport == nil ? 0 : header.totalLength - payloadOffset
    }
}

private struct TransportFields {
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var sequenceNumber: UInt32 = 0
    var acknowledgmentNumber: UInt32 = 0
    var tcpFlags: TCPFlags = []
    var window: UInt16 = 0
    var icmpType: UInt8 = 0
    var icmpCode: UInt8 = 0
    var payloadOffset = 0
}

/// What the IP layer says: addresses, the next protocol, where it starts, and how long the packet is.
private struct NetworkHeader {
    var family: IPAddress.Family
    var source: IPAddress
    var destination: IPAddress
    var protocolNumber: UInt8
    var transportOffset: Int
    var totalLength: Int
    var isFragment: Bool
    /// False for a non-initial fragment, whose bytes start mid-message.
    var carriesTransportHeader: Bool
    var timeToLive: UInt8
    var trafficClass: UInt8

    /// RFC 791 §3.1. `originalLength`: see `Packet.init(parsing:originalLength:)`.
    init(ipv4 bytes: UnsafeRawBufferPointer, originalLength: Int) throws(PacketParseError) {
        guard bytes.count >= 20 else { throw .truncated(layer: .ipv4, needed: 20, available: bytes.count) }
        let headerLength = Int(bytes[0] & 0x0f) * 4
        guard headerLength >= 20 else { throw .badHeaderLength(layer: .ipv4, length: headerLength) }
        guard bytes.count >= headerLength else { throw .truncated(layer: .ipv4, needed: headerLength, available: bytes.count) }
        let stated = Int(bytes.loadBigEndianUInt16(at: 2))
        let total = stated == 0 ? originalLength : stated
        guard total >= headerLength else { throw .badHeaderLength(layer: .ipv4, length: headerLength) }
        guard originalLength >= total else { throw .truncated(layer: .ipv4, needed: total, available: originalLength) }
        let fragmentField = bytes.loadBigEndianUInt16(at: 6)
        let moreFragments = fragmentField & 0x2000 != 0
        let fragmentOffset = fragmentField & 0x1fff
        family = .v4
        trafficClass = bytes[1]
        timeToLive = bytes[8]
        protocolNumber = bytes[9]
        source = IPAddress(wire: bytes, at: 12, family: .v4)
        destination = IPAddress(wire: bytes, at: 16, family: .v4)
        transportOffset = headerLength
        totalLength = total
        isFragment = moreFragments || fragmentOffset != 0
        carriesTransportHeader = fragmentOffset == 0
    }

    /// RFC 8200 §3-4: the fixed header, then extension headers until an upper-layer protocol.
    init(ipv6 bytes: UnsafeRawBufferPointer, originalLength: Int) throws(PacketParseError) {
        guard bytes.count >= 40 else { throw .truncated(layer: .ipv6, needed: 40, available: bytes.count) }
        let stated = Int(bytes.loadBigEndianUInt16(at: 4))
        let total = stated == 0 ? originalLength : 40 + stated
        guard originalLength >= total else { throw .truncated(layer: .ipv6, needed: total, available: originalLength) }
        // Extension headers are read from what was captured.
        let captured = min(total, bytes.count)
        family = .v6
        trafficClass = UInt8(truncatingIfNeeded: bytes.loadBigEndianUInt16(at: 0) >> 4)
        timeToLive = bytes[7]
        source = IPAddress(wire: bytes, at: 8, family: .v6)
        destination = IPAddress(wire: bytes, at: 24, family: .v6)
        totalLength = total
        isFragment = false
        carriesTransportHeader = true

        var next = bytes[6]
        var offset = 40
        var seen = 0
        while true {
            let length: Int
            switch next {
            case 0, 43, 60, 135, 139, 140:  // hop-by-hop, routing, destination options, mobility, HIP, shim6
                guard captured - offset >= 8 else {
                    throw .truncated(layer: .ipv6Extension, needed: 8, available: captured - offset)
                }
                length = (Int(bytes[offset + 1]) + 1) * 8
            case 44:  // fragment (RFC 8200 §4.5): fixed 8 bytes
                guard captured - offset >= 8 else {
                    throw .truncated(layer: .ipv6Extension, needed: 8, available: captured - offset)
                }
                isFragment = true
                // A non-first fragment continues mid-way through the fragmentable part: its Next Header
                // names the first header of that part, which this fragment does not hold, so stop here.
                if bytes.loadBigEndianUInt16(at: offset + 2) & 0xfff8 != 0 {
                    carriesTransportHeader = false
                    protocolNumber = bytes[offset]
                    transportOffset = offset + 8
                    return
                }
                length = 8
            case 51:  // authentication header (RFC 4302 §2.2): length in 4-byte units minus 2
                guard captured - offset >= 8 else {
                    throw .truncated(layer: .ipv6Extension, needed: 8, available: captured - offset)
                }
                length = (Int(bytes[offset + 1]) + 2) * 4
            default:
                protocolNumber = next
                transportOffset = offset
                return
            }
            guard captured - offset >= length else {
                throw .truncated(layer: .ipv6Extension, needed: length, available: captured - offset)
            }
            seen += 1
            guard seen <= 32 else { throw .tooManyExtensionHeaders }
            next = bytes[offset]
            offset += length
        }
    }
}
