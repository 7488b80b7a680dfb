/// A point in a run that a report can start from: `POST /v1/marks` at the start of a test case,
/// then `GET /v1/report?since=NAME` at its end lists only what happened in between.
public struct ReportMark: Sendable {
    public let name: String
    /// When the mark was made, on the engine's clock.
    public let at: Instant
    /// The counters of the rules that had acted when the mark was made, by id: a long run's
    /// thousands of marks keep only those.
    private let statistics: [Int: Engine.RuleStatistics]

    /// The counters of the rule with `id` at the mark: zero for one that had not acted (or arrived after).
    func ruleStatistics(_ id: Int) -> Engine.RuleStatistics {
        statistics[id] ?? Engine.RuleStatistics()
    }

    fileprivate init(name: String, at: Instant, statistics: [Engine.RuleStatistics]) {
        self.name = name
        self.at = at
        var acted: [Int: Engine.RuleStatistics] = [:]
        for (id, counters) in statistics.enumerated() where counters.fired > 0 { acted[id] = counters }
        self.statistics = acted
    }
}

extension Engine {
    /// A mark named `name` at `now`: the report since it counts from here.
    public func mark(_ name: String, at now: Instant) -> ReportMark {
        ReportMark(name: name, at: now, statistics: ruleStatistics)
    }
}

extension Engine {
    /// What a report reads of the engine, taken at once: `RunReport(_:…)` builds from it.
    public struct ReportSnapshot: Sendable {
        public let knownRules: [Rule]
        public let ruleStatistics: [RuleStatistics]
        public let enabledRuleIDs: [Int]
        /// The connections no longer tracked and those tracked now (first seen after the mark, with one).
        let flows: ReportedFlows
        public let unlistedOutcomes: [ConnectionOutcome: Int]
        public let limits: FlowLimits
        public let seed: UInt64
        public let statistics: Statistics
        public let mark: ReportMark?

        /// What the report of the whole run, or of the segment since `mark`, reads of `engine`:
        /// its flows in place, or (`copying`) copies of them.
        init(_ engine: borrowing Engine, since mark: ReportMark?, copying: Bool) {
            knownRules = engine.knownRules
            ruleStatistics = engine.ruleStatistics
            enabledRuleIDs = engine.enabledRuleIDs
            flows = copying ? ReportedFlows(copying: engine, since: mark?.at) : ReportedFlows(inPlace: engine, since: mark?.at)
            unlistedOutcomes = engine.unlistedOutcomes
            limits = FlowLimits(maxTracked: engine.table.capacity, maxListed: engine.retainedFlows)
            seed = engine.seed
            statistics = engine.statistics
            self.mark = mark
        }
    }

    /// A copy of what the report of the whole run, or of the segment since `mark`, needs: taken
    /// under the engine's lock of a running netfault, the report built after, while packets flow.
    public func reportSnapshot(since mark: ReportMark? = nil) -> ReportSnapshot {
        ReportSnapshot(self, since: mark, copying: true)
    }
}
