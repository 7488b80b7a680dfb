/// `http: {method: POST, host: "api.example", path: "/upload*"}`: an HTTP/1.x request at the start
/// of a client segment; each field given must hold.
public struct HTTPRequestMatch: Sendable, Hashable {
    /// The method, exactly (methods are case-sensitive, RFC 9110 §9.1).
    public var method: String?
    /// The Host header without its port, a glob, case-insensitive.
    public var host: NameGlob?
    /// The request target's path (with its query), a glob, case-sensitive.
    public var path: NameGlob?

    public init(method: String? = nil, host: NameGlob? = nil, path: NameGlob? = nil) {
        self.method = method
        self.host = host
        self.path = path
    }

    func matches(_ request: HTTPRequestHead) -> Bool {
        if let method, !request.method.elementsEqual(method.utf8) { return false }
        if let host {
            guard let requestHost = request.host, host.matches(requestHost) else { return false }
        }
        if let path, !path.matches(request.path) { return false }
        return true
    }

    var summary: String {
        var words: [String] = []
        if let method { words.append(method) }
        words.append("request")
        if let path { words.append("for \(path)") }
        if let host { words.append("to host \(host)") }
        return "an HTTP " + words.joined(separator: " ")
    }
}

/// `dns: {name: "*.example", type: A}`: a DNS query (QR = 0) for that name and type; either may be left out.
public struct DNSQueryMatch: Sendable, Hashable {
    /// The queried name (no trailing dot), a glob, case-insensitive.
    public var name: NameGlob?
    /// The query type (QTYPE).
    public var type: UInt16?

    public init(name: NameGlob? = nil, type: UInt16? = nil) {
        self.name = name
        self.type = type
    }

    func matches(_ query: DNSQuery) -> Bool {
        if let type, query.type != type { return false }
        if let name, !name.matches(query.name) { return false }
        return true
    }

    var summary: String {
        "a DNS query" + (type.map { " of type \(DNSType.name(of: $0))" } ?? "") + (name.map { " for \($0)" } ?? "")
    }
}
