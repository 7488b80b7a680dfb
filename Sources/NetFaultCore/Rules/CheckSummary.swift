/// The text `netfault check` prints for a valid file.
public struct CheckSummary: Sendable {
    public let file: RuleFile

    public init(file: RuleFile) { self.file = file }

    /// The whole text, ending in a newline.
    public var text: String {
        let ruleSet = file.ruleSet
        let plan = DiversionPlan(ruleSet)
        var lines: [String] = []
        let count = ruleSet.rules.count
        lines.append("\(file.name): valid, \(count) rule\(count == 1 ? "" : "s")"
            + (count == 0 && ruleSet.observe.isEmpty ? ": nothing is diverted until rules arrive on the control API." : "."))
        if !file.parameters.isEmpty {
            lines.append("Parameters (--set NAME=VALUE): " + file.parameters.map { "\($0.name) \($0.value)" }.joined(separator: ", ") + ".")
        }
        lines.append("")
        let spread = ruleSet.queues > 1 ? ", a thread each, connections spread by their addresses" : ""
        lines.append("Diverted to NFQUEUE \(ruleSet.queueRange)\(spread) (passes untouched whenever netfault is not running):")
        for hook in plan.hooks {
            for filter in plan.filters {
                lines.append("  \(hook.rawValue.padding(to: 7))\(filter)")
            }
            if plan.divertsUnreachables {
                lines.append("  \(hook.rawValue.padding(to: 7))ipv4+ipv6 icmp destination-unreachable (to classify refused and unreachable connections)")
            }
            if plan.skipsLoopback(at: hook) {
                lines.append("  \(hook.rawValue.padding(to: 7))(except from loopback, which output already diverts)")
            }
        }
        if ruleSet.canHold {
            lines.append("Held packets wait in NFQUEUE \(ruleSet.parkingQueueNames), up to \(ruleSet.maxHeld) per queue (max_held).")
        }
        if !ruleSet.observe.isEmpty {
            lines.append("")
            lines.append("Observed (diverted and reported, never faulted):")
            for filter in ruleSet.observe { lines.append("  \(filter.summary)") }
        }
        lines.append("")
        lines.append("Rules, first match wins:")
        for (index, rule) in ruleSet.rules.enumerated() {
            lines.append("  \(index + 1). \(rule.name): \(rule.summary)")
        }
        lines.append("")
        lines.append(ruleSet.duration.map { "Faults are lifted after \($0.ruleText)." } ?? "Faults stay until netfault is stopped.")
        lines.append(ruleSet.seed.map { "Random choices use seed \($0)." } ?? "Random choices use a fresh seed, printed in the report.")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Left-aligned in a column `width` wide, with at least one space after.
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
