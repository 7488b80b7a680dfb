/// A point in a run that a report can start from: `POST /v1/marks` at the start of a test case,
/// then `GET /v1/report?since=NAME` at its end lists only what happened in between.
public struct ReportMark: Sendable {
    public let name: String
    /// When the mark was made, on the engine's clock.
    public let at: Instant
    /// Each known rule's counters when the mark was made, by id.
    private let statistics: [Engine.RuleStatistics]

    /// The counters of the rule with `id` at the mark: zero for a rule that arrived after it.
    func ruleStatistics(_ id: Int) -> Engine.RuleStatistics {
        id < statistics.count ? statistics[id] : Engine.RuleStatistics()
    }

    fileprivate init(name: String, at: Instant, statistics: [Engine.RuleStatistics]) {
        self.name = name
        self.at = at
        self.statistics = statistics
    }
}

extension Engine {
    /// A mark named `name` at `now`: the report since it counts from here.
    public func mark(_ name: String, at now: Instant) -> ReportMark {
        ReportMark(name: name, at: now, statistics: ruleStatistics)
    }
}
