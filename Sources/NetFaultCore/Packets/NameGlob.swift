/// A glob over names, as the `tls_sni:`, `http.host:`, `http.path:` and `dns.name:` matches write
/// them: `*` any run of bytes (none included), `?` one byte, anything else itself. Matching is on
/// bytes, so a malformed name costs no decoding; `caseInsensitive` folds ASCII letters only, as
/// DNS names and TLS server names compare (RFC 4343, RFC 6066 §3).
public struct NameGlob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    public let caseInsensitive: Bool
    private let bytes: [UInt8]

    public init(_ pattern: String, caseInsensitive: Bool) {
        self.pattern = pattern
        self.caseInsensitive = caseInsensitive
        bytes = caseInsensitive ? pattern.utf8.map(Self.lowered) : Array(pattern.utf8)
    }

    public var description: String { "\"\(pattern)\"" }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: some Collection<UInt8>) -> Bool {
        let text = caseInsensitive ? name.map(Self.lowered) : Array(name)
        // Iterative matching with one backtrack point: linear in practice, never recursive.
        var p = 0, t = 0
        var star = -1, starText = 0
        while t < text.count {
            if p < bytes.count, bytes[p] == UInt8(ascii: "?") || (bytes[p] != UInt8(ascii: "*") && bytes[p] == text[t]) {
                p += 1
                t += 1
            } else if p < bytes.count, bytes[p] == UInt8(ascii: "*") {
                star = p
                starText = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < bytes.count, bytes[p] == UInt8(ascii: "*") { p += 1 }
        return p == bytes.count
    }

    static func lowered(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
