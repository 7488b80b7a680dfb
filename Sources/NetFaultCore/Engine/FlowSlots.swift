/// The flow table's storage: flows in numbered slots, read and changed in place through
/// addressors, each followed by its connection's per-rule state (`RuleSlot`s), and beside them
/// each slot's place on the table's lists (`FlowTable.Links`). An `Array`'s getter returns a
/// copy: calling a method of one flow through it copied the whole flow and retained its arrays;
/// a rule state of its own per flow was one more allocation, and one more cache miss per packet,
/// than state stored next to the flow; and every change to an array checks that its buffer is
/// not shared (a call into the runtime), where this storage is checked once per table change.
///
/// A reference type: `FlowTable` copies it before changing a shared one (copy on write). So a
/// table handed to another thread (a report read after the run) is never written while shared:
/// sendable as an `Array` is, by the same uniqueness check.
final class FlowSlots: @unchecked Sendable {
    private var base: UnsafeMutableRawPointer
    private var linkBase: UnsafeMutablePointer<FlowTable.Links>
    /// Slots in use, from 0; each holds an initialized flow.
    private(set) var count = 0
    private var capacity: Int
    /// How many `RuleSlot`s follow each flow.
    let ruleSlotsPerFlow: Int
    /// Bytes from one slot to the next: the flow, then its rule state.
    private let stride: Int
    private static let alignment = max(MemoryLayout<Flow>.alignment, MemoryLayout<RuleSlot>.alignment)
    private static let ruleStateOffset = roundedUp(MemoryLayout<Flow>.stride, to: MemoryLayout<RuleSlot>.alignment)

    /// Room for `capacity` flows before the first growth (address space only until used), each
    /// with `ruleSlotsPerFlow` rule states.
    init(capacity: Int, ruleSlotsPerFlow: Int) {
        self.capacity = max(1, capacity)
        self.ruleSlotsPerFlow = ruleSlotsPerFlow
        stride = Self.roundedUp(Self.ruleStateOffset + ruleSlotsPerFlow * MemoryLayout<RuleSlot>.stride, to: Self.alignment)
        base = .allocate(byteCount: self.capacity * stride, alignment: Self.alignment)
        linkBase = .allocate(capacity: self.capacity)
    }

    deinit {
        for slot in 0..<count { flowAddress(Int32(slot)).deinitialize(count: 1) }
        base.deallocate()
        linkBase.deallocate()
    }

    /// The flow in `slot` (below `count`), read in place.
    subscript(slot: Int32) -> Flow {
        unsafeAddress { UnsafePointer(mutableAddress(of: slot)) }
    }

    /// Where the flow in `slot` (below `count`) lives, until the next `append`. Changing it
    /// changes every table that shares this storage: `FlowTable` makes it unique first.
    func mutableAddress(of slot: Int32) -> UnsafeMutablePointer<Flow> {
        precondition(slot >= 0 && Int(slot) < count, "flow slot \(slot) out of 0..<\(count)")
        return flowAddress(slot)
    }

    /// Where the rule state `rule` (below `ruleSlotsPerFlow`) of the flow in `slot` lives; as
    /// `mutableAddress(of:)`.
    func ruleStateAddress(of slot: Int32, rule: Int) -> UnsafeMutablePointer<RuleSlot> {
        precondition(slot >= 0 && Int(slot) < count, "flow slot \(slot) out of 0..<\(count)")
        precondition(rule >= 0 && rule < ruleSlotsPerFlow, "rule state \(rule) out of 0..<\(ruleSlotsPerFlow)")
        return ruleStates(slot) + rule
    }

    /// Where the list links of `slot` (below `count`) live; as `mutableAddress(of:)`.
    func links(of slot: Int32) -> UnsafeMutablePointer<FlowTable.Links> {
        precondition(slot >= 0 && Int(slot) < count, "flow slot \(slot) out of 0..<\(count)")
        return linkBase + Int(slot)
    }

    /// Puts `flow` in `slot` (below `count`), with its rule state cleared.
    func replace(_ slot: Int32, with flow: Flow) {
        mutableAddress(of: slot).pointee = flow
        ruleStates(slot).update(repeating: RuleSlot(), count: ruleSlotsPerFlow)
    }

    /// Adds `flow`, its rule state cleared and its slot on no list, in a new slot: `count` before the call.
    func append(_ flow: Flow) {
        if count == capacity { grow(to: capacity * 2) }
        (linkBase + count).initialize(to: FlowTable.Links())
        (base + count * stride).initializeMemory(as: Flow.self, to: flow)
        (base + count * stride + Self.ruleStateOffset).initializeMemory(as: RuleSlot.self, repeating: RuleSlot(),
                                                                       count: ruleSlotsPerFlow)
        count += 1
    }

    /// A copy of every flow and its rule state, for a table whose storage is shared.
    func copy() -> FlowSlots { copy(ruleSlotsPerFlow: ruleSlotsPerFlow, from: Array(0..<ruleSlotsPerFlow)) }

    /// A copy of every flow with `ruleSlotsPerFlow` rule states each, the nth copied from this
    /// storage's state `sources[n]` (nil: cleared): the layout of a new rule set.
    func copy(ruleSlotsPerFlow: Int, from sources: [Int?]) -> FlowSlots {
        let copy = FlowSlots(capacity: capacity, ruleSlotsPerFlow: ruleSlotsPerFlow)
        for slot in 0..<Int32(count) {
            copy.append(self[slot])
            for (state, source) in sources.enumerated() {
                if let source { copy.ruleStates(slot)[state] = ruleStates(slot)[source] }
            }
        }
        copy.linkBase.update(from: linkBase, count: count)
        return copy
    }

    /// Bytes a slot takes: the flow, its `ruleSlotsPerFlow` rule states, and its list links.
    static func bytesPerSlot(ruleSlotsPerFlow: Int) -> Int {
        roundedUp(ruleStateOffset + ruleSlotsPerFlow * MemoryLayout<RuleSlot>.stride, to: alignment) + MemoryLayout<FlowTable.Links>.stride
    }

    private static func roundedUp(_ bytes: Int, to alignment: Int) -> Int { (bytes + alignment - 1) / alignment * alignment }

    private func flowAddress(_ slot: Int32) -> UnsafeMutablePointer<Flow> {
        (base + Int(slot) * stride).assumingMemoryBound(to: Flow.self)
    }

    private func ruleStates(_ slot: Int32) -> UnsafeMutablePointer<RuleSlot> {
        (base + Int(slot) * stride + Self.ruleStateOffset).assumingMemoryBound(to: RuleSlot.self)
    }

    private func grow(to newCapacity: Int) {
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * stride, alignment: Self.alignment)
        for slot in 0..<count {
            let offset = slot * stride
            grown.advanced(by: offset).initializeMemory(as: Flow.self, to: flowAddress(Int32(slot)).move())
            grown.advanced(by: offset + Self.ruleStateOffset)
                .initializeMemory(as: RuleSlot.self, from: ruleStates(Int32(slot)), count: ruleSlotsPerFlow)
        }
        base.deallocate()
        base = grown
        let grownLinks = UnsafeMutablePointer<FlowTable.Links>.allocate(capacity: newCapacity)
        grownLinks.moveInitialize(from: linkBase, count: count)
        linkBase.deallocate()
        linkBase = grownLinks
        capacity = newCapacity
    }
}
