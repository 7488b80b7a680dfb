#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetFaultCore

/// A run as the control API sees it, on the controller's thread only (`ControlMailbox`): its
/// rules, changed through a `RuleBook` and put in force in the diversion and the engine; its
/// marks; its live counters.
public final class LiveRun {
    /// One rule in force, for `GET /v1/status` and the answers to changes.
    public struct RuleStatus: Sendable, Equatable {
        public var name: String
        public var action: String
        public var enabled: Bool
        public var fired: Int
        public var connections: Int
    }

    /// A mark made by `POST /v1/marks`.
    public struct MarkMade: Sendable {
        public var name: String
        /// Since the run began.
        public var atMilliseconds: Double
    }

    private let run: StartedRun
    private let controller: Controller
    private(set) var book: RuleBook
    private var marks: [String: ReportMark] = [:]
    private var markOrder: [String] = []
    /// The highest count of escaped packets seen: a counter never goes down, and a reading taken
    /// while packets are on their way to the queue would otherwise count some of them.
    private var escapedSeen = 0

    init(run: StartedRun, controller: Controller) {
        self.run = run
        self.controller = controller
        book = RuleBook(controller.ruleSet)
    }

    // MARK: Rules

    public func ruleFile(json: Bool) -> String { json ? book.ruleFileJSON : book.ruleFileYAML }

    /// `PUT /v1/rules`.
    public func replaceRules(withFile text: String) throws(RuleBook.Refusal) -> [RuleStatus] {
        try apply(book.replacing(withFile: text), "replaced")
    }

    /// `POST /v1/rules`.
    public func addRules(_ text: String) throws(RuleBook.Refusal) -> [RuleStatus] {
        try apply(book.adding(text), "added")
    }

    /// `DELETE /v1/rules/NAME`.
    public func removeRule(_ name: String) throws(RuleBook.Refusal) -> [RuleStatus] {
        try apply(book.removing(name), "removed \(name)")
    }

    /// `PATCH /v1/rules/NAME`.
    public func setRule(_ name: String, enabled: Bool) throws(RuleBook.Refusal) -> [RuleStatus] {
        try apply(book.setting(name, enabled: enabled), "\(enabled ? "enabled" : "disabled") \(name)")
    }

    /// `POST /v1/reset`.
    public func reset() throws(RuleBook.Refusal) -> [RuleStatus] {
        try apply(book.emptied(), "reset")
    }

    /// Puts `next` in force: refused when the queues cannot carry it; the diversion changes first
    /// (one transaction: on a refusal nothing changed), then the engine between two packets.
    private func apply(_ next: RuleSet, _ what: String) throws(RuleBook.Refusal) -> [RuleStatus] {
        if let refusal = run.capabilities.refusal(of: next) { throw .conflict(refusal) }
        let plan = DiversionPlan(next)
        let previous = DiversionPlan(book.ruleSet)
        if plan != previous {
            do {
                run.divertedByReplacedRules += try run.hooks.replaceFilters(with: plan, previous: previous)
            } catch {
                throw .conflict("the firewall refused the new diversion, so the rules before stay in force: \(error)")
            }
        }
        run.engine.replaceRules(with: next)
        book.commit(next)
        controller.log("netfault: rules \(what): \(next.enabledRules.count) of \(next.rules.count) enabled"
            + (next.rules.isEmpty ? "" : " (\(next.rules.map(\.name).joined(separator: ", ")))"))
        return ruleStatuses()
    }

    /// The rules in force with their counters; a disabled rule shows what it counted while enabled.
    public func ruleStatuses() -> [RuleStatus] {
        run.engine.withEngine { engine in
            book.ruleSet.rules.map { rule in
                let id = engine.ruleID(named: rule.name)
                let statistics = id.map { engine.ruleStatistics[$0] } ?? Engine.RuleStatistics()
                return RuleStatus(name: rule.name, action: rule.action.keyword, enabled: rule.enabled,
                                  fired: statistics.fired, connections: statistics.connections)
            }
        }
    }

    // MARK: Marks and reports

    /// What a mark's name may be: letters, digits and `_.:/-`, as a test's id is (`tests/test_x.py::test_y`).
    static func isValidMarkName(_ name: String) -> Bool {
        (1...200).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.:/-".contains($0)) }
    }

    /// Marks one run keeps: each holds a copy of every rule's counters.
    static let maximumMarks = 100_000

    /// `POST /v1/marks`.
    public func mark(_ name: String) throws(RuleBook.Refusal) -> MarkMade {
        guard Self.isValidMarkName(name) else {
            throw .badRequest("'\(String(name.prefix(40)))' is not a mark name: 1-200 letters, digits, '_', '.', ':', '/' or '-'")
        }
        guard marks[name] == nil else { throw .conflict("the mark '\(name)' exists already; mark names are used once per run") }
        guard marks.count < Self.maximumMarks else {
            throw .conflict("\(Self.maximumMarks) marks are made already, the most a run keeps; restart netfault for more")
        }
        let mark = run.engine.mark(name, at: monotonicNow())
        marks[name] = mark
        markOrder.append(name)
        return MarkMade(name: name, atMilliseconds: Double(mark.at.since(run.start) / 10_000) / 100)
    }

    /// `GET /v1/report`: the run so far, or the segment since the mark `since`.
    public func report(since: String?) throws(RuleBook.Refusal) -> RunReport {
        var mark: ReportMark?
        if let since {
            guard let found = marks[since] else {
                throw .notFound("no mark is named '\(String(since.prefix(40)))'; the marks are: "
                    + (markOrder.isEmpty ? "none yet (POST /v1/marks)" : markOrder.joined(separator: ", ")))
            }
            mark = found
        }
        let queue = liveQueueStatistics()
        let now = monotonicNow()
        // Copied under the engine's lock, built after it: the packets wait for the copy only.
        let snapshot = run.engine.withEngine { $0.reportSnapshot(since: mark) }
        return RunReport(snapshot, ruleFile: controller.ruleFile, stopReason: RunReport.running,
                         startedAt: ISO8601DateFormatter().string(from: run.startedAt), start: run.start, end: max(now, run.start),
                         queue: queue)
    }

    // MARK: Status and metrics

    /// `GET /v1/status`.
    public struct Status: Sendable {
        public var uptimeSeconds: Double
        public var queues: [UInt16]
        public var hooks: [String]
        public var namespace: String?
        public var rules: [RuleStatus]
        public var packets: Int
        public var verdicts: Int
        public var held: Int
        public var escaped: Int?
        public var connectionsTracked: Int
        public var ruleChanges: Int
        public var marks: [String]
    }

    public func status() -> Status {
        let metrics = self.metrics()
        return Status(uptimeSeconds: Double(monotonicNow().since(run.start)) / 1e9,
                      queues: metrics.queues.map(\.queue), hooks: controller.ruleSet.hooks.map(\.rawValue),
                      namespace: controller.namespace?.description, rules: ruleStatuses(),
                      packets: metrics.queues.reduce(0) { $0 + $1.packets },
                      verdicts: metrics.queues.reduce(0) { $0 + $1.packets - $1.held },
                      held: metrics.queues.reduce(0) { $0 + $1.held }, escaped: metrics.escaped,
                      connectionsTracked: metrics.connectionsTracked, ruleChanges: metrics.ruleChanges, marks: markOrder)
    }

    /// Everything `GET /metrics` exposes, read at once.
    public struct Metrics: Sendable {
        public struct Queue: Sendable {
            public var queue: UInt16
            public var packets: Int
            /// Packets by what was decided: accept, drop, replace, hold, unreadable.
            public var verdicts: [(verdict: String, count: Int)]
            public var held: Int
            public var kernelDropped: Int?
            /// Packets waiting in the kernel's queue now (read with the drops, from the same line).
            var waiting: Int
        }

        public struct Rule: Sendable {
            public var name: String
            public var fired: Int
            public var connections: Int
        }

        public var queues: [Queue]
        /// The queues as one label value: "0", or "0-3" (the kernel counts their diversion together).
        public var queueRange: String
        /// Diverted packets that passed without netfault (fail-open); nil when unknown (iptables).
        public var escaped: Int?
        /// Every rule that was ever in force; a rule changed under the same name adds up.
        public var rules: [Rule]
        public var connectionsByOutcome: [(outcome: String, count: Int)]
        public var connectionsTracked: Int
        public var injected: Int
        public var ruleChanges: Int
    }

    public func metrics() -> Metrics {
        let fates = run.engine.packetsByFate
        let queues = run.workers.enumerated().map { index, worker in
            let byFate = index < fates.count ? fates[index] : []
            let counters = QueueCounters.read(queue: worker.socket.queue)
            return Metrics.Queue(queue: worker.socket.queue, packets: byFate.reduce(0, +),
                                 verdicts: zip(SharedEngine.Fate.allCases, byFate).map { ($0.name, $1) },
                                 held: worker.heldNow.load(ordering: .relaxed),
                                 kernelDropped: counters.map { $0.queueDropped + $0.userDropped }, waiting: counters?.waiting ?? 0)
        }
        let engineView = run.engine.withEngine { engine -> (rules: [Metrics.Rule], outcomes: [ConnectionOutcome: Int], tracked: Int, changes: Int) in
            var byName: [String: Metrics.Rule] = [:]
            var order: [String] = []
            for (id, rule) in engine.knownRules.enumerated() {
                if byName[rule.name] == nil { order.append(rule.name) }
                var entry = byName[rule.name] ?? Metrics.Rule(name: rule.name, fired: 0, connections: 0)
                entry.fired += engine.ruleStatistics[id].fired
                entry.connections += engine.ruleStatistics[id].connections
                byName[rule.name] = entry
            }
            return (order.map { byName[$0]! }, engine.retiredOutcomes, engine.trackedFlowCount, engine.ruleChanges)
        }
        return Metrics(queues: queues, queueRange: controller.ruleSet.queueRange, escaped: escaped(queues),
                       rules: engineView.rules,
                       connectionsByOutcome: ConnectionOutcome.allCases.map { ($0.rawValue, engineView.outcomes[$0] ?? 0) },
                       connectionsTracked: engineView.tracked, injected: run.engine.injections, ruleChanges: engineView.changes)
    }

    /// Packets the hooks diverted that neither netfault read nor the kernel dropped nor wait in
    /// a queue now: they passed unseen (fail-open). Never less than an earlier reading.
    private func escaped(_ queues: [Metrics.Queue]) -> Int? {
        guard let diverted = run.hooks.divertedSoFar() else { return nil }
        var accounted = 0
        for queue in queues { accounted += queue.packets + (queue.kernelDropped ?? 0) + queue.waiting }
        escapedSeen = max(escapedSeen, diverted - accounted)
        return escapedSeen
    }

    /// The queue's part of a report made while the run goes on.
    private func liveQueueStatistics() -> RunReport.QueueStatistics {
        let metrics = metrics()
        var statistics = RunReport.QueueStatistics()
        statistics.queue = controller.ruleSet.queue
        statistics.packets = metrics.queues.reduce(0) { $0 + $1.packets }
        statistics.verdicts = statistics.packets - metrics.queues.reduce(0) { $0 + $1.held }
        statistics.unreadable = metrics.queues.reduce(0) { $0 + ($1.verdicts.last?.count ?? 0) }
        statistics.injected = metrics.injected
        statistics.escapedFailOpen = metrics.escaped
        statistics.kernelDropped = metrics.queues.reduce(0) { $0 + ($1.kernelDropped ?? 0) }
        statistics.packetsPerQueue = metrics.queues.count > 1 ? metrics.queues.map(\.packets) : []
        return statistics
    }
}
