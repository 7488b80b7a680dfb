/// TCP options by what they are for (RFC 9293 §3.2 and IANA's registry), as rule files name them:
/// what `strip_options` removes.
public struct TCPOptionKinds: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Kind 2: the largest segment the sender accepts.
    public static let mss = TCPOptionKinds(rawValue: 1 << 0)
    /// Kind 3 (RFC 7323): window scaling.
    public static let wscale = TCPOptionKinds(rawValue: 1 << 1)
    /// Kind 4 (RFC 2018): SACK permitted.
    public static let sackok = TCPOptionKinds(rawValue: 1 << 2)
    /// Kind 5 (RFC 2018): SACK blocks.
    public static let sack = TCPOptionKinds(rawValue: 1 << 3)
    /// Kind 8 (RFC 7323): timestamps.
    public static let timestamps = TCPOptionKinds(rawValue: 1 << 4)
    /// Kind 30 (RFC 8684): multipath TCP.
    public static let mptcp = TCPOptionKinds(rawValue: 1 << 5)
    /// Kind 34 (RFC 7413): TCP Fast Open cookie.
    public static let tfo = TCPOptionKinds(rawValue: 1 << 6)
    /// Any other kind but end-of-list and no-operation: what "unknown" options firewalls clear.
    /// Kinds 6-7 (echo) and 9-255 but 30 and 34: with `mptcp` and `tfo`, the ASA's 6-7 and 9-255.
    public static let unknown = TCPOptionKinds(rawValue: 1 << 7)

    /// Names as written in rule files.
    public static let names: [(name: String, kinds: TCPOptionKinds)] = [
        ("mss", .mss), ("wscale", .wscale), ("sackok", .sackok), ("sack", .sack), ("timestamps", .timestamps),
        ("mptcp", .mptcp), ("tfo", .tfo), ("unknown", .unknown),
    ]

    /// The set an option of `kind` belongs to; empty for end-of-list (0) and no-operation (1).
    public init(kind: UInt8) {
        switch kind {
        case 0, 1: self = []
        case 2: self = .mss
        case 3: self = .wscale
        case 4: self = .sackok
        case 5: self = .sack
        case 8: self = .timestamps
        case 30: self = .mptcp
        case 34: self = .tfo
        default: self = .unknown
        }
    }
}

extension TCPOptionKinds: CustomStringConvertible {
    /// `wscale, sackok`, in the order rule files list them.
    public var description: String { Self.names.filter { contains($0.kinds) }.map(\.name).joined(separator: ", ") }
}

/// Where each option of a TCP header lies: kind, offset and length (no-operations and the end of
/// the list left out). Walks `bytes[start..<end]` (the options area) and stops at end-of-list or
/// at an option whose length does not fit.
func forEachTCPOption(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, _ body: (_ kind: UInt8, _ offset: Int, _ length: Int) -> Void) {
    var offset = start
    let end = min(end, bytes.count)
    while offset < end {
        let kind = bytes[offset]
        if kind == 0 { return }
        if kind == 1 {
            offset += 1
            continue
        }
        guard offset + 1 < end else { return }
        let length = Int(bytes[offset + 1])
        guard length >= 2, offset + length <= end else { return }
        body(kind, offset, length)
        offset += length
    }
}

extension Packet {
    /// The options this TCP packet carries; empty for other transports.
    public var tcpOptionKinds: TCPOptionKinds {
        guard transport == .tcp else { return [] }
        var kinds: TCPOptionKinds = []
        forEachTCPOption(in: bytes, from: transportOffset + 20, to: payloadOffset) { kind, _, _ in kinds.insert(TCPOptionKinds(kind: kind)) }
        return kinds
    }
}
