/// The flow table's index from key to slot: open addressing with linear probing over 4-byte slot
/// numbers. The keys themselves are not stored again (a `[FlowKey: Int32]` kept a second 48-byte
/// copy of every key, about 100 bytes per connection with its spare buckets); a probe compares
/// against the key in the flow's slot. The hash is seeded per table, so traffic cannot be shaped
/// to collide.
struct FlowIndex {
    private var buckets: [Int32]
    private var mask: Int
    private let seed: UInt64
    private(set) var count = 0

    /// Room for `expected` keys before the first growth.
    init(expected: Int) {
        let size = Self.buckets(for: expected)
        buckets = [Int32](repeating: -1, count: size)
        mask = size - 1
        var generator = SystemRandomNumberGenerator()
        seed = generator.next()
    }

    /// The slot of `key`, looking keys up in `flows`.
    func slot(for key: FlowKey, in flows: FlowSlots) -> Int32? {
        var bucket = home(key)
        while true {
            let slot = buckets[bucket]
            if slot < 0 { return nil }
            if flows[slot].key == key { return slot }
            bucket = (bucket + 1) & mask
        }
    }

    /// Adds `slot`, whose flow in `flows` has a key not in the index yet.
    mutating func insert(_ slot: Int32, in flows: FlowSlots) {
        if 2 * (count + 1) > buckets.count { grow(flows) }
        place(slot, key: flows[slot].key)
        count += 1
    }

    /// Removes `slot`, whose flow is still in `flows`: later entries of its probe run shift back
    /// so that no lookup stops early at the hole.
    mutating func remove(_ slot: Int32, in flows: FlowSlots) {
        var hole = home(flows[slot].key)
        while buckets[hole] != slot { hole = (hole + 1) & mask }
        var next = hole
        while true {
            next = (next + 1) & mask
            let moving = buckets[next]
            if moving < 0 { break }
            let wanted = home(flows[moving].key)
            // Move it into the hole unless its home lies cyclically in (hole, next].
            let homeAfterHole = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !homeAfterHole {
                buckets[hole] = moving
                hole = next
            }
        }
        buckets[hole] = -1
        count -= 1
    }

    /// Buckets for `count` keys: at least twice as many, a power of two.
    private static func buckets(for count: Int) -> Int {
        var size = 16
        while size < 2 * count { size <<= 1 }
        return size
    }

    /// The most bytes the buckets of an index made for `expected` keys take while it grows to
    /// `count` keys: the old and the new buckets at the last growth.
    static func largestFootprint(expected: Int, upTo count: Int) -> Int {
        FlowTable.largestWhileDoubling(from: buckets(for: expected), to: buckets(for: count)) * MemoryLayout<Int32>.stride
    }

    private func home(_ key: FlowKey) -> Int { Int(truncatingIfNeeded: key.tableHash(seed: seed)) & mask }

    private mutating func place(_ slot: Int32, key: FlowKey) {
        var bucket = home(key)
        while buckets[bucket] >= 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = slot
    }

    private mutating func grow(_ flows: FlowSlots) {
        let old = buckets
        buckets = [Int32](repeating: -1, count: old.count * 2)
        mask = buckets.count - 1
        for slot in old where slot >= 0 { place(slot, key: flows[slot].key) }
    }
}
