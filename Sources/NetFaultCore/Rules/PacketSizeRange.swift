/// The IP packet lengths a `size:` match takes, bounds included: `1400`, `1000-1500`, `">1400"`,
/// `">=1400"`, `"<100"`, `"<=100"`. The length is the whole packet's on the wire, IP header
/// included; a GSO super-packet is seen as the segments it becomes (a rule set with a `size:`
/// match has the kernel segment before queueing).
public struct PacketSizeRange: Hashable, Sendable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    /// The largest IP packet: 65 535 bytes (IPv4's total length, IPv6's 40-byte header plus its payload length).
    public static let largest = 65_535 + 40

    public init(_ lower: Int, _ upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    @inlinable
    public func contains(_ length: Int) -> Bool { lower <= length && length <= upper }

    /// Reads the forms above (spaces allowed after the comparison); nil when `text` is none of them.
    public init?(parsing text: String) {
        func number(_ part: Substring) -> Int? {
            let digits = part.drop { $0 == " " }
            guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(digits)
        }
        let text = Substring(text.trimmingSpaces)
        if text.hasPrefix(">=") || text.hasPrefix("<=") {
            guard let bound = number(text.dropFirst(2)) else { return nil }
            self = text.hasPrefix(">") ? PacketSizeRange(bound, Self.largest) : PacketSizeRange(0, bound)
        } else if text.hasPrefix(">") || text.hasPrefix("<") {
            guard let bound = number(text.dropFirst()) else { return nil }
            self = text.hasPrefix(">") ? PacketSizeRange(bound + 1, Self.largest) : PacketSizeRange(0, bound - 1)
        } else {
            let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let lower = number(parts[0]), let upper = parts.count == 2 ? number(parts[1]) : lower else { return nil }
            self = PacketSizeRange(lower, upper)
        }
    }

    /// `1000-1500 bytes`, `over 1400 bytes`, `under 100 bytes`, `1400 bytes`.
    public var description: String {
        if upper >= Self.largest { return "over \(lower - 1) bytes" }
        if lower == 0 { return "under \(upper + 1) bytes" }
        return lower == upper ? "\(lower) bytes" : "\(lower)-\(upper) bytes"
    }
}
