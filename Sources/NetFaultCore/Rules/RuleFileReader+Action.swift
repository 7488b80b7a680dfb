import Yams

extension RuleFileReader {
    /// The keys an action mapping may hold: every action's name, and their companion keys.
    static let actionKeys = Action.Kind.allCases.map(\.rawValue) + Action.Kind.allCases.flatMap { $0.unit.companionKeys }

    /// `drop`, or a one-action mapping such as `{hold: 3s}`, read by the action's unit.
    /// `transport` is nil when the match was invalid, so protocol checks are skipped rather than
    /// reported twice.
    mutating func readAction(_ node: Node, _ path: String, transport: Transport?) -> Action? {
        let names = Action.Kind.allCases.map(\.rawValue)
        if case .scalar(let scalar) = node, !Self.isNull(node) {
            guard let kind = Action.Kind(rawValue: scalar.string) else {
                let hint = Self.closest(to: scalar.string, among: Self.actionKeys).map { "; did you mean '\($0)'?" } ?? ""
                error(node, path, "'\(Self.excerpt(scalar.string))' is not an action\(hint) (\(names.joined(separator: ", ")))")
                return nil
            }
            let reading = ActionReading(node: node, actionPath: path, kind: kind, companions: [:], transport: transport)
            return kind.unit.read(nil, reading, reader: &self)?.action
        }
        guard let entries = mapping(node, path, allowed: Self.actionKeys, what: "an action") else { return nil }
        let actions = entries.filter { Action.Kind(rawValue: $0.key) != nil }
        guard actions.count == 1, let entry = actions.first, let kind = Action.Kind(rawValue: entry.key) else {
            let named = actions.map { "'\($0.key)'" }.joined(separator: " and ")
            error(node, path, actions.isEmpty ? "names no action" : "has \(named): a rule takes exactly one action")
            return nil
        }
        var companions: [String: Entry] = [:]
        for other in entries where other.key != entry.key {
            guard kind.unit.companionKeys.contains(other.key) else {
                let owner = Action.Kind.allCases.first { $0.unit.companionKeys.contains(other.key) }?.rawValue ?? "another action"
                error(other.keyNode, "\(path).\(other.key)", "\(other.key) belongs to \(owner), not \(entry.key)")
                return nil
            }
            companions[other.key] = other
        }
        let reading = ActionReading(node: node, actionPath: path, kind: kind, companions: companions, transport: transport)
        return kind.unit.read(entry.value, reading, reader: &self)?.action
    }

    /// For an action that takes no setting: true unless one was given (`{drop: 3}`).
    mutating func noSetting(_ setting: Node?, _ reading: ActionReading, _ kind: Action.Kind) -> Bool {
        guard let setting, !Self.isNull(setting) else { return true }
        error(setting, reading.path, "\(kind.rawValue) takes no parameter; write `action: \(kind.rawValue)`")
        return false
    }

    /// For an action that needs a setting: the setting, or an error saying what it looks like.
    mutating func requiredSetting(_ setting: Node?, _ reading: ActionReading, _ kind: Action.Kind) -> Node? {
        if let setting { return setting }
        error(reading.node, reading.actionPath, "\(kind.rawValue) needs \(kind.unit.settingUsage ?? "a setting")")
        return nil
    }

    /// The `probability` of an action that rolls (`corrupt`, `reorder`): a share above 0% (`what`
    /// the chosen packets would be: "corrupted").
    mutating func actionChance(_ node: Node, _ path: String, what: String) -> Double? {
        guard let share = percentage(node, path) else { return nil }
        guard share > 0 else {
            error(node, path, "is 0%: no packet would be \(what)")
            return nil
        }
        return share
    }

    /// A hold or delay: a duration from `shortestHold` to `maximumHold`.
    mutating func holdDuration(_ node: Node, _ path: String) -> Duration? {
        guard let value = duration(node, path) else { return nil }
        guard value >= Self.shortestHold, value <= Self.maximumHold else {
            error(node, path, "\(value.ruleText) is outside \(Self.shortestHold.ruleText)-\(Self.maximumHold.ruleText); use `hold: forever` to keep packets until the run ends")
            return nil
        }
        return value
    }

    /// True when the rule matches TCP (or its match was invalid); otherwise an error: `what` needs TCP.
    mutating func requireTCP(_ transport: Transport?, _ node: Node, _ path: String, what: String) -> Bool {
        guard let transport, transport != .tcp else { return true }
        error(node, path, "\(what) needs TCP, and this rule matches \(transport.rawValue)")
        return false
    }

    /// A list of TCP flag names: `[ack, psh]`.
    mutating func tcpFlagList(_ node: Node, _ path: String) -> TCPFlags? {
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

    /// A list of TCP option names: `[wscale, sackok]`.
    mutating func tcpOptionList(_ node: Node, _ path: String) -> TCPOptionKinds? {
        guard let items = list(node, path, what: "TCP options") else { return nil }
        let names = TCPOptionKinds.names.map(\.name).joined(separator: ", ")
        guard !items.isEmpty else {
            error(node, path, "names no option; give at least one of \(names)")
            return nil
        }
        var options: TCPOptionKinds = []
        for (index, item) in items.enumerated() {
            guard let name = scalar(item, "\(path)[\(index)]", expected: "a TCP option"),
                  let entry = TCPOptionKinds.names.first(where: { $0.name == name.lowercased() }) else {
                error(item, "\(path)[\(index)]", "\(Self.describe(item)) is not a TCP option; use \(names)")
                return nil
            }
            options.insert(entry.kinds)
        }
        return options
    }
}
