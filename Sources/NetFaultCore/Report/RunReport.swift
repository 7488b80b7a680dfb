/// Everything a run did, in the terms the report formats share: per rule, per connection, and
/// for the queue. Built once when the run ends, from the engine and the queue's counters; each
/// connection's result is made from the engine's flow only when it is read (`Connections`), so
/// that the report is written with bounded memory however many connections it lists.
public struct RunReport: Sendable {
    /// Counters of the queue and the injector, as the Linux layer measured them.
    public struct QueueStatistics: Sendable, Equatable {
        public var queue: UInt16 = 0
        /// Packets netfault received from the queue.
        public var packets = 0
        public var verdicts = 0
        /// The most packets held at once (with several queues, the sum of each queue's most).
        public var heldPeak = 0
        /// Held packets let go before their deadline: to stay within `max_held`, or passed on by
        /// the kernel when the parking queue could not take them.
        public var heldReleasedEarly = 0
        /// Packets that did not parse; accepted untouched.
        public var unreadable = 0
        /// Packets the hooks diverted that bypassed netfault because the queue was full (fail-open); nil if unknown.
        public var escapedFailOpen: Int?
        /// Packets the kernel dropped: queue full (without fail-open), and receive buffer full.
        public var kernelDropped: Int?
        public var receiveBufferDropped: Int?
        public var injected = 0
        public var injectionFailures = 0
        /// Packets received from each queue, first queue first (`queues:` above 1).
        public var packetsPerQueue: [Int] = []

        public init() {}

        /// The queues of one run added up, with `diverted`, the packets the hooks sent to any of
        /// them (nil if unknown): what was diverted and neither received nor dropped by the
        /// kernel went through unseen (fail-open).
        public init(combining queues: [QueueStatistics], diverted: Int?) {
            queue = queues.first?.queue ?? 0
            func sum(_ field: KeyPath<QueueStatistics, Int>) -> Int { queues.reduce(0) { $0 + $1[keyPath: field] } }
            func sum(_ field: KeyPath<QueueStatistics, Int?>) -> Int? {
                queues.reduce(0) { total, queue in total.flatMap { total in queue[keyPath: field].map { total + $0 } } }
            }
            packets = sum(\.packets)
            verdicts = sum(\.verdicts)
            heldPeak = sum(\.heldPeak)
            heldReleasedEarly = sum(\.heldReleasedEarly)
            unreadable = sum(\.unreadable)
            kernelDropped = sum(\.kernelDropped)
            receiveBufferDropped = sum(\.receiveBufferDropped)
            injected = sum(\.injected)
            injectionFailures = sum(\.injectionFailures)
            packetsPerQueue = queues.count > 1 ? queues.map(\.packets) : []
            if let diverted {
                escapedFailOpen = max(0, diverted - packets - (kernelDropped ?? 0) - (receiveBufferDropped ?? 0))
            }
        }
    }

    public struct RuleResult: Sendable, Equatable {
        public var name: String
        public var action: String
        public var fired: Int
        public var connections: Int
        /// What the rule file stated; nil when it stated nothing (then: fires at least once).
        public var expect: Expectation?
        /// Why the expectation (stated, or "fires at least once") did not hold; nil when it held.
        public var failure: String?
    }

    public struct FaultResult: Sendable, Equatable {
        public var rule: String
        public var action: String
        public var count: Int
        /// Since the connection's first packet.
        public var firstMilliseconds: Double
    }

    /// Client and server values of one measure.
    public struct PerSide<Value: Sendable & Equatable>: Sendable, Equatable {
        public var client: Value
        public var server: Value
    }

    public struct ConnectionResult: Sendable, Equatable {
        public var transport: Transport
        public var client: Endpoint
        public var server: Endpoint
        /// False when netfault first saw the connection mid-stream (it was open before the run).
        public var seenFromStart: Bool
        public var outcome: ConnectionOutcome
        /// What each side's application got; nil for a side that got no error.
        public var errors: PerSide<SocketError?>
        public var resetBy: ResetOrigin?
        /// The name of the rule behind `resetBy` when netfault sent the RST.
        public var resetRule: String?
        /// Who closed the connection with FINs in its peers' names (`close`), for `closed`.
        public var closedBy: ResetOrigin?
        /// The name of the `close` rule behind `closedBy`.
        public var closedRule: String?
        /// The side whose data went unacknowledged, for `aborted`.
        public var abortedSide: Side?
        /// Since the run's start.
        public var startMilliseconds: Double
        public var handshakeMilliseconds: Double?
        public var durationMilliseconds: Double
        public var packets: PerSide<UInt64>
        public var bytes: PerSide<UInt64>
        public var retransmissions: PerSide<UInt32>
        /// The longest time between consecutive retransmissions: the RTO backoff actually seen.
        public var largestRetransmissionGapMilliseconds: PerSide<Double>
        /// Packets netfault did not deliver (dropped, or held until the run ended).
        public var dropped: PerSide<UInt64>
        /// Rules other than `pass` that acted on the connection, in the order they first did.
        public var faults: [FaultResult]
        /// From the first fault to the connection's end; nil without faults.
        public var faultToEndMilliseconds: Double?

        public var isFaulted: Bool { !faults.isEmpty }
    }

    /// The command `netfault run` wrapped, and how it ended; nil for `apply`.
    public var command: CommandResult?

    public struct CommandResult: Sendable, Equatable {
        public var arguments: [String]
        /// What a shell would say: the exit status, or 128 + the signal that ended it.
        public var status: Int32
        /// "exit 56", "killed by SIGKILL".
        public var ended: String

        public init(arguments: [String], status: Int32, ended: String) {
            self.arguments = arguments
            self.status = status
            self.ended = ended
        }
    }

    public var stopReason: String
    /// The mark this report starts from (a segment of the run); nil: the whole run.
    public var since: String?
    public var seed: UInt64
    /// The wall-clock start, as ISO 8601 (the engine's clock is monotonic).
    public var startedAt: String
    public var durationMilliseconds: Double
    public var ruleFile: String
    public var queue: QueueStatistics
    public var rules: [RuleResult]
    /// Every connection listed (at most `flows.limits.maxListed`), in the order they began.
    public let connections: Connections
    /// Outcomes of connections not listed (beyond the engine's retention), counted only.
    public var unlistedOutcomes: [ConnectionOutcome: Int]

    /// The flow table over the run: how big it got against its limits, and how flows left it.
    public var flows: FlowStatistics

    public struct FlowStatistics: Sendable, Equatable {
        public var limits: FlowLimits
        public var peakTracked: Int
        public var created: Int
        /// Ended and forgotten after their timeout.
        public var expired: Int
        /// Forgotten while still open, because `limits.maxTracked` were tracked already.
        public var evicted: Int
    }

    /// The stop reason of a report made while the run goes on (`GET /v1/report`).
    public static let running = "running"

    /// Rules whose expectation did not hold.
    public var failedRules: [RuleResult] { rules.filter { $0.failure != nil } }
}

extension RunReport {
    /// The report of a run whose engine is `engine`, started at `start` (monotonic) and ended at
    /// `end`. It reads the engine's flows in place: a report of a run that goes on reads copies
    /// (`Engine.reportSnapshot`).
    ///
    /// `since`: the report of the segment since that mark: the connections first seen after it,
    /// and each rule's counts since. Without it, the whole run.
    public init(engine: borrowing Engine, ruleFile: String, stopReason: String, startedAt: String, start: Instant, end: Instant,
                queue: QueueStatistics, since mark: ReportMark? = nil) {
        self.init(Engine.ReportSnapshot(engine, since: mark, copying: false), ruleFile: ruleFile, stopReason: stopReason,
                  startedAt: startedAt, start: start, end: end, queue: queue)
    }

    /// The report from what `Engine.reportSnapshot` copied: a running netfault copies under the
    /// engine's lock and builds the report after, while packets flow.
    public init(_ engine: Engine.ReportSnapshot, ruleFile: String, stopReason: String, startedAt: String, start: Instant, end: Instant,
                queue: QueueStatistics) {
        let known = engine.knownRules
        let mark = engine.mark
        let flows = engine.flows
        var unlisted = mark == nil ? engine.unlistedOutcomes : [:]
        let limits = engine.limits
        // The connections still tracked fill what the ended ones left of the list's limit: faulted
        // ones first (they are what the report is for), the rest counted by outcome.
        var listed: [ReportedFlows.Reference] = []
        flows.forEachRetired { reference, _ in listed.append(reference) }
        let budget = max(0, limits.maxListed - listed.count)
        var trackedListed = 0
        func faulted(_ flow: Flow) -> Bool { flow.faults.contains { known[$0.rule].action.kind != .pass } }
        for faultedFirst in [true, false] {
            flows.forEachTracked { reference, flow in
                guard faulted(flow) == faultedFirst else { return }
                if trackedListed < budget {
                    listed.append(reference)
                    trackedListed += 1
                } else {
                    unlisted[flow.outcome(), default: 0] += 1
                }
            }
        }
        // A stable sort: connections that began at the same instant keep the order above.
        listed.sort { flows.firstSeen($0) < flows.firstSeen($1) }
        var outcomesByRule = Array(repeating: [ConnectionOutcome](), count: known.count)
        for reference in listed {
            let (flow, outcome) = flows[reference]
            for fault in flow.faults { outcomesByRule[fault.rule].append(outcome) }
        }
        // The rules in force, and those no longer in force that acted (in the segment).
        let inForce = Set(engine.enabledRuleIDs)
        self.rules = known.enumerated().compactMap { id, rule in
            var statistics = engine.ruleStatistics[id]
            if let before = mark?.ruleStatistics(id) {
                statistics.fired -= before.fired
                statistics.connections -= before.connections
            }
            guard inForce.contains(id) || statistics.fired > 0 else { return nil }
            let expectation = rule.expect ?? .firesAtLeastOnce
            return RuleResult(name: rule.name, action: rule.action.keyword, fired: statistics.fired, connections: statistics.connections,
                              expect: rule.expect,
                              failure: expectation.failure(fired: statistics.fired, outcomes: outcomesByRule[id]))
        }
        self.since = mark?.name
        self.stopReason = stopReason
        self.seed = engine.seed
        self.startedAt = startedAt
        self.durationMilliseconds = Self.milliseconds(end.since(start))
        self.ruleFile = ruleFile
        self.queue = queue
        self.connections = Connections(flows: flows, listed: listed, rules: known, runStart: start)
        self.unlistedOutcomes = unlisted
        let statistics = engine.statistics
        self.flows = FlowStatistics(limits: limits, peakTracked: statistics.flowsPeak, created: statistics.flowsCreated,
                                    expired: statistics.flowsExpired, evicted: statistics.flowsEvicted)
    }

    /// Nanoseconds as milliseconds, to two decimals: what every time in the report is.
    static func milliseconds(_ nanoseconds: Int64) -> Double { (Double(nanoseconds) / 1e4).rounded() / 100 }
}
