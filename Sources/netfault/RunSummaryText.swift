import NetFaultCore
import NetFaultLinux

/// What `apply` prints when it stops: why, what the queue saw, and what each rule did.
struct RunSummaryText {
    let summary: Controller.Summary
    let ruleSet: RuleSet

    init(_ summary: Controller.Summary, ruleSet: RuleSet) {
        self.summary = summary
        self.ruleSet = ruleSet
    }

    var text: String {
        var lines = ["netfault stopped: \(summary.stopReason); seed \(summary.seed)."]
        var queue = "Queue \(ruleSet.queue): \(summary.packetsReceived) packets, \(summary.verdicts) verdicts, held at peak \(summary.heldPeak)"
        if summary.unreadable > 0 { queue += ", \(summary.unreadable) unreadable (accepted)" }
        if let kernel = summary.kernel {
            queue += ", kernel dropped \(kernel.queueDropped) (queue full) + \(kernel.userDropped) (receive buffer)"
        }
        if summary.overruns > 0 { queue += ", \(summary.overruns) receive-buffer overruns" }
        lines.append(queue + ".")
        lines.append("Injected \(summary.injected) packets\(summary.injectionFailures > 0 ? ", \(summary.injectionFailures) failed" : "").")
        for (index, rule) in ruleSet.rules.enumerated() {
            let stats = summary.engine.ruleStatistics[index]
            let never = stats.fired == 0 ? "  ← never fired" : ""
            lines.append("  \(rule.name): fired \(stats.fired) times on \(stats.connections) connection\(stats.connections == 1 ? "" : "s")\(never)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
