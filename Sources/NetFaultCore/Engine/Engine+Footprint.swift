/// The address space an engine takes for its flows, known before it is made: a run under an
/// address-space limit (`ulimit -v`) is checked against it before anything is installed.
extension Engine {
    /// The most address space an engine's flows take, by what takes it.
    public struct Footprint: Sendable, Equatable {
        /// The flow table at `flows.max_tracked` flows, with each flow's rule state and the index.
        public var flowTable: Int
        /// The connections no longer tracked kept for the report, `flows.max_listed` of them.
        public var listed: Int
        /// The heap the flows' own arrays (the faults each records) take, about 64 bytes each.
        public var flowArrays: Int

        public var total: Int { flowTable + listed + flowArrays }
    }

    /// The most address space an engine for `ruleSet` (with `configuration`, by default its
    /// `flows:` limits) takes for its flows, as it starts and as it grows to its limits. Rules
    /// added later with state per connection (`connection`, `concurrent_over`, `nth`) take more.
    public static func footprint(for ruleSet: RuleSet, configuration: Configuration? = nil) -> Footprint {
        let configuration = configuration ?? Configuration(ruleSet.flows)
        let capacity = max(1, configuration.flowCapacity)
        let listed = max(0, configuration.retainedFlows)
        let ruleSlots = compile(ruleSet, ids: Array(ruleSet.enabledRules.indices)).slotCount
        let retired = FlowTable.largestWhileDoubling(from: min(listed, FlowTable.reservedUpFront), to: listed)
        return Footprint(flowTable: FlowTable.largestFootprint(capacity: capacity, ruleSlotsPerFlow: ruleSlots),
                         listed: listed == 0 ? 0 : retired * MemoryLayout<RetiredFlow>.stride,
                         flowArrays: (capacity + listed) * 64)
    }
}
