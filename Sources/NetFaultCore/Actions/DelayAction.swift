import Yams

extension Action {
    /// `{delay: 100ms, jitter: 20ms, distribution: normal, correlation: 25%, keep_order: true}`:
    /// latency. The packet waits `delay + jitter × t` in the parking queue, `t` drawn from the
    /// run's seed in the distribution named (tc netem's: uniform in ±1 by default, normal, pareto,
    /// paretonormal), each draw depending on the rule's last by `correlation`. With jitter, packets
    /// may overtake each other, as netem's do; `keep_order` holds a packet until the earlier ones
    /// of its connection that the rule delayed have gone.
    public struct Delay: ActionUnit {
        static let kind = Kind.delay
        static let needs: ActionNeeds = [.parking]
        static let settingUsage: String? = "a time: {delay: 100ms, jitter: 20ms}"
        static let companionKeys = ["jitter", "distribution", "correlation", "keep_order"]

        public var delay: Duration
        /// The scale of the spread: with `uniform`, the most either side of `delay` (at most `delay`).
        public var jitter: Duration
        public var distribution: DelayDistribution
        /// How much each draw depends on the rule's previous one, 0 to 1.
        public var correlation: Double
        /// No packet of a connection leaves before one the rule delayed earlier.
        public var keepOrder: Bool

        public init(_ delay: Duration, jitter: Duration = .zero, distribution: DelayDistribution = .uniform,
                    correlation: Double = 0, keepOrder: Bool = false) {
            self.delay = delay
            self.jitter = jitter
            self.distribution = distribution
            self.correlation = correlation
            self.keepOrder = keepOrder
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Delay? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  let delay = reader.holdDuration(setting, reading.path) else { return nil }
            var result = Delay(delay)
            var valid = true
            if let entry = reading.companions["distribution"] {
                let path = reading.path(of: "distribution")
                if let distribution = reader.keyword(entry.value, path, as: DelayDistribution.self, what: "a distribution") {
                    result.distribution = distribution
                } else { valid = false }
            }
            if let entry = reading.companions["correlation"] {
                if let correlation = reader.percentage(entry.value, reading.path(of: "correlation")) {
                    result.correlation = correlation
                } else { valid = false }
            }
            if let entry = reading.companions["keep_order"] {
                if let keepOrder = reader.boolean(entry.value, reading.path(of: "keep_order")) {
                    result.keepOrder = keepOrder
                } else { valid = false }
            }
            guard let jitter = reading.companions["jitter"] else {
                for key in ["distribution", "correlation"] where reading.companions[key] != nil {
                    reader.error(reading.companions[key]!.value, reading.path(of: key), "shapes the jitter, and this delay has none: add jitter")
                    valid = false
                }
                return valid ? result : nil
            }
            let jitterPath = reading.path(of: "jitter")
            guard let spread = reader.duration(jitter.value, jitterPath) else { return nil }
            // Only the uniform spread has a bound; the others are cut at zero.
            guard result.distribution != .uniform || spread <= delay else {
                reader.error(jitter.value, jitterPath, "\(spread.ruleText) exceeds the delay \(delay.ruleText): the delay would go below zero")
                return nil
            }
            result.jitter = spread
            return valid ? result : nil
        }

        var action: Action { .delay(self) }

        public var summary: String {
            var text = jitter == .zero ? "delay \(delay.ruleText)" : "delay \(delay.ruleText) ± \(jitter.ruleText)"
            var qualities: [String] = []
            if jitter != .zero, distribution != .uniform { qualities.append(distribution.rawValue) }
            if correlation > 0 { qualities.append("\(Units.percentText(correlation)) correlated") }
            if keepOrder { qualities.append("in order") }
            if !qualities.isEmpty { text += " (\(qualities.joined(separator: ", ")))" }
            return text
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            var due = (context.now + delay).nanoseconds
            let spread = Double(jitter.nanoseconds)
            if spread > 0 {
                let t: Double
                if distribution == .uniform, correlation == 0 {
                    t = engine.random.unitInterval() * 2 - 1
                } else {
                    let draw = engine.delayDraws[context.rule, default: CorrelatedDraw()].next(correlation: correlation, random: &engine.random)
                    t = distribution.draw(uniform: draw.uniform, normal: distribution == .paretonormal ? draw.fresh : draw.normal)
                }
                due = max(context.now.nanoseconds, due + Int64(t * spread))
            }
            if keepOrder, let slot = context.stateSlot {
                due = max(due, engine.table[context.flowSlot, rule: slot].lastRelease)
                engine.table[context.flowSlot, rule: slot].lastRelease = due
            }
            return Decision(.acceptAfter(Instant(nanoseconds: due)))
        }
    }
}
