/// netfault's JSON report of one demo scenario, as the few lines the demo prints: each connection a
/// fault touched, and each rule with its expectation.
struct DemoReportLines {
    let report: [String: Any]

    init(_ report: [String: Any]) { self.report = report }

    var lines: [String] {
        var lines = ["netfault:"]
        let connections = (report["connections"] as? [[String: Any]] ?? []).filter { !(($0["faults"] as? [Any]) ?? []).isEmpty }
        for connection in connections {
            var line = "  \(connection["client"] ?? "?") → \(connection["server"] ?? "?"): \(connection["outcome"] ?? "?")"
            for side in ["client", "server"] {
                if let errno = (connection["errno"] as? [String: Any])?[side] as? String,
                   let winsock = (connection["winsock"] as? [String: Any])?[side] as? String,
                   let code = (connection["winsock_code"] as? [String: Any])?[side] as? Int {
                    line += ", \(side) \(errno) / \(winsock) \(code)"
                }
            }
            if let reset = connection["reset_by"] as? [String: Any], let sender = reset["sender"] as? String {
                let rule = (reset["rule"] as? String).map { " (\($0))" } ?? ""
                line += ", reset by \(sender)\(rule) → \(reset["toward"] ?? "?")"
            }
            if let retransmissions = connection["retransmissions"] as? [String: Any],
               let client = retransmissions["client"] as? Int, let server = retransmissions["server"] as? Int, client + server > 0 {
                line += ", retransmissions \(client)/\(server)"
            }
            lines.append(line)
        }
        if connections.isEmpty { lines.append("  no connection touched") }
        for rule in report["rules"] as? [[String: Any]] ?? [] {
            let fired = rule["fired"] as? Int ?? 0
            var line = "  rule \(rule["name"] ?? "?"): fired \(fired) time\(fired == 1 ? "" : "s")"
            if let expect = rule["expect"] as? [String: Any], let outcome = expect["outcome"] as? String { line += ", expected \(outcome)" }
            line += rule["passed"] as? Bool == true ? " ✓" : " ✗ \(rule["failure"] ?? "")"
            lines.append(line)
        }
        return lines
    }
}
