/// How the engine prepares its rules, and how it changes them while traffic flows (`replaceRules`,
/// the control API's PUT, POST, DELETE and PATCH). A change happens between two packets: each is
/// judged by the old rules or the new ones, never a mix.
extension Engine {
    /// The enabled rules of a rule set, ready for the per-packet path.
    struct CompiledRules {
        var rules: [CompiledRule] = []
        var active: [Rule] = []
        var needles: [[UInt8]] = []
        var slotCount = 0
    }

    /// Compiles `ruleSet`'s enabled rules; `ids[n]` is the id (among `knownRules`) of the nth.
    static func compile(_ ruleSet: RuleSet, ids: [Int]) -> CompiledRules {
        var compiled = CompiledRules()
        for (rule, id) in zip(ruleSet.enabledRules, ids) {
            let needsSlot = rule.match.countsConnections || rule.match.nth != nil
            let needle = rule.match.payload.map { compiled.needles.append($0); return compiled.needles.count - 1 }
            compiled.rules.append(CompiledRule(rule, id: id, needle: needle, slot: needsSlot ? compiled.slotCount : nil))
            compiled.active.append(rule)
            if needsSlot { compiled.slotCount += 1 }
        }
        return compiled
    }

    /// The flow table's timeouts for `ruleSet`: long enough that a connection an `idle:` rule
    /// waits for is still known when it wakes.
    static func timeouts(for ruleSet: RuleSet, _ configuration: Configuration) -> FlowTable.Timeouts {
        let longestIdle = ruleSet.enabledRules.compactMap(\.match.idle).max() ?? .zero
        var timeouts = FlowTable.Timeouts()
        timeouts.openTCP = max(configuration.openTCPTimeout, longestIdle * 2)
        timeouts.datagram = max(configuration.datagramTimeout, longestIdle * 2)
        timeouts.closed = configuration.closedTimeout
        return timeouts
    }

    /// Makes `compiled` the rules the per-packet path walks.
    mutating func install(_ compiled: CompiledRules) {
        rules = compiled.rules
        activeRules = compiled.active
        ruleMasks = RuleMasks(compiled.rules)
        needles = compiled.needles
        hasICMPRules = compiled.rules.contains { $0.transport == .icmp }
        slotCount = compiled.slotCount
    }

    /// Puts `newSet`'s rules in force from the next packet on, for the connections already open
    /// too. A rule whose name and definition did not change keeps its id, its counters, its
    /// per-connection state (`connection:`, `concurrent_over`, `nth`) and its `sticky` latches; a
    /// rule that comes back unchanged after it was removed or disabled keeps its counters. A new
    /// or changed rule counts from now on: connections already open are none of its
    /// `connection:` ordinals. The queue, the hooks and the flow limits are the caller's to keep.
    public mutating func replaceRules(with newSet: RuleSet) {
        let enabled = newSet.enabledRules
        let oldRules = rules
        let oldIndexByID: [Int: Int] = Dictionary(uniqueKeysWithValues: oldRules.enumerated().map { ($0.element.id, $0.offset) })
        let ids = enabled.map { rule in
            if let id = knownRules.lastIndex(where: { $0.hasSameDefinition(as: rule) }) { return id }
            knownRules.append(rule)
            ruleStatistics.append(RuleStatistics())
            return knownRules.count - 1
        }
        let compiled = Self.compile(newSet, ids: ids)
        // Where each new state slot's values come from: the same rule's slot before, if it had one.
        let sources: [Int?] = compiled.rules.filter { $0.slot != nil }.map { rule in
            oldIndexByID[rule.id].flatMap { oldRules[$0].slot }
        }
        connectionsCounted = sources.map { $0.map { connectionsCounted[$0] } ?? 0 }
        connectionsOpen = sources.map { $0.map { connectionsOpen[$0] } ?? 0 }
        table.relayoutRuleStates(count: compiled.slotCount, from: sources)
        table.setTimeouts(Self.timeouts(for: newSet, configuration))
        install(compiled)
        let newIndexByID: [Int: Int] = Dictionary(uniqueKeysWithValues: compiled.rules.enumerated().map { ($0.element.id, $0.offset) })
        for slot in table.liveSlots {
            let (client, server, transport) = (table[slot].client, table[slot].server, table[slot].transport)
            var possible: UInt64 = 0
            for (index, rule) in rules.prefix(RuleMasks.ruleCount).enumerated()
            where rule.matchesEndpoints(client: client, server: server, transport: transport)
                && (!rule.countsConnections || rule.slot.map { rule.matchesConnection(table[slot, rule: $0]) } == true) {
                possible |= 1 << UInt64(index)
            }
            table[slot].possibleRules = possible
            if let latched = table[slot].latchedRule {
                table[slot].latchedRule = newIndexByID[oldRules[Int(latched)].id].map(Int32.init)
            }
        }
        ruleSet = newSet
        ruleChanges += 1
    }

    /// The ids (among `knownRules`) of the enabled rules, in order.
    public var enabledRuleIDs: [Int] { rules.map(\.id) }
}
