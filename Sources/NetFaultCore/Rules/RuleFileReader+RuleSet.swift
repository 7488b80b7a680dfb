import Yams

extension RuleFileReader {
    static let topLevelKeys = ["parameters", "queue", "queues", "hooks", "duration", "seed", "flows", "max_held", "observe", "rules"]
    /// What an `observe:` filter may name: the fields the diversion is made of.
    static let observeKeys = ["protocol", "client", "server", "client_port", "server_port"]
    /// More queues than this would mean more threads than any machine netfault runs on needs.
    static let maximumQueues = 16
    static let flowKeys = ["max_tracked", "max_listed"]
    static let ruleKeys = ["name", "match", "action", "expect", "sticky", "enabled"]
    /// Holds and delays longer than this are refused: a packet held for hours is a bug in the rule file.
    static let maximumHold: Duration = .seconds(3600)
    /// The shortest hold or delay: the queue threads wait on a nanosecond timer with 1 ns of
    /// slack, and a wake-up and a verdict take tens of microseconds.
    static let shortestHold: Duration = .microseconds(50)
    static let maximumRuleNameLength = 64

    /// The whole document. Returns nil when the document is not even a mapping with rules.
    mutating func readRuleSet(_ root: Node) -> RuleSet? {
        // A mapping none of whose keys is a rule file's (a passwd- or shadow-like file netfault
        // was pointed at by mistake) is said once, quoting only the start of its first key.
        if case .mapping(let mapping) = root, let first = mapping.first?.key,
           !mapping.contains(where: { Self.topLevelKeys.contains($0.key.string ?? "") }) {
            let shown = first.string.map { "'\(Self.excerpt($0))'" } ?? Self.describe(first)
            error(first, "", "this is not a rule file: none of its \(mapping.count) top-level keys is a rule file's (the first is \(shown); expected \(Self.topLevelKeys.joined(separator: ", ")))")
            return nil
        }
        guard let entries = mapping(root, "", allowed: Self.topLevelKeys, what: "a rule file") else { return nil }
        statedKeys = entries.map(\.key)
        var ruleSet = RuleSet()
        var sawRules = false
        var queuesNode: Node?
        for entry in entries {
            let path = entry.key
            switch entry.key {
            case "queue":
                ruleSet.queue = integer(entry.value, path, in: 0...65535, what: "a queue number") ?? 0
            case "queues":
                ruleSet.queues = integer(entry.value, path, in: 1...Self.maximumQueues, what: "a number of queues") ?? 1
                queuesNode = entry.value
            case "hooks":
                ruleSet.hooks = readHooks(entry.value, path) ?? ruleSet.hooks
            case "duration":
                if let value = duration(entry.value, path) {
                    if value <= .zero { error(entry.value, path, "must be longer than 0s") }
                    ruleSet.duration = value
                }
            case "seed":
                ruleSet.seed = integer(entry.value, path, in: 0...UInt64.max, what: "a seed")
            case "flows":
                ruleSet.flows = readFlowLimits(entry.value, path)
            case "max_held":
                ruleSet.maxHeld = integer(entry.value, path, in: 1...1_000_000, what: "a number of packets") ?? ruleSet.maxHeld
            case "observe":
                ruleSet.observe = readObserve(entry.value, path)
            case "rules":
                sawRules = true
                ruleSet.rules = readRules(entry.value, path)
            default:
                // `parameters` were applied before the reading (`RuleFileParameters`).
                break
            }
        }
        if Int(ruleSet.queue) + ruleSet.queues - 1 > 65535, let node = queuesNode {
            error(node, "queues", "queues \(ruleSet.queue)-\(Int(ruleSet.queue) + ruleSet.queues - 1) go past the last queue, 65535")
        }
        if !sawRules, ruleSet.observe.isEmpty, requiresRules {
            error(root, "rules", "is missing: a rule file needs at least one rule, or filters to `observe`")
        }
        return ruleSet
    }

    private mutating func readFlowLimits(_ node: Node, _ path: String) -> FlowLimits {
        var limits = FlowLimits()
        for entry in mapping(node, path, allowed: Self.flowKeys, what: "flow limits") ?? [] {
            let entryPath = "\(path).\(entry.key)"
            switch entry.key {
            case "max_tracked":
                limits.maxTracked = integer(entry.value, entryPath, in: 1...10_000_000, what: "a number of connections") ?? limits.maxTracked
            case "max_listed":
                limits.maxListed = integer(entry.value, entryPath, in: 0...10_000_000, what: "a number of connections") ?? limits.maxListed
            default:
                break
            }
        }
        return limits
    }

    private mutating func readHooks(_ node: Node, _ path: String) -> [Hook]? {
        guard let items = list(node, path, what: "hooks") else { return nil }
        var hooks: [Hook] = []
        for (index, item) in items.enumerated() {
            guard let hook = keyword(item, "\(path)[\(index)]", as: Hook.self, what: "a hook") else { continue }
            if hooks.contains(hook) {
                error(item, "\(path)[\(index)]", "'\(hook.rawValue)' is listed twice")
            } else {
                hooks.append(hook)
            }
        }
        if items.isEmpty { error(node, path, "is empty: name at least one of output, input, forward") }
        return hooks
    }

    /// Filters of connections to divert and report, never fault: match fields of address, port and protocol only.
    private mutating func readObserve(_ node: Node, _ path: String) -> [Match] {
        guard let items = list(node, path, what: "a list of filters such as {server_port: 21}") else { return [] }
        var filters: [Match] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard mapping(item, itemPath, allowed: Self.observeKeys, what: "a filter")?.count == item.mapping?.count else { continue }
            filters.append(readMatch(item, itemPath))
        }
        return filters
    }

    /// An empty list is valid: a netfault that waits for rules on its control API.
    mutating func readRules(_ node: Node, _ path: String) -> [Rule] {
        guard let items = list(node, path, what: "a list of rules") else { return [] }
        var rules: [Rule] = []
        var names: [String: Int] = [:]
        // Per protocol, the first rule that matches every packet of it: the rules after it never act.
        var unconditional: [Transport: Int] = [:]
        for (index, item) in items.enumerated() {
            let rulePath = "\(path)[\(index)]"
            let errorsBefore = diagnostics.errorCount
            let (name, rule) = readRule(item, rulePath)
            if let name {
                // Checked even when the rule has other errors, so every duplicate is listed at once.
                if let first = names[name.text] {
                    error(name.node, "\(rulePath).name", "'\(name.text)' is already the name of rules[\(first)]; names must be unique")
                } else {
                    names[name.text] = index
                }
            }
            guard let rule else { continue }
            if let shadow = unconditional[rule.match.transport] {
                warning(item, rulePath, "can never act: rules[\(shadow)] ('\(rules[shadow].name)') matches every \(rule.match.transport.rawValue) packet before it")
            } else if rule.match.isUnconditional, rule.action.roll == nil, diagnostics.errorCount == errorsBefore {
                // A rule whose match had errors is not taken for one without conditions, nor one
                // whose action rolls (a loss model, a corruption's chance): it spares packets for
                // the rules after it.
                unconditional[rule.match.transport] = rules.count
            }
            rules.append(rule)
        }
        return rules
    }

    /// `expect: {fired: ">=1", outcome: reset}`; nil (with the errors reported) when invalid.
    private mutating func readExpectation(_ node: Node, _ path: String) -> Expectation? {
        guard let entries = mapping(node, path, allowed: ["fired", "outcome"], what: "an expectation") else { return nil }
        var expectation = Expectation()
        var valid = true
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            switch entry.key {
            case "fired":
                guard let text = scalar(entry.value, fieldPath, expected: "a count like \">=1\"") else {
                    valid = false
                    continue
                }
                if let count = Expectation.Count(parsing: text) {
                    if count.comparison == .less, count.value == 0 {
                        error(entry.value, fieldPath, "'\(Self.excerpt(text))' can never hold: a rule fires 0 times or more (for a rule that must not fire, write 0)")
                        valid = false
                    }
                    expectation.fired = count
                } else {
                    error(entry.value, fieldPath, "'\(Self.excerpt(text))' is not a count: a number, or >=, >, <=, <, == and a number (\">=1\")")
                    valid = false
                }
            case "outcome":
                if let outcome = keyword(entry.value, fieldPath, as: ConnectionOutcome.self, what: "an outcome") {
                    expectation.outcome = outcome
                } else {
                    valid = false
                }
            default:
                valid = false
            }
        }
        return valid ? expectation : nil
    }

    /// The rule's name when it has a valid one, and the rule when it is valid as a whole.
    private mutating func readRule(_ node: Node, _ path: String) -> (name: (text: String, node: Node)?, rule: Rule?) {
        guard let entries = mapping(node, path, allowed: Self.ruleKeys, what: "a rule") else { return (nil, nil) }
        var name: (text: String, node: Node)?
        var match = Match()
        var matchValid = true
        var action: Action?
        var actionNode: Node?
        var expect: Expectation?
        var expectValid = true
        var sticky = false
        var enabled = true
        for entry in entries {
            let fieldPath = "\(path).\(entry.key)"
            switch entry.key {
            case "name":
                guard let text = scalar(entry.value, fieldPath, expected: "a name") else { continue }
                if text.isEmpty || text.count > Self.maximumRuleNameLength
                    || !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_".contains($0)) }) {
                    error(entry.value, fieldPath, "'\(Self.excerpt(text))' is not a rule name: 1-\(Self.maximumRuleNameLength) letters, digits, '.', '_' or '-'")
                } else {
                    name = (text, entry.value)
                }
            case "match":
                if Self.isNull(entry.value) { continue }
                let before = diagnostics.errorCount
                match = readMatch(entry.value, fieldPath)
                matchValid = diagnostics.errorCount == before
            case "action":
                actionNode = entry.value
            case "expect":
                expect = readExpectation(entry.value, fieldPath)
                expectValid = expect != nil
            case "sticky":
                sticky = boolean(entry.value, fieldPath) ?? sticky
            case "enabled":
                enabled = boolean(entry.value, fieldPath) ?? enabled
            default:
                break
            }
        }
        if name == nil, !entries.contains(where: { $0.key == "name" }) {
            error(node, "\(path).name", "is missing: every rule needs a name")
        }
        if let actionNode {
            // The action is read after the match, since what it may do depends on the protocol.
            action = readAction(actionNode, "\(path).action", transport: matchValid ? match.transport : nil)
        } else {
            error(node, "\(path).action", "is missing: every rule needs an action")
        }
        guard let name, let action, expectValid else { return (name, nil) }
        var rule = Rule(name: name.text, match: match, action: action, expect: expect, sticky: sticky)
        rule.enabled = enabled
        rule.source = RuleSource(node: node)
        return (name, rule)
    }

    /// `true` or `false`; nil (reported) otherwise.
    mutating func boolean(_ node: Node, _ path: String) -> Bool? {
        guard let text = scalar(node, path, expected: "true or false") else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            error(node, path, "'\(Self.excerpt(text))' is not true or false")
            return nil
        }
    }
}
