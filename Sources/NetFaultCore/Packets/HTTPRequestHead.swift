/// An HTTP/1.x request line and its Host header, read from the start of a client segment
/// (RFC 9112 §3: `method SP request-target SP HTTP-version CRLF`, then header fields until an
/// empty line). Only what the segment holds is read: a Host header in a later segment is not seen.
public struct HTTPRequestHead: Equatable, Sendable {
    public let method: [UInt8]
    public let target: [UInt8]
    /// The Host header's value without its port; nil when the segment carries none.
    public let host: [UInt8]?

    /// The longest request line read; a longer one is not taken for a request.
    static let longestLine = 8192

    /// The request at the start of `payload`; nil when it does not start with an HTTP/1.x request line.
    public init?(_ payload: some RandomAccessCollection<UInt8>) {
        let data = Array(payload.prefix(Self.longestLine + 2 + 4096))
        guard let lineEnd = Self.lineEnd(in: data, from: 0), lineEnd <= Self.longestLine else { return nil }
        let line = data[0..<lineEnd]
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
              parts[0].allSatisfy(Self.isTokenCharacter),
              parts[2].elementsEqual("HTTP/1.0".utf8) || parts[2].elementsEqual("HTTP/1.1".utf8) else { return nil }
        method = Array(parts[0])
        target = Array(parts[1])
        var host: [UInt8]?
        var start = lineEnd + 2
        while let end = Self.lineEnd(in: data, from: start), end > start {
            let field = data[start..<end]
            if let colon = field.firstIndex(of: UInt8(ascii: ":")),
               field[start..<colon].map(NameGlob.lowered).elementsEqual("host".utf8) {
                host = Self.withoutPort(Array(field[(colon + 1)...]).trimmingSpaces)
                break
            }
            start = end + 2
        }
        self.host = host
    }

    /// The path of the request target: an absolute-form target (`http://host/path`) loses its scheme and authority.
    public var path: [UInt8] {
        guard let scheme = target.firstRange(of: Array("://".utf8)) else { return target }
        let rest = target[scheme.upperBound...]
        return rest.firstIndex(of: UInt8(ascii: "/")).map { Array(rest[$0...]) } ?? Array("/".utf8)
    }

    private static func lineEnd(in data: [UInt8], from start: Int) -> Int? {
        guard start < data.count else { return nil }
        var index = start
        while index + 1 < data.count {
            if data[index] == 13, data[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// `api.example:8080` → `api.example`; `[2001:db8::1]:80` → `[2001:db8::1]`.
    private static func withoutPort(_ host: [UInt8]) -> [UInt8] {
        guard let colon = host.lastIndex(of: UInt8(ascii: ":")),
              !host[(colon + 1)...].isEmpty, host[(colon + 1)...].allSatisfy({ (48...57).contains($0) }),
              host.first != UInt8(ascii: "[") || host[colon - 1] == UInt8(ascii: "]") else { return host }
        return Array(host[..<colon])
    }

    /// RFC 9110 §5.6.2 tchar.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        (0x21...0x7e).contains(byte) && !Array("\"(),/:;<=>?@[\\]{}".utf8).contains(byte)
    }
}

extension Array where Element == UInt8 {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(self[first...last])
    }
}
