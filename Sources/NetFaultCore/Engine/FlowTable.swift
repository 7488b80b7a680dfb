/// The connections the engine tracks, with bounded memory: flows live in slots, indexed by key, and
/// sit on one of three least-recently-active lists by how soon they expire (open TCP, datagram
/// flows, closed TCP). Expiry pops list heads, and a full table evicts the oldest idle flow first,
/// so both cost O(1) per packet.
struct FlowTable: Sendable {
    struct Timeouts: Sendable {
        /// An open TCP connection silent this long is forgotten.
        var openTCP: Duration = .seconds(3600)
        /// A UDP or ICMP flow silent this long is over (RFC 4787 suggests at least 2 minutes for NATs; 30 s is what people meet).
        var datagram: Duration = .seconds(30)
        /// A closed TCP connection lingers this long so late retransmissions still belong to it.
        var closed: Duration = .seconds(10)
    }

    enum ListKind: Int, CaseIterable { case openTCP, datagram, closed }

    /// A slot's place on its list, and its flow's last activity: expiry and eviction read only
    /// these, never the (large) flow. Kept by `FlowSlots`, beside the flows.
    struct Links {
        var previous: Int32 = -1
        var next: Int32 = -1
        var list: ListKind = .openTCP
        var live = false
        var lastSeen = Instant.zero
    }

    /// Every slot's flow; a free slot holds `vacant`. Not optional: unwrapping a `Flow?` copied
    /// the whole flow (and retained its arrays) on every read through the table.
    private var flows: FlowSlots
    private var index: FlowIndex
    private var freeSlots: [Int32] = []
    /// Each list's first and last slot, -1 when empty: values, not arrays, so that changing one
    /// checks no buffer's uniqueness.
    private var heads = InlineArray<3, Int32>(repeating: -1)
    private var tails = InlineArray<3, Int32>(repeating: -1)
    private var timeouts: InlineArray<3, Int64>
    let capacity: Int

    /// A table of up to `capacity` flows, each with `ruleSlotsPerFlow` rule states.
    init(capacity: Int, timeouts: Timeouts, ruleSlotsPerFlow: Int) {
        self.capacity = capacity
        self.timeouts = Self.nanoseconds(timeouts)
        precondition(ListKind.allCases.count == 3, "one head, tail and timeout per list")
        // Sized for the limit up front (address space only until used): growing by doubling would
        // hold the old and the new storage at once, a peak of twice the table at the worst moment.
        let reserved = min(capacity, Self.reservedUpFront)
        flows = FlowSlots(capacity: reserved, ruleSlotsPerFlow: ruleSlotsPerFlow)
        index = FlowIndex(expected: reserved)
    }

    /// The most flows a table has room for before its first growth: a larger limit grows by doubling.
    static let reservedUpFront = 1 << 20

    /// The most address space a table of up to `capacity` flows, each with `ruleSlotsPerFlow`
    /// rule states, takes: its storage and index at the limit, and both the old and the new
    /// storage while it grows past `reservedUpFront`.
    static func largestFootprint(capacity: Int, ruleSlotsPerFlow: Int) -> Int {
        let reserved = min(capacity, reservedUpFront)
        let slots = largestWhileDoubling(from: reserved, to: capacity) * FlowSlots.bytesPerSlot(ruleSlotsPerFlow: ruleSlotsPerFlow)
        return slots + FlowIndex.largestFootprint(expected: reserved, upTo: capacity)
    }

    /// Elements held at once, at the most, by storage that starts with room for `reserved` and
    /// doubles until it holds `count`: the last doubling's old and new storage together.
    static func largestWhileDoubling(from reserved: Int, to count: Int) -> Int {
        var room = max(1, reserved)
        guard room < count else { return room }
        while room < count { room *= 2 }
        return room + room / 2
    }

    var count: Int { index.count }

    /// Slots in use or freed, from 0: every slot number is below it.
    var slotCount: Int { flows.count }

    private static func nanoseconds(_ timeouts: Timeouts) -> InlineArray<3, Int64> {
        [timeouts.openTCP.nanoseconds, timeouts.datagram.nanoseconds, timeouts.closed.nanoseconds]
    }

    /// New timeouts, for the flows tracked now too (a rule set with a longer `idle:` arrived).
    mutating func setTimeouts(_ timeouts: Timeouts) { self.timeouts = Self.nanoseconds(timeouts) }

    /// Gives every flow `count` rule states, the nth taken from its old state `sources[n]` (nil:
    /// cleared). For a new rule set: its rules' states in its order.
    mutating func relayoutRuleStates(count: Int, from sources: [Int?]) {
        precondition(sources.count == count, "one source per rule state")
        flows = flows.copy(ruleSlotsPerFlow: count, from: sources)
    }

    /// The slots of every live flow, in no particular order.
    var liveSlots: [Int32] {
        (0..<Int32(flows.count)).filter { flows.links(of: $0).pointee.live }
    }

    func slot(for key: FlowKey) -> Int32? { index.slot(for: key, in: flows) }

    /// The flow in `slot`, read and changed in place: a `get` would copy the whole flow (and
    /// retain its arrays) on every field read of every packet.
    subscript(slot: Int32) -> Flow {
        unsafeAddress { UnsafePointer(flows.mutableAddress(of: slot)) }
        unsafeMutableAddress {
            makeUnique()
            return flows.mutableAddress(of: slot)
        }
    }

    /// The per-connection state of the rule whose state slot is `rule`, for the flow in `slot`;
    /// cleared when the flow is inserted.
    subscript(slot: Int32, rule rule: Int) -> RuleSlot {
        unsafeAddress { UnsafePointer(flows.ruleStateAddress(of: slot, rule: rule)) }
        unsafeMutableAddress {
            makeUnique()
            return flows.ruleStateAddress(of: slot, rule: rule)
        }
    }

    var isFull: Bool { index.count >= capacity }

    /// Copies the flows before a change if another copy of the table shares them.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&flows) { flows = flows.copy() }
    }

    /// Which end of the flow in `slot` sent `packet`. Its fields are read one by one: a method of
    /// the flow called through the table copied the whole flow first, retains included.
    func side(of packet: Packet, in slot: Int32) -> Side {
        let (key, clientIsLower) = (self[slot].key, self[slot].clientIsLower)
        return Flow.side(of: packet, client: clientIsLower ? key.lower : key.upper)
    }

    /// Adds a flow, with its rule states cleared, to a table that is not full.
    mutating func insert(_ flow: Flow) -> Int32 {
        precondition(!isFull, "a full flow table evicts before it inserts")
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            makeUnique()
            flows.replace(slot, with: flow)
        } else {
            slot = Int32(flows.count)
            makeUnique()
            flows.append(flow)
        }
        index.insert(slot, in: flows)
        append(slot, to: kind(of: slot), lastSeen: flow.lastSeen)
        return slot
    }

    /// Marks a flow active now: it moves to the tail of its list (and to another list if it closed).
    mutating func touch(_ slot: Int32, at now: Instant) {
        makeUnique()
        let kind = kind(of: slot)
        // The flow of a busy connection is usually last on its list already.
        if tails[kind.rawValue] == slot {
            links(slot).pointee.lastSeen = now
            return
        }
        unlink(slot)
        append(slot, to: kind, lastSeen: now)
    }

    @discardableResult
    mutating func remove(_ slot: Int32) -> Flow {
        let flow = self[slot]
        makeUnique()
        unlink(slot)
        index.remove(slot, in: flows)
        self[slot] = Self.vacant
        freeSlots.append(slot)
        return flow
    }

    /// A flow idle past its list's timeout at `now`, if any: the engine removes them one by one.
    func expiredSlot(at now: Instant) -> Int32? {
        for kind in ListKind.allCases {
            let head = heads[kind.rawValue]
            if head >= 0, now.since(links(head).pointee.lastSeen) >= timeouts[kind.rawValue] { return head }
        }
        return nil
    }

    /// Every live flow, in no particular order.
    var all: some Sequence<Flow> {
        let flows = flows
        return (0..<Int32(flows.count)).lazy.filter { flows.links(of: $0).pointee.live }.map { flows[$0] }
    }

    /// What a free slot holds: no flow's key, no arrays to keep alive.
    private static let vacant = Flow(key: FlowKey(transport: .tcp, Endpoint(IPAddress(v4: 0), 0), Endpoint(IPAddress(v4: 0), 0)),
                                     client: Endpoint(IPAddress(v4: 0), 0), sawOpening: false, at: .zero)

    private func kind(of slot: Int32) -> ListKind {
        if self[slot].transport != .tcp { return .datagram }
        return self[slot].isClosed ? .closed : .openTCP
    }

    /// The least recently active flow: the one a full table evicts.
    func oldestSlot() -> Int32? {
        var best: Int32?
        for list in heads.indices where heads[list] >= 0 {
            let head = heads[list]
            if best == nil || links(head).pointee.lastSeen < links(best!).pointee.lastSeen { best = head }
        }
        return best
    }

    /// The list links of `slot`. Changed only after `makeUnique()`.
    private func links(_ slot: Int32) -> UnsafeMutablePointer<Links> { flows.links(of: slot) }

    /// Puts `slot` last on `kind`'s list. The storage is unique (`makeUnique()`).
    private mutating func append(_ slot: Int32, to kind: ListKind, lastSeen: Instant) {
        let list = kind.rawValue
        links(slot).pointee = Links(previous: tails[list], next: -1, list: kind, live: true, lastSeen: lastSeen)
        if tails[list] >= 0 { links(tails[list]).pointee.next = slot } else { heads[list] = slot }
        tails[list] = slot
    }

    /// Takes `slot` off its list, if on one. The storage is unique (`makeUnique()`).
    private mutating func unlink(_ slot: Int32) {
        let link = links(slot).pointee
        guard link.live else { return }
        let list = link.list.rawValue
        if link.previous >= 0 { links(link.previous).pointee.next = link.next } else { heads[list] = link.next }
        if link.next >= 0 { links(link.next).pointee.previous = link.previous } else { tails[list] = link.previous }
        links(slot).pointee.live = false
    }
}
