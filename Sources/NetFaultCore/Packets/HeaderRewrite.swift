/// Header fields a `rewrite` action changes in flight; nil leaves a field as it was.
public struct HeaderRewrite: Hashable, Sendable {
    /// TCP receive window (the raw 16-bit field; window scaling is the endpoints' business).
    public var window: UInt16?
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8?
    /// IPv4 TOS byte or IPv6 traffic class.
    public var tos: UInt8?
    /// The TCP flag byte, replaced whole.
    public var flags: TCPFlags?
    /// Keep at most this many payload bytes; IP length fields shrink to match.
    public var truncate: Int?
    /// TCP options overwritten with no-operations (the header keeps its length).
    public var stripOptions: TCPOptionKinds?
    /// A TCP MSS option above this is lowered to it.
    public var clampMSS: UInt16?
    /// Added to the TCP sequence number, modulo 2^32 (`shift_seq`).
    public var sequenceDelta: UInt32?
    /// Added to the TCP acknowledgment number, modulo 2^32 (`shift_seq`, the other way: 2^32 less
    /// the offset). SACK blocks are left as they are.
    public var acknowledgmentDelta: UInt32?

    public init(window: UInt16? = nil, ttl: UInt8? = nil, tos: UInt8? = nil, flags: TCPFlags? = nil, truncate: Int? = nil,
                stripOptions: TCPOptionKinds? = nil, clampMSS: UInt16? = nil, sequenceDelta: UInt32? = nil,
                acknowledgmentDelta: UInt32? = nil) {
        self.window = window
        self.ttl = ttl
        self.tos = tos
        self.flags = flags
        self.truncate = truncate
        self.stripOptions = stripOptions
        self.clampMSS = clampMSS
        self.sequenceDelta = sequenceDelta
        self.acknowledgmentDelta = acknowledgmentDelta
    }
}

/// Which ICMP "destination unreachable" a rejecting firewall answers with.
public enum UnreachableReason: String, Sendable, CaseIterable {
    /// ICMPv4 3/3, ICMPv6 1/4.
    case port
    /// ICMPv4 3/1, ICMPv6 1/3 (address unreachable).
    case host
    /// ICMPv4 3/13, ICMPv6 1/1.
    case adminProhibited
}
