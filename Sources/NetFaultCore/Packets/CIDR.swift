/// An address block such as `198.18.1.0/24` or `2001:db8::/32`; a bare address is a /32 or /128.
public struct CIDR: Hashable, Sendable {
    /// The network address, with host bits cleared.
    public let network: IPAddress
    public let prefixLength: Int
    /// True when the text had bits set below the prefix (`198.18.1.7/24`): legal, but usually a typo.
    public let hadHostBits: Bool

    public var family: IPAddress.Family { network.family }

    /// Why a CIDR text was refused; the message is for a person.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnAddress(String)
        case badPrefix(String, max: Int)
        /// An IPv4-mapped address (`::ffff:198.18.0.0/64`) whose block reaches past the mapped range.
        case mappedPrefixTooShort(String)

        public var description: String {
            switch self {
            case .notAnAddress(let text):
                return "\"\(text)\" is not an IPv4 or IPv6 address or CIDR (leading zeros in an octet are refused)"
            case .badPrefix(let text, let max):
                return "\"\(text)\" has a prefix length outside 0-\(max)"
            case .mappedPrefixTooShort(let text):
                return "\"\(text)\" is an IPv4-mapped IPv6 address with a prefix shorter than 96, a block reaching past"
                    + " the IPv4-mapped range ::ffff:0:0/96; write the IPv4 block (::ffff:198.18.0.0/112 is 198.18.0.0/16)"
            }
        }
    }

    public init(network: IPAddress, prefixLength: Int) {
        let (high, low) = CIDR.masks(family: network.family, prefixLength: prefixLength)
        let masked = network.family == .v4
            ? IPAddress(v4: UInt32(truncatingIfNeeded: network.low & low))
            : IPAddress(v6High: network.high & high, low: network.low & low)
        self.network = masked
        self.prefixLength = prefixLength
        self.hadHostBits = masked != network
    }

    public init(parsing text: String) throws(ParseError) {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(pieces[0]) else { throw .notAnAddress(text) }
        let max = address.family == .v4 ? 32 : 128
        var length = max
        if pieces.count == 2 {
            guard !pieces[1].isEmpty, pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(pieces[1].count > 1 && pieces[1].first == "0"),
                  let parsed = Int(pieces[1]), parsed <= max else { throw .badPrefix(text, max: max) }
            length = parsed
        }
        self.init(network: address, prefixLength: length)
    }

    /// Whether `address` lies in this block; addresses of the other family never do.
    @inlinable
    public func contains(_ address: IPAddress) -> Bool {
        guard address.family == network.family else { return false }
        let (high, low) = CIDR.masks(family: network.family, prefixLength: prefixLength)
        return address.high & high == network.high && address.low & low == network.low
    }

    @usableFromInline
    static func masks(family: IPAddress.Family, prefixLength: Int) -> (high: UInt64, low: UInt64) {
        switch family {
        case .v4:
            return (0, prefixLength == 0 ? 0 : UInt64(UInt32.max << (32 - prefixLength)))
        case .v6:
            let high: UInt64 = prefixLength >= 64 ? .max : (prefixLength == 0 ? 0 : .max << (64 - prefixLength))
            let low: UInt64 = prefixLength <= 64 ? 0 : (prefixLength == 128 ? .max : .max << (128 - prefixLength))
            return (high, low)
        }
    }
}

extension CIDR {
    /// The IPv4 block an IPv4-mapped IPv6 address or block stands for, the prefix less 96:
    /// `::ffff:198.18.1.2` is 198.18.1.2, `::ffff:198.18.0.0/112` is 198.18.0.0/16. Nil when the
    /// text's address is not IPv4-mapped (`IPAddress.mappedIPv4`); a mapped address with a prefix
    /// under 96 is refused, its block reaching past the mapped range.
    public static func mappedIPv4(parsing text: String) throws(ParseError) -> CIDR? {
        guard let written = text.split(separator: "/", maxSplits: 1).first,
              let mapped = IPAddress(written)?.mappedIPv4 else { return nil }
        let block = try CIDR(parsing: text)
        guard block.prefixLength >= 96 else { throw .mappedPrefixTooShort(text) }
        return CIDR(network: mapped, prefixLength: block.prefixLength - 96)
    }
}

extension CIDR: CustomStringConvertible {
    public var description: String {
        let full = family == .v4 ? 32 : 128
        return prefixLength == full ? network.description : "\(network)/\(prefixLength)"
    }
}
