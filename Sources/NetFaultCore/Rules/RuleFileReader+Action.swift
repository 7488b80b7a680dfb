import Yams

extension RuleFileReader {
    static let actionKeys = ["pass", "drop", "hold", "delay", "jitter", "reset", "reject", "rewrite", "duplicate"]
    static let rewriteKeys = ["window", "ttl", "tos", "flags", "truncate"]
    static let maximumDuplicates = 100

    /// `drop`, or a one-action mapping such as `{hold: 3s}`. `transport` is nil when the match was
    /// invalid, so protocol checks are skipped rather than reported twice.
    mutating func readAction(_ node: Node, _ path: String, transport: Transport?) -> Action? {
        if case .scalar(let scalar) = node, !Self.isNull(node) {
            switch scalar.string {
            case "pass": return .pass
            case "drop": return .drop
            case "hold": error(node, path, "hold needs a time: {hold: 3s} or {hold: forever}")
            case "delay": error(node, path, "delay needs a time: {delay: 100ms, jitter: 20ms}")
            case "reset": error(node, path, "reset needs a side: {reset: client | server | both}")
            case "reject": error(node, path, "reject needs a kind: {reject: tcp-reset | icmp-port-unreachable | icmp-host-unreachable | icmp-admin-prohibited}")
            case "rewrite": error(node, path, "rewrite needs fields: {rewrite: {window: 0}}")
            case "duplicate": error(node, path, "duplicate needs a count: {duplicate: 2}")
            default:
                let hint = Self.closest(to: scalar.string, among: Self.actionKeys).map { "; did you mean '\($0)'?" } ?? ""
                error(node, path, "'\(scalar.string)' is not an action\(hint) (pass, drop, hold, delay, reset, reject, rewrite, duplicate)")
            }
            return nil
        }
        guard let entries = mapping(node, path, allowed: Self.actionKeys, what: "an action") else { return nil }
        let actions = entries.filter { $0.key != "jitter" }
        guard actions.count == 1, let entry = actions.first else {
            let names = actions.map { "'\($0.key)'" }.joined(separator: " and ")
            error(node, path, actions.isEmpty ? "names no action" : "has \(names): a rule takes exactly one action")
            return nil
        }
        let jitter = entries.first { $0.key == "jitter" }
        if let jitter, entry.key != "delay" {
            error(jitter.keyNode, "\(path).jitter", "jitter belongs to delay, not \(entry.key)")
            return nil
        }
        let fieldPath = "\(path).\(entry.key)"
        let value = entry.value
        switch entry.key {
        case "pass", "drop":
            guard Self.isNull(value) else {
                error(value, fieldPath, "\(entry.key) takes no parameter; write `action: \(entry.key)`")
                return nil
            }
            return entry.key == "pass" ? .pass : .drop
        case "hold":
            if case .scalar(let scalar) = value, scalar.string == "forever" { return .hold(nil) }
            return boundedDuration(value, fieldPath).map { .hold($0) }
        case "delay":
            guard let delay = boundedDuration(value, fieldPath) else { return nil }
            guard let jitter else { return .delay(delay, jitter: .zero) }
            guard let spread = duration(jitter.value, "\(path).jitter") else { return nil }
            guard spread <= delay else {
                error(jitter.value, "\(path).jitter", "\(spread.ruleText) exceeds the delay \(delay.ruleText): the delay would go below zero")
                return nil
            }
            return .delay(delay, jitter: spread)
        case "reset":
            guard requireTCP(transport, value, fieldPath, what: "reset") else { return nil }
            return keyword(value, fieldPath, as: ResetTarget.self, what: "a reset target").map { .reset($0) }
        case "reject":
            guard let kind = keyword(value, fieldPath, as: RejectKind.self, what: "a reject kind") else { return nil }
            if kind == .tcpReset, !requireTCP(transport, value, fieldPath, what: "reject: tcp-reset") { return nil }
            return .reject(kind)
        case "rewrite":
            return readRewrite(value, fieldPath, transport: transport).map { .rewrite($0) }
        case "duplicate":
            return integer(value, fieldPath, in: 1...Self.maximumDuplicates, what: "a number of extra copies").map { .duplicate($0) }
        default:
            return nil
        }
    }

    private mutating func boundedDuration(_ node: Node, _ path: String) -> Duration? {
        guard let value = duration(node, path) else { return nil }
        guard value > .zero, value <= Self.maximumHold else {
            error(node, path, "\(value.ruleText) is outside 1ms-\(Self.maximumHold.ruleText); use `hold: forever` to keep packets until the run ends")
            return nil
        }
        return value
    }

    private mutating func requireTCP(_ transport: Transport?, _ node: Node, _ path: String, what: String) -> Bool {
        guard let transport, transport != .tcp else { return true }
        error(node, path, "\(what) needs TCP, and this rule matches \(transport.rawValue)")
        return false
    }

    private mutating func readRewrite(_ node: Node, _ path: String, transport: Transport?) -> HeaderRewrite? {
        guard let entries = mapping(node, path, allowed: Self.rewriteKeys, what: "header fields to rewrite") else { return nil }
        guard !entries.isEmpty else {
            // With only unknown keys, those were reported already.
            if case .mapping(let mapping) = node, mapping.count > 0 { return nil }
            error(node, path, "names no field; give at least one of \(Self.rewriteKeys.joined(separator: ", "))")
            return nil
        }
        var rewrite = HeaderRewrite()
        var valid = true
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            switch entry.key {
            case "window":
                valid = requireTCP(transport, entry.value, fieldPath, what: "rewriting the window") && valid
                rewrite.window = integer(entry.value, fieldPath, in: 0...UInt16.max, what: "a window")
                valid = valid && rewrite.window != nil
            case "ttl":
                rewrite.ttl = integer(entry.value, fieldPath, in: 0...UInt8.max, what: "a TTL")
                valid = valid && rewrite.ttl != nil
            case "tos":
                rewrite.tos = integer(entry.value, fieldPath, in: 0...UInt8.max, what: "a TOS byte")
                valid = valid && rewrite.tos != nil
            case "flags":
                valid = requireTCP(transport, entry.value, fieldPath, what: "rewriting flags") && valid
                rewrite.flags = readRewriteFlags(entry.value, fieldPath)
                valid = valid && rewrite.flags != nil
            case "truncate":
                rewrite.truncate = size(entry.value, fieldPath).map { Int(min($0, 65535)) }
                valid = valid && rewrite.truncate != nil
            default:
                break
            }
        }
        return valid ? rewrite : nil
    }

    private mutating func readRewriteFlags(_ node: Node, _ path: String) -> TCPFlags? {
        guard let items = list(node, path, what: "TCP flags") else { return nil }
        var flags: TCPFlags = []
        for (index, item) in items.enumerated() {
            guard let name = scalar(item, "\(path)[\(index)]", expected: "a TCP flag"),
                  let flag = TCPFlags(name: name.lowercased()) else {
                error(item, "\(path)[\(index)]", "\(Self.describe(item)) is not a TCP flag; use fin, syn, rst, psh, ack, urg, ece or cwr")
                return nil
            }
            flags.insert(flag)
        }
        return flags
    }
}
