/// An IPv4 or IPv6 address held in two machine words, so that flow keys hash without allocating.
///
/// IPv4 addresses live in the low 32 bits of `low`; `high` is zero.
public struct IPAddress: Hashable, Sendable, Comparable {
    public enum Family: UInt8, Sendable { case v4 = 4, v6 = 6 }

    // The words first, the family last: 17 bytes, so an address and a port fit in 24 (a flow key
    // in 48), where the other order pads them to 32 (and 72).
    public let high: UInt64
    public let low: UInt64
    public let family: Family

    public init(v4 value: UInt32) {
        family = .v4
        high = 0
        low = UInt64(value)
    }

    public init(v6High high: UInt64, low: UInt64) {
        family = .v6
        self.high = high
        self.low = low
    }

    /// The address as the network-order bytes found on the wire: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch family {
        case .v4: return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) }
        case .v6:
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
        }
    }

    /// The IPv4 value; meaningful only when `family == .v4`.
    public var v4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.family.rawValue, lhs.high, lhs.low) < (rhs.family.rawValue, rhs.high, rhs.low)
    }
}

extension IPAddress {
    /// The IPv4 address an IPv4-mapped IPv6 address stands for (`::ffff:198.18.1.2` is 198.18.1.2,
    /// RFC 4291 §2.5.5.2); nil for any other address. No packet on the wire carries a mapped
    /// address: a dual-stack socket shows its IPv4 peers so, but their packets are IPv4.
    public var mappedIPv4: IPAddress? {
        guard family == .v6, high == 0, low >> 32 == 0xffff else { return nil }
        return IPAddress(v4: UInt32(truncatingIfNeeded: low))
    }
}

extension IPAddress {
    /// Reads an address from `count` (4 or 16) network-order bytes at `offset`; the caller checks bounds.
    @inlinable
    init(wire buffer: UnsafeRawBufferPointer, at offset: Int, family: Family) {
        switch family {
        case .v4:
            self.init(v4: buffer.loadBigEndianUInt32(at: offset))
        case .v6:
            self.init(v6High: buffer.loadBigEndianUInt64(at: offset), low: buffer.loadBigEndianUInt64(at: offset + 8))
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad for IPv4; RFC 5952 text (lower case, longest zero run compressed) for IPv6.
    public var description: String {
        switch family {
        case .v4:
            let v = v4Value
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        case .v6:
            let groups: [UInt16] = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0...8 {
                if i < 8, groups[i] == 0 {
                    if runStart < 0 { runStart = i }
                } else if runStart >= 0 {
                    if i - runStart > bestLength, i - runStart > 1 { bestStart = runStart; bestLength = i - runStart }
                    runStart = -1
                }
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            if bestStart < 0 { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
        }
    }
}

extension IPAddress {
    /// Parses dotted-quad IPv4 (no leading zeros: `010.0.0.1` is ambiguous and refused) or IPv6 text
    /// (with `::` compression and an embedded dotted quad). Returns nil when the text is not an address.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let parsed = IPAddress.parseV6(Substring(text)) else { return nil }
            self = parsed
        } else {
            guard let value = IPAddress.parseV4(Substring(text)) else { return nil }
            self.init(v4: value)
        }
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(part.count > 1 && part.first == "0"),
                  let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseV6(_ text: Substring) -> IPAddress? {
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var halves: [String] = []
        if let gap = text.firstRange(of: "::") {
            let after = text[gap.upperBound...]
            guard !after.contains("::") else { return nil }
            halves = [String(text[..<gap.lowerBound]), String(after)]
        } else {
            halves = [String(text)]
        }
        func parseGroups(_ part: String, allowV4Suffix: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if allowV4Suffix, index == fields.count - 1, field.contains(".") {
                    guard let v4 = parseV4(field) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xffff))
                    continue
                }
                // UInt16(_:radix:) would also take a leading "+" or "-"; RFC 4291 §2.2 allows hex digits only.
                guard (1...4).contains(field.count), field.allSatisfy({ $0.isASCII && $0.isHexDigit }),
                      let group = UInt16(field, radix: 16) else { return nil }
                result.append(group)
            }
            return result
        }
        if halves.count == 2 {
            guard let head = parseGroups(halves[0], allowV4Suffix: false),
                  let rest = parseGroups(halves[1], allowV4Suffix: true),
                  head.count + rest.count <= 7 else { return nil }
            groups = head
            tail = rest
            groups += Array(repeating: 0, count: 8 - head.count - rest.count) + tail
        } else {
            guard let all = parseGroups(halves[0], allowV4Suffix: true), all.count == 8 else { return nil }
            groups = all
        }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return IPAddress(v6High: high, low: low)
    }
}
