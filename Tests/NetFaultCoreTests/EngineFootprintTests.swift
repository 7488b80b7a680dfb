import Testing
@testable import NetFaultCore

/// What an engine's flows take at their limits, known before the engine is made: what a run
/// under `ulimit -v` is checked against.
struct EngineFootprintTests {
    /// Storage reserved up front holds its elements; past it, the last doubling holds the old
    /// and the new storage at once.
    static let growths: [(reserved: Int, count: Int, largest: Int)] = [
        (1_000, 1_000, 1_000), (1_048_576, 1_048_576, 1_048_576), (1_048_576, 3_000_000, 6_291_456),
        (1_048_576, 2_097_153, 6_291_456), (0, 0, 1),
    ]

    @Test(arguments: growths)
    func growthHoldsTheOldAndTheNewStorage(reserved: Int, count: Int, largest: Int) {
        #expect(FlowTable.largestWhileDoubling(from: reserved, to: count) == largest)
    }

    @Test func theDefaultsTakeTheTableTheListAndTheFlowsArrays() throws {
        let ruleSet = try RuleFile.parse("rules: [{name: a, match: {server_port: 80}, action: drop}]", name: "r.yaml").ruleSet
        let footprint = Engine.footprint(for: ruleSet)
        let slot = FlowSlots.bytesPerSlot(ruleSlotsPerFlow: 0)
        #expect(footprint.flowTable == 262_144 * slot + 524_288 * 4, "the slots, and twice as many index buckets")
        #expect(footprint.listed == 100_000 * MemoryLayout<RetiredFlow>.stride)
        #expect(footprint.flowArrays == (262_144 + 100_000) * 64)
        #expect(footprint.total > 100 << 20 && footprint.total < 160 << 20, "\(footprint)")
    }

    /// Rules with per-connection state widen every slot; smaller limits take less; nothing listed takes nothing.
    @Test func stateAndLimitsChangeIt() throws {
        let plain = try RuleFile.parse("rules: [{name: a, action: drop}]", name: "r.yaml").ruleSet
        let counting = try RuleFile.parse("rules: [{name: a, match: {connection: \"3\"}, action: drop}]", name: "r.yaml").ruleSet
        #expect(Engine.footprint(for: counting).flowTable > Engine.footprint(for: plain).flowTable)
        let small = try RuleFile.parse("flows: {max_tracked: 500, max_listed: 0}\nrules: [{name: a, action: drop}]", name: "r.yaml").ruleSet
        #expect(Engine.footprint(for: small).listed == 0)
        #expect(Engine.footprint(for: small).flowTable == 500 * FlowSlots.bytesPerSlot(ruleSlotsPerFlow: 0) + 1024 * 4)
    }
}
