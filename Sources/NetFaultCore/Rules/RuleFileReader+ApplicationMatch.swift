import Yams

/// The matches that read what a connection carries: `tls_sni:`, `http:` and `dns:`.
extension RuleFileReader {
    static let httpKeys = ["method", "host", "path"]
    static let dnsKeys = ["name", "type"]

    /// `"*.blocked.example"`: a server name glob.
    mutating func readNameGlob(_ node: Node, _ path: String, what: String, caseInsensitive: Bool) -> NameGlob? {
        guard let text = scalar(node, path, expected: what) else { return nil }
        guard !text.isEmpty else {
            error(node, path, "is empty; use \"*\" for any")
            return nil
        }
        guard text.utf8.count <= 1024, text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            error(node, path, "\(Self.excerpt(text)) is not \(what): printable ASCII without spaces, up to 1024 bytes")
            return nil
        }
        return NameGlob(text, caseInsensitive: caseInsensitive)
    }

    /// `{method: POST, host: "api.example", path: "/upload*"}`.
    mutating func readHTTPMatch(_ node: Node, _ path: String) -> HTTPRequestMatch? {
        guard let entries = mapping(node, path, allowed: Self.httpKeys, what: "an HTTP request match") else { return nil }
        guard !entries.isEmpty else {
            error(node, path, "needs at least one of \(Self.httpKeys.joined(separator: ", "))")
            return nil
        }
        var match = HTTPRequestMatch()
        var valid = true
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            switch entry.key {
            case "method":
                guard let text = scalar(entry.value, fieldPath, expected: "a method such as GET or POST") else { valid = false; continue }
                guard !text.isEmpty, text.count <= 32, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "_") }) else {
                    error(entry.value, fieldPath, "\(Self.excerpt(text)) is not a method such as GET or POST")
                    valid = false
                    continue
                }
                match.method = text
            case "host":
                match.host = readNameGlob(entry.value, fieldPath, what: "a host name or glob", caseInsensitive: true)
                if match.host == nil { valid = false }
            case "path":
                match.path = readNameGlob(entry.value, fieldPath, what: "a path or glob such as /upload*", caseInsensitive: false)
                if match.path == nil { valid = false }
            default: break
            }
        }
        return valid ? match : nil
    }

    /// `{name: "*.example", type: A}`.
    mutating func readDNSMatch(_ node: Node, _ path: String) -> DNSQueryMatch? {
        guard let entries = mapping(node, path, allowed: Self.dnsKeys, what: "a DNS query match") else { return nil }
        guard !entries.isEmpty else {
            error(node, path, "needs at least one of \(Self.dnsKeys.joined(separator: ", "))")
            return nil
        }
        var match = DNSQueryMatch()
        var valid = true
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            switch entry.key {
            case "name":
                // A name written with the root's dot matches the same queries.
                match.name = readNameGlob(entry.value, fieldPath, what: "a domain name or glob", caseInsensitive: true)
                    .map { $0.pattern.count > 1 && $0.pattern.hasSuffix(".") ? NameGlob(String($0.pattern.dropLast()), caseInsensitive: true) : $0 }
                if match.name == nil { valid = false }
            case "type":
                let names = DNSType.names.map(\.name).joined(separator: ", ")
                guard let text = scalar(entry.value, fieldPath, expected: "a query type: \(names), or a number") else { valid = false; continue }
                guard let type = DNSType.value(named: text) else {
                    error(entry.value, fieldPath, "\(Self.excerpt(text)) is not a query type; use \(names), or a number 0-65535")
                    valid = false
                    continue
                }
                match.type = type
            default: break
            }
        }
        return valid ? match : nil
    }

    /// The application matches read client packets of the protocol they travel over, one at a time.
    mutating func checkApplicationMatches(_ match: inout Match, nodes: [String: Node], path: String) {
        let given = ["tls_sni", "http", "dns"].filter { nodes[$0] != nil }
        if given.count > 1 {
            error(nodes[given[1]]!, "\(path).\(given[1])", "a rule matches one of tls_sni, http or dns, and this one also has \(given[0])")
        }
        guard let key = given.first, let node = nodes[key] else { return }
        if nodes["protocol"] == nil, key == "dns" {
            // DNS is a UDP protocol first; `protocol: tcp` reads queries behind their length prefix.
            match.transport = .udp
        }
        if nodes["server_port"] == nil, key == "dns" { match.serverPort = PortRange(53) }
        switch (key, match.transport) {
        case ("tls_sni", .tcp), ("http", .tcp), ("dns", .tcp), ("dns", .udp): break
        case ("dns", _):
            error(node, "\(path).dns", "a DNS query travels over UDP or TCP, and this rule matches \(match.transport.rawValue)")
        default:
            let what = key == "http" ? "an HTTP/1.x request" : "a TLS ClientHello"
            error(node, "\(path).\(key)", "\(what) travels over TCP, and this rule matches \(match.transport.rawValue)")
        }
        if match.from == .server, let fromNode = nodes["from"] {
            error(fromNode, "\(path).from", "\(key) matches what the client sends; leave out from: or use from: client")
        }
    }
}
