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
            lines.append("  \(rule.name): fired \(stats.fired) time\(stats.fired == 1 ? "" : "s") on \(stats.connections) connection\(stats.connections == 1 ? "" : "s")\(never)")
        }
        let faulted = (summary.engine.retiredFaultedFlows + summary.engine.flows.filter { !$0.faults.isEmpty })
            .sorted { $0.firstSeen < $1.firstSeen }
        if !faulted.isEmpty { lines.append("Connections a rule acted on:") }
        for flow in faulted {
            let faults = flow.faults.map { "\(ruleSet.rules[$0.rule].name) ×\($0.count)" }.joined(separator: ", ")
            var line = "  \(flow.transport.rawValue) \(flow.client) → \(flow.server): \(faults); "
            line += "packets client \(flow.fromClient.packets)/server \(flow.fromServer.packets), "
            line += "retransmissions client \(flow.fromClient.retransmissions)/server \(flow.fromServer.retransmissions)"
            if let reset = flow.injectedReset { line += ", reset by netfault (\(ruleSet.rules[reset.rule].name)) toward \(reset.toward)" }
            else if let side = flow.resetBy { line += ", reset by the \(side)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
