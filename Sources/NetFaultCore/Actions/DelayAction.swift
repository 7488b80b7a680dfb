import Yams

extension Action {
    /// `{delay: 100ms, jitter: 20ms}`: latency. The packet waits `delay ± jitter` (uniform, from
    /// the run's seed) in the parking queue; with jitter, packets may overtake each other.
    public struct Delay: ActionUnit {
        static let kind = Kind.delay
        static let needs: ActionNeeds = [.parking]
        static let settingUsage: String? = "a time: {delay: 100ms, jitter: 20ms}"
        static let companionKeys = ["jitter"]

        public var delay: Duration
        /// The spread either side of `delay`; at most `delay`.
        public var jitter: Duration

        public init(_ delay: Duration, jitter: Duration = .zero) {
            self.delay = delay
            self.jitter = jitter
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Delay? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  let delay = reader.holdDuration(setting, reading.path) else { return nil }
            guard let jitter = reading.companions["jitter"] else { return Delay(delay) }
            let jitterPath = reading.path(of: "jitter")
            guard let spread = reader.duration(jitter.value, jitterPath) else { return nil }
            guard spread <= delay else {
                reader.error(jitter.value, jitterPath, "\(spread.ruleText) exceeds the delay \(delay.ruleText): the delay would go below zero")
                return nil
            }
            return Delay(delay, jitter: spread)
        }

        var action: Action { .delay(self) }

        public var summary: String {
            jitter == .zero ? "delay \(delay.ruleText)" : "delay \(delay.ruleText) ± \(jitter.ruleText)"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            let spread = jitter.nanoseconds
            let offset = spread == 0 ? 0 : Int64((engine.random.unitInterval() * 2 - 1) * Double(spread))
            return Decision(.acceptAfter(Instant(nanoseconds: (context.now + delay).nanoseconds + offset)))
        }
    }
}
