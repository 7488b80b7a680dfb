import Testing
@testable import NetFaultCore

/// The flow table's own index (open addressing over slot numbers), against a dictionary.
struct FlowIndexTests {
    static func key(_ number: UInt32) -> FlowKey {
        FlowKey(transport: number % 3 == 0 ? .udp : .tcp, Endpoint(IPAddress(v4: 0xc612_0000 | number >> 8), UInt16(number & 0xff) + 1024),
                Endpoint(IPAddress(v4: 0xc612_0202), 80))
    }

    /// Inserts, lookups and removals in random order, growth included: the index always agrees
    /// with a dictionary of the same keys, and misses stay misses. Each flow's rule state moves
    /// with it when the storage grows, and starts cleared in a reused slot.
    @Test func agreesWithADictionaryThroughInsertsAndRemovals() {
        var generator = SeededGenerator(seed: 11)
        let flows = FlowSlots(capacity: 4, ruleSlotsPerFlow: 2)
        var free: [Int32] = []
        var index = FlowIndex(expected: 8)
        var model: [FlowKey: Int32] = [:]
        for step in 0..<60_000 {
            let number = UInt32.random(in: 0..<5_000, using: &generator)
            let key = Self.key(number)
            #expect(index.slot(for: key, in: flows) == model[key])
            if let slot = model[key] {
                #expect(flows.ruleStateAddress(of: slot, rule: 1).pointee.ordinal == Int32(number))
                if Bool.random(using: &generator) {
                    index.remove(slot, in: flows)
                    free.append(slot)
                    model[key] = nil
                }
            } else {
                let flow = Flow(key: key, client: key.lower, sawOpening: true, at: .zero)
                let slot: Int32
                if let reused = free.popLast() {
                    slot = reused
                    flows.replace(slot, with: flow)
                } else {
                    slot = Int32(flows.count)
                    flows.append(flow)
                }
                index.insert(slot, in: flows)
                model[key] = slot
                #expect(flows.ruleStateAddress(of: slot, rule: 1).pointee.ordinal == 0)
                flows.ruleStateAddress(of: slot, rule: 1).pointee.ordinal = Int32(number)
            }
            if step % 10_000 == 0 {
                for (key, slot) in model { #expect(index.slot(for: key, in: flows) == slot) }
            }
        }
        #expect(index.count == model.count)
        for (key, slot) in model { #expect(index.slot(for: key, in: flows) == slot) }
        #expect(index.slot(for: Self.key(9_999), in: flows) == nil)
    }

    /// A million tracked connections pay for every byte of the flow record: keep it from growing
    /// unnoticed (344 bytes before the fields were ordered by size, 280 after, 288 with the
    /// per-connection rule mask, 280 with the rule states moved into the table; `shift_seq`'s
    /// offset took the 4 bytes the latched rule's optional no longer does).
    @Test func theFlowRecordStaysSmall() {
        #expect(MemoryLayout<Flow>.stride <= 280)
        #expect(MemoryLayout<DirectionStats>.stride <= 64)
    }
}
