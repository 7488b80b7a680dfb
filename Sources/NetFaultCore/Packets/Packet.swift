/// The transport a rule can name. ICMP covers both ICMPv4 and ICMPv6.
public enum Transport: String, Sendable, CaseIterable {
    case tcp, udp, icmp
}

/// A parsed view of one IP packet. It borrows `bytes`, which must outlive it: the queue hands a
/// packet's memory to the engine for one call, and nothing here copies it.
///
/// Non-initial fragments and protocols other than TCP/UDP/ICMP parse with `transport == nil`.
public struct Packet {
    /// The IP packet, trimmed to the length its header states; only its first bytes when the
    /// capture was truncated (`isCaptureTruncated`).
    public let bytes: UnsafeRawBufferPointer
    /// The whole packet's length, as its header states (more than `bytes.count` when truncated).
    public let length: Int
    public let family: IPAddress.Family
    public let source: IPAddress
    public let destination: IPAddress
    /// The protocol number of the header after the IP header chain (IPv6 extension headers skipped).
    public let protocolNumber: UInt8
    public let transport: Transport?
    /// Offset of the transport header: the IPv4 header with options, or the IPv6 header chain.
    public let transportOffset: Int
    /// Whether this is any piece of a fragmented datagram (its payload is not the whole message).
    public let isFragment: Bool
    public let timeToLive: UInt8
    public let trafficClass: UInt8

    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public let sequenceNumber: UInt32
    public let acknowledgmentNumber: UInt32
    public let tcpFlags: TCPFlags
    public let window: UInt16
    public let icmpType: UInt8
    public let icmpCode: UInt8

    /// Where the transport payload starts and how long it is in the whole packet (0 for
    /// headers-only packets).
    public let payloadOffset: Int
    public let payloadLength: Int

    /// Only the packet's first bytes were captured: its payload is not all here.
    @inlinable
    public var isCaptureTruncated: Bool { bytes.count < length }

    /// The transport payload, borrowed from `bytes`: what was captured of it.
    @inlinable
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[payloadOffset..<min(payloadOffset + payloadLength, bytes.count)])
    }

    /// The sequence space this segment occupies: payload plus one each for SYN and FIN (RFC 9293 §3.4).
    @inlinable
    public var sequenceLength: UInt32 {
        UInt32(payloadLength) + (tcpFlags.contains(.syn) ? 1 : 0) + (tcpFlags.contains(.fin) ? 1 : 0)
    }

    /// Whether this packet is an ICMP/ICMPv6 error (it quotes another packet rather than carrying data).
    public var isICMPError: Bool {
        guard transport == .icmp else { return false }
        return family == .v4 ? [3, 4, 5, 11, 12].contains(icmpType) : icmpType < 128
    }
}
