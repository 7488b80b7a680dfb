/// The TCP header's flag byte (RFC 9293 §3.1), bit for bit.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// The six flags a rule's `flags:` compares exactly; ECE and CWR (ECN) only when it lists them.
    public static let matchable: TCPFlags = [.fin, .syn, .rst, .psh, .ack, .urg]

    /// Names as written in rule files, in header order.
    public static let names: [(name: String, flag: TCPFlags)] = [
        ("fin", .fin), ("syn", .syn), ("rst", .rst), ("psh", .psh), ("ack", .ack), ("urg", .urg),
        ("ece", .ece), ("cwr", .cwr),
    ]

    public init?(name: String) {
        guard let entry = TCPFlags.names.first(where: { $0.name == name }) else { return nil }
        self = entry.flag
    }
}

extension TCPFlags: CustomStringConvertible {
    /// `syn|ack` style, as tcpdump users read it.
    public var description: String {
        let set = TCPFlags.names.filter { contains($0.flag) }.map(\.name)
        return set.isEmpty ? "none" : set.joined(separator: "|")
    }
}
