/// The flow table's storage: flows in numbered slots, read and changed in place through
/// addressors. An `Array`'s getter returns a copy: calling a method of one flow through it copied
/// the whole flow and retained its rule-state array (a cache miss on another allocation), on
/// every packet.
///
/// A reference type: `FlowTable` copies it before changing a shared one (copy on write).
final class FlowSlots {
    private var base: UnsafeMutablePointer<Flow>
    /// Slots in use, from 0; each holds an initialized flow.
    private(set) var count = 0
    private var capacity: Int

    /// Room for `capacity` flows before the first growth (address space only until used).
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// The flow in `slot` (below `count`), read in place.
    subscript(slot: Int32) -> Flow {
        unsafeAddress { UnsafePointer(mutableAddress(of: slot)) }
    }

    /// Where the flow in `slot` (below `count`) lives, until the next `append`. Changing it
    /// changes every table that shares this storage: `FlowTable` makes it unique first.
    func mutableAddress(of slot: Int32) -> UnsafeMutablePointer<Flow> {
        precondition(slot >= 0 && Int(slot) < count, "flow slot \(slot) out of 0..<\(count)")
        return base + Int(slot)
    }

    /// Adds `flow` in a new slot, `count` before the call.
    func append(_ flow: Flow) {
        if count == capacity { grow(to: capacity * 2) }
        (base + count).initialize(to: flow)
        count += 1
    }

    /// A copy of every flow, for a table whose storage is shared.
    func copy() -> FlowSlots {
        let copy = FlowSlots(capacity: capacity)
        copy.base.initialize(from: base, count: count)
        copy.count = count
        return copy
    }

    private func grow(to newCapacity: Int) {
        let grown = UnsafeMutablePointer<Flow>.allocate(capacity: newCapacity)
        grown.moveInitialize(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}
