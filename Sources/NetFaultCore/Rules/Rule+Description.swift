extension Rule {
    /// The rule in plain words, for `netfault check` and the report:
    /// `tcp packets from the server to port 8080, after 700KiB → reset both sides`.
    public var summary: String {
        var text = "\(match.summary) → \(action.summary)"
        if sticky { text += ", and the same to every later packet of the connection" }
        if let expect { text += " (expected: \(expect))" }
        return text
    }
}

extension Match {
    public var summary: String {
        var words = ["\(transport.rawValue) packets"]
        if let from { words[0] += " from the \(from.rawValue)" }
        var conditions: [String] = []
        if let client { conditions.append("client \(client)") }
        if let clientPort { conditions.append("client port \(clientPort)") }
        if let server { conditions.append("server \(server)") }
        if let serverPort { conditions.append("server port \(serverPort)") }
        if let flags { conditions.append(flags.isEmpty ? "no flags" : "flags exactly \(flags)") }
        if let payload { conditions.append("payload containing \(Self.describe(payload))") }
        if let afterBytes { conditions.append("after \(sizeText(afterBytes)) carried") }
        if let after { conditions.append("\(after.ruleText) into the connection") }
        if let idle { conditions.append("after \(idle.ruleText) idle") }
        if let nth { conditions.append("only the \(Self.ordinal(nth)) such packet") }
        if let connection { conditions.append("connection \(connection) only") }
        if let concurrentOver { conditions.append("connections opened while \(concurrentOver)+ others were open") }
        if let probability { conditions.append("with probability \(probability)") }
        return conditions.isEmpty ? words[0] : words[0] + ", " + conditions.joined(separator: ", ")
    }

    static func describe(_ payload: [UInt8]) -> String {
        if payload.allSatisfy({ (0x20..<0x7f).contains($0) }) {
            return "\"\(String(decoding: payload.prefix(40), as: UTF8.self))\(payload.count > 40 ? "…" : "")\""
        }
        return "hex:" + payload.prefix(20).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + (payload.count > 20 ? "…" : "")
    }

    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : (n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th")
        return "\(n)\(suffix)"
    }
}

extension Action {
    public var summary: String {
        switch self {
        case .pass: return "let through untouched"
        case .drop: return "drop silently"
        case .hold(let duration?): return "hold \(duration.ruleText), then let through"
        case .hold(nil): return "hold until the run ends, then drop"
        case .delay(let delay, let jitter):
            return jitter == .zero ? "delay \(delay.ruleText)" : "delay \(delay.ruleText) ± \(jitter.ruleText)"
        case .reset(.both): return "drop and reset both sides"
        case .reset(let target): return "drop and reset the \(target.rawValue)"
        case .reject(.tcpReset): return "reject with a TCP reset to the sender"
        case .reject(let kind): return "reject with ICMP \(kind.rawValue.dropFirst(5)) to the sender"
        case .rewrite(let rewrite):
            var fields: [String] = []
            if let window = rewrite.window { fields.append("window \(window)") }
            if let ttl = rewrite.ttl { fields.append("ttl \(ttl)") }
            if let tos = rewrite.tos { fields.append("tos \(tos)") }
            if let flags = rewrite.flags { fields.append("flags \(flags)") }
            if let truncate = rewrite.truncate { fields.append("payload cut to \(truncate) bytes") }
            return "rewrite " + fields.joined(separator: ", ")
        case .duplicate(let copies): return "let through with \(copies) extra \(copies == 1 ? "copy" : "copies")"
        }
    }
}
