/// The flows a report reads: the connections the engine no longer tracks (a ring, the oldest at
/// `retiredStart`) and those it tracks. At the end of a run they are the engine's own storage,
/// shared and read in place (copy on write: the engine changing afterwards copies, never the
/// report); a running netfault's report reads copies taken under the engine's lock, so that the
/// packets never pay for a copy the report made them share.
///
/// A flow is named by a `Reference`, 4 bytes: the report of 100 000 connections orders and
/// lists those, and makes each connection's result only when it is written.
struct ReportedFlows: Sendable {
    /// Below the number of retired flows, the nth retired one (oldest first); from it on, a
    /// tracked one: its slot in `table`, or its index among `copies`, after the retired ones.
    typealias Reference = Int32

    private let retired: [RetiredFlow]
    private let retiredStart: Int
    /// The engine's table, read in place; nil when the tracked flows are `copies`.
    private let table: FlowTable?
    private let copies: [Flow]
    /// Only the flows first seen at or after it are reported (the segment since a mark).
    private let since: Instant?

    /// The engine's flows themselves, first seen at or after `since` (nil: all).
    init(inPlace engine: borrowing Engine, since: Instant?) {
        let (retired, start) = engine.retiredRing
        self.retired = retired
        retiredStart = start
        table = engine.table
        copies = []
        self.since = since
        precondition(retired.count + table!.slotCount <= Int(Reference.max), "too many flows to reference")
    }

    /// Copies of the engine's flows first seen at or after `since` (nil: all).
    init(copying engine: borrowing Engine, since: Instant?) {
        let after: (Flow) -> Bool = { flow in since.map { flow.firstSeen >= $0 } ?? true }
        retired = engine.retiredFlows.filter { after($0.flow) }
        retiredStart = 0
        table = nil
        copies = engine.flows.filter(after)
        self.since = nil
        precondition(retired.count + copies.count <= Int(Reference.max), "too many flows to reference")
    }

    /// Calls `body` with each retired flow, oldest first.
    func forEachRetired(_ body: (Reference, RetiredFlow) throws -> Void) rethrows {
        for index in retired.indices {
            let ended = retired[(retiredStart + index) % retired.count]
            if let since, ended.flow.firstSeen < since { continue }
            try body(Reference(index), ended)
        }
    }

    /// Calls `body` with each tracked flow, in the table's order.
    func forEachTracked(_ body: (Reference, Flow) throws -> Void) rethrows {
        let first = retired.count
        if let table {
            for slot in table.liveSlots {
                if let since, table[slot].firstSeen < since { continue }
                try body(Reference(first) + slot, table[slot])
            }
        } else {
            for (index, flow) in copies.enumerated() { try body(Reference(first + index), flow) }
        }
    }

    /// When the flow `reference` names was first seen.
    func firstSeen(_ reference: Reference) -> Instant {
        let index = Int(reference)
        if index < retired.count { return retired[(retiredStart + index) % retired.count].flow.firstSeen }
        if let table { return table[Int32(index - retired.count)].firstSeen }
        return copies[index - retired.count].firstSeen
    }

    /// The flow `reference` names, and how it ended (a tracked one: as it stands).
    subscript(reference: Reference) -> (flow: Flow, outcome: ConnectionOutcome) {
        let index = Int(reference)
        if index < retired.count {
            let ended = retired[(retiredStart + index) % retired.count]
            return (ended.flow, ended.outcome)
        }
        let flow = table.map { $0[Int32(index - retired.count)] } ?? copies[index - retired.count]
        return (flow, flow.outcome())
    }
}
