import NetFaultLinux
import Prometheus
import Synchronization

/// `GET /metrics`: a run's counters in the Prometheus text exposition, through swift-prometheus.
/// The run keeps its own counts (the packet path counts under the engine's lock, never through a
/// metrics library); each scrape sets the collectors to them. Names are stable and documented
/// (README, "Metrics"); labels are queues, verdicts, rule names and outcomes, never addresses.
final class MetricsExposition: Sendable {
    static let shared = MetricsExposition()

    private let registry = PrometheusCollectorRegistry()
    /// One scrape at a time: a counter is set by a reset and an increment.
    private let scraping = Mutex<Void>(())

    func render(_ metrics: LiveRun.Metrics) -> String {
        scraping.withLock { _ in
            for queue in metrics.queues {
                let label = [("queue", String(queue.queue))]
                counter("netfault_packets_total", label, "Packets netfault read from the queue.", queue.packets)
                for (verdict, count) in queue.verdicts {
                    counter("netfault_verdicts_total", label + [("verdict", verdict)],
                            "Packets by what netfault decided: accept, drop, replace (rewritten), hold (held or delayed), unreadable (accepted untouched).",
                            count)
                }
                gauge("netfault_held_packets", label, "Packets held (hold, delay) now.", queue.held)
                if let dropped = queue.kernelDropped {
                    counter("netfault_kernel_dropped_total", label, "Packets the kernel dropped: queue full without fail-open, or netfault's receive buffer full.",
                            dropped)
                }
            }
            if let escaped = metrics.escaped {
                counter("netfault_escaped_fail_open_total", [("queue", metrics.queueRange)],
                        "Diverted packets that passed without netfault because its queue was full (fail-open).", escaped)
            }
            for rule in metrics.rules {
                let label = [("rule", rule.name)]
                counter("netfault_rule_fired_total", label, "Packets a rule acted on.", rule.fired)
                counter("netfault_rule_connections_total", label, "Connections a rule acted on.", rule.connections)
            }
            for (outcome, count) in metrics.connectionsByOutcome {
                counter("netfault_connections_total", [("outcome", outcome)], "Connections that ended (are no longer tracked), by outcome.", count)
            }
            gauge("netfault_connections_tracked", [], "Connections tracked now.", metrics.connectionsTracked)
            counter("netfault_injected_total", [], "Packets netfault sent itself: RSTs, ICMP errors, copies.", metrics.injected)
            counter("netfault_rule_changes_total", [], "Changes of the rule set through the control API.", metrics.ruleChanges)
            return registry.emitToString()
        }
    }

    private func counter(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Int) {
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
        counter.reset()
        counter.increment(by: Int64(value))
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Int) {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels).set(Int64(value))
    }
}
