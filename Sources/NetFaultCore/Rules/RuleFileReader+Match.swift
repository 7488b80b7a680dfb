import Yams

extension RuleFileReader {
    static let matchKeys = [
        "protocol", "client", "server", "client_port", "server_port", "from", "flags", "size", "options", "payload",
        "after_bytes", "after", "idle", "nth", "connection", "concurrent_over", "probability", "correlation",
        "tls_sni", "http", "dns",
    ]

    mutating func readMatch(_ node: Node, _ path: String) -> Match {
        var match = Match()
        guard let entries = mapping(node, path, allowed: Self.matchKeys, what: "a match") else { return match }
        var nodes: [String: Node] = [:]
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            let value = entry.value
            nodes[entry.key] = value
            switch entry.key {
            case "protocol":
                match.transport = keyword(value, fieldPath, as: Transport.self, what: "a protocol") ?? .tcp
            case "client": match.client = readCIDR(value, fieldPath)
            case "server": match.server = readCIDR(value, fieldPath)
            case "client_port": match.clientPort = readPorts(value, fieldPath)
            case "server_port": match.serverPort = readPorts(value, fieldPath)
            case "from": match.from = keyword(value, fieldPath, as: Side.self, what: "a side")
            case "flags": match.flags = readFlags(value, fieldPath)
            case "size": match.size = readSize(value, fieldPath)
            case "options": match.options = tcpOptionList(value, fieldPath)
            case "payload": match.payload = readPayload(value, fieldPath)
            case "after_bytes": match.afterBytes = size(value, fieldPath)
            case "after": match.after = duration(value, fieldPath)
            case "idle": match.idle = duration(value, fieldPath)
            case "nth": match.nth = integer(value, fieldPath, in: 1...Int(Int32.max), what: "a packet count from 1")
            case "connection": match.connection = readConnectionRange(value, fieldPath)
            case "concurrent_over":
                match.concurrentOver = integer(value, fieldPath, in: 0...Int(Int32.max), what: "a connection count")
            case "probability": match.probability = readProbability(value, fieldPath)
            case "correlation": match.correlation = percentage(value, fieldPath)
            case "tls_sni": match.tlsSNI = readNameGlob(value, fieldPath, what: "a server name or glob such as *.blocked.example",
                                                        caseInsensitive: true)
            case "http": match.http = readHTTPMatch(value, fieldPath)
            case "dns": match.dns = readDNSMatch(value, fieldPath)
            default: break
            }
        }
        checkApplicationMatches(&match, nodes: nodes, path: path)
        checkConsistency(match, nodes: nodes, path: path, node: node)
        return match
    }

    /// Combinations no packet can satisfy are errors, not silent no-ops.
    private mutating func checkConsistency(_ match: Match, nodes: [String: Node], path: String, node: Node) {
        if match.transport != .tcp, let flagsNode = nodes["flags"] {
            error(flagsNode, "\(path).flags", "only TCP packets have flags, and this rule matches \(match.transport.rawValue)")
        }
        if match.transport != .tcp, let optionsNode = nodes["options"] {
            error(optionsNode, "\(path).options", "only TCP packets have TCP options, and this rule matches \(match.transport.rawValue)")
        }
        if match.transport == .icmp {
            for key in ["client_port", "server_port"] where nodes[key] != nil {
                error(nodes[key]!, "\(path).\(key)", "ICMP has no ports; match on client/server addresses instead")
            }
        }
        if let correlationNode = nodes["correlation"], nodes["probability"] == nil {
            error(correlationNode, "\(path).correlation", "correlates the probability rolls, and this match has no probability")
        }
        if let client = match.client, let server = match.server, client.family != server.family {
            error(nodes["server"]!, "\(path).server",
                  "is IPv\(server.family.rawValue) but client is IPv\(client.family.rawValue): no connection can match both")
        }
    }

    private mutating func readCIDR(_ node: Node, _ path: String) -> CIDR? {
        guard let text = scalar(node, path, expected: "an address or CIDR such as 198.18.1.0/24") else { return nil }
        do {
            var cidr = try CIDR(parsing: text)
            if let mapped = try CIDR.mappedIPv4(parsing: text) {
                warning(node, path, "\(text) is an IPv4-mapped IPv6 address, which no IPv6 packet carries (the IPv4 peers"
                    + " of a dual-stack socket send IPv4 packets): it matches IPv4 \(mapped)")
                cidr = mapped
            }
            if cidr.hadHostBits {
                warning(node, path, "\(Self.excerpt(text)) has host bits set; it matches \(cidr) (did you mean \(cidr.network)?)")
            }
            return cidr
        } catch {
            // The message quotes at most an excerpt of the text.
            let quoted: CIDR.ParseError = switch error {
            case .notAnAddress: .notAnAddress(Self.excerpt(text))
            case .badPrefix(_, let max): .badPrefix(Self.excerpt(text), max: max)
            case .mappedPrefixTooShort: .mappedPrefixTooShort(Self.excerpt(text))
            }
            self.error(node, path, quoted.description)
            return nil
        }
    }

    /// `8080` or `40000-60000`.
    private mutating func readPorts(_ node: Node, _ path: String) -> PortRange? {
        guard let text = scalar(node, path, expected: "a port or range such as 8080 or 40000-60000") else { return nil }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        var bounds: [UInt16] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                error(node, path, "\(Self.excerpt(text)) is not a port or range such as 8080 or 40000-60000")
                return nil
            }
            guard part.count <= 5, let value = Int(part), value <= 65535 else {
                error(node, path, "\(Self.excerpt(part)) is not a port (0-65535)")
                return nil
            }
            bounds.append(UInt16(value))
        }
        let range = PortRange(bounds[0], bounds.last!)
        guard range.lower <= range.upper else {
            error(node, path, "\(Self.excerpt(text)) is an empty range: the first port must not exceed the second")
            return nil
        }
        return range
    }

    private mutating func readFlags(_ node: Node, _ path: String) -> TCPFlags? {
        guard let items = list(node, path, what: "TCP flags") else { return nil }
        var flags: TCPFlags = []
        var valid = true
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let name = scalar(item, itemPath, expected: "a flag: syn, ack, fin, rst, psh, urg, ece or cwr") else {
                valid = false
                continue
            }
            guard let flag = TCPFlags(name: name.lowercased()) else {
                error(item, itemPath, "'\(Self.excerpt(name))' is not a TCP flag; use syn, ack, fin, rst, psh, urg, ece or cwr")
                valid = false
                continue
            }
            flags.insert(flag)
        }
        return valid ? flags : nil
    }

    /// `1400`, `1000-1500`, `">1400"`, `">=1400"`, `"<100"` or `"<=100"`: IP packet bytes.
    private mutating func readSize(_ node: Node, _ path: String) -> PacketSizeRange? {
        let forms = "a packet size in bytes: 1400, 1000-1500, \">1400\", \">=1400\", \"<100\" or \"<=100\""
        guard let text = scalar(node, path, expected: forms) else { return nil }
        guard let range = PacketSizeRange(parsing: text) else {
            error(node, path, "\(Self.excerpt(text)) is not \(forms)")
            return nil
        }
        guard range.lower <= PacketSizeRange.largest else {
            error(node, path, "\(Self.excerpt(text)) takes no packet: an IP packet is at most \(PacketSizeRange.largest) bytes")
            return nil
        }
        guard range.lower <= range.upper else {
            error(node, path, "\(Self.excerpt(text)) takes no packet: " + (range.upper < 0 ? "no packet is under 0 bytes" : "the smaller size comes first"))
            return nil
        }
        return range
    }

    /// Text bytes (UTF-8), or `hex:0d0a0d0a` for binary.
    private mutating func readPayload(_ node: Node, _ path: String) -> [UInt8]? {
        guard let text = scalar(node, path, expected: "payload bytes, as text or hex:0d0a") else { return nil }
        guard text.hasPrefix("hex:") else {
            if text.isEmpty { error(node, path, "is empty: every packet would contain it") }
            return text.isEmpty ? nil : Array(text.utf8)
        }
        let digits = Array(text.dropFirst(4).filter { $0 != " " }.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else {
            error(node, path, "\(Self.excerpt(text)) needs an even, non-zero number of hex digits after 'hex:'")
            return nil
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                error(node, path, "\(Self.excerpt(text)) has a character that is not a hex digit after 'hex:'")
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// `"3"`, `"2-4"` or `"11-"`.
    private mutating func readConnectionRange(_ node: Node, _ path: String) -> ConnectionRange? {
        guard let text = scalar(node, path, expected: "a connection number or range: \"3\", \"2-4\" or \"11-\"") else { return nil }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        func number(_ part: String) -> Int? {
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part), n >= 1 else { return nil }
            return n
        }
        guard let lower = number(parts[0]) else {
            error(node, path, "\(Self.excerpt(text)) is not a connection range: \"3\", \"2-4\" or \"11-\", counted from 1")
            return nil
        }
        if parts.count == 1 { return ConnectionRange(lower, lower) }
        if parts[1].isEmpty { return ConnectionRange(lower, nil) }
        guard let upper = number(parts[1]), upper >= lower else {
            error(node, path, "\(Self.excerpt(text)) is not a connection range: \"3\", \"2-4\" or \"11-\", counted from 1, lower first")
            return nil
        }
        return ConnectionRange(lower, upper)
    }

    /// 0.1 or 10%, as the actions' shares are written.
    private mutating func readProbability(_ node: Node, _ path: String) -> Double? {
        guard let text = scalar(node, path, expected: "a probability from 0 to 1") else { return nil }
        guard let value = Units.percentage(text), value >= 0 else {
            error(node, path, "\(Self.excerpt(text)) is not a probability (0 to 1, e.g. 0.1, or 10%)")
            return nil
        }
        return value
    }
}
