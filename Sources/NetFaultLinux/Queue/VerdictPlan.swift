import NetFaultCore

/// What one packet's decision asks of its queue, worked out without touching the queue: the verdict
/// path's only choice, a pure function of the engine's `Decision` and whether the queue can hold.
struct VerdictPlan: Equatable {
    enum Disposition: Equatable {
        /// Let it through with the next batch verdict (most packets).
        case acceptInBatch
        /// Discard it, with a verdict of its own now.
        case drop
        /// Let these bytes through instead, with a verdict of its own now.
        case replace([UInt8])
        /// Move it to the parking queue until the deadline (nil: the run's end, then drop it).
        case park(until: Instant?)
    }

    var disposition: Disposition
    /// Complete IP packets to send once the verdicts of every packet read so far have left: what
    /// netfault sends itself must not overtake the packets it follows.
    var injections: [Injection]

    init(disposition: Disposition, injections: [Injection] = []) {
        self.disposition = disposition
        self.injections = injections
    }

    /// The plan for `decision`. Only a rule set that holds decides to hold, and such a rule set
    /// always has a parking queue; should there be none (`canPark` false), the packet goes on.
    init(_ decision: Decision, canPark: Bool) {
        switch decision.verdict {
        case .accept: disposition = .acceptInBatch
        case .drop: disposition = .drop
        case .replace(let bytes): disposition = .replace(bytes)
        case .acceptAfter(let deadline): disposition = canPark ? .park(until: deadline) : .acceptInBatch
        case .holdUntilEnd: disposition = canPark ? .park(until: nil) : .acceptInBatch
        }
        // `hasInjections` first: most decisions have none, and the array would cost a read.
        injections = decision.hasInjections ? decision.injections : []
    }

    /// A packet that could not be parsed: the engine never sees it, it goes on.
    static let unreadable = VerdictPlan(disposition: .acceptInBatch)
}
