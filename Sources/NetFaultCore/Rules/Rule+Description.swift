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
        if let size { conditions.append("\(size) long") }
        if let options { conditions.append("carrying TCP options \(options)") }
        if let payload { conditions.append("payload containing \(Self.describe(payload))") }
        if let tlsSNI { conditions.append("a TLS ClientHello for server name \(tlsSNI) (the packet that completes it)") }
        if let http { conditions.append("\(http.summary) at the start of a client segment") }
        if let dns { conditions.append(dns.summary) }
        if let afterBytes { conditions.append("after \(sizeText(afterBytes)) carried") }
        if let after { conditions.append("\(after.ruleText) into the connection") }
        if let idle { conditions.append("after \(idle.ruleText) idle") }
        if let nth { conditions.append("only the \(Self.ordinal(nth)) such packet") }
        if let connection { conditions.append("connection \(connection) only") }
        if let concurrentOver { conditions.append("connections opened while \(concurrentOver)+ others were open") }
        if let probability {
            conditions.append("with probability \(probability)" + (correlation.map { ", \(Units.percentText($0)) correlated" } ?? ""))
        }
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
