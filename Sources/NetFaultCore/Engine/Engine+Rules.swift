/// How the engine prepares its rules, and how it changes them while traffic flows (`replaceRules`,
/// the control API's PUT, POST, DELETE and PATCH). A change happens between two packets: each is
/// judged by the old rules or the new ones, never a mix.
extension Engine {
    /// The enabled rules of a rule set, ready for the per-packet path.
    struct CompiledRules {
        var rules: [CompiledRule] = []
        var active: [Rule] = []
        var needles: [[UInt8]] = []
        var applications: [ApplicationMatch] = []
        var rolls: [ActionRoll] = []
        var slotCount = 0
    }

    /// Compiles `ruleSet`'s enabled rules; `ids[n]` is the id (among `knownRules`) of the nth.
    static func compile(_ ruleSet: RuleSet, ids: [Int]) -> CompiledRules {
        var compiled = CompiledRules()
        for (rule, id) in zip(ruleSet.enabledRules, ids) {
            let needsSlot = rule.match.countsConnections || rule.match.nth != nil || rule.action.keepsConnectionState
            let needle = rule.match.payload.map { compiled.needles.append($0); return compiled.needles.count - 1 }
            let application = ApplicationMatch(rule.match).map { compiled.applications.append($0); return compiled.applications.count - 1 }
            let roll = rule.action.roll.map { compiled.rolls.append($0); return compiled.rolls.count - 1 }
            compiled.rules.append(CompiledRule(rule, id: id, needle: needle, application: application, roll: roll,
                                               slot: needsSlot ? compiled.slotCount : nil))
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
        applicationMatches = compiled.applications
        rolls = compiled.rolls
        hasTLSRules = compiled.applications.contains { if case .tlsSNI = $0 { true } else { false } }
        if !hasTLSRules { pendingHellos.removeAll() }
        hasICMPRules = compiled.rules.contains { $0.transport == .icmp }
        slotCount = compiled.slotCount
    }

    /// Puts `newSet`'s rules in force from the next packet on, for the connections already open
    /// too. A rule listed before (enabled or not) whose name and definition did not change keeps
    /// its id, its counters, its per-connection state (`connection:`, `concurrent_over`, `nth`)
    /// and its `sticky` latches (a disabled rule's state starts over when it is enabled again).
    /// A new or changed rule, or one removed and added back, counts from now on: connections
    /// already open are none of its `connection:` ordinals. The queue, the hooks and the flow
    /// limits are the caller's to keep.
    public mutating func replaceRules(with newSet: RuleSet) {
        let oldRules = rules
        let oldIndexByID: [Int: Int] = Dictionary(uniqueKeysWithValues: oldRules.enumerated().map { ($0.element.id, $0.offset) })
        var listed: [String: Int] = [:]
        var ids: [Int] = []
        for rule in newSet.rules {
            var id = listedRuleIDs[rule.name] ?? -1
            if id < 0 || !knownRules[id].hasSameDefinition(as: rule) {
                knownRules.append(rule)
                ruleStatistics.append(RuleStatistics())
                id = knownRules.count - 1
            }
            listed[rule.name] = id
            if rule.enabled { ids.append(id) }
        }
        listedRuleIDs = listed
        let compiled = Self.compile(newSet, ids: ids)
        // Where each new state slot's values come from: the same rule's slot before, if it had one.
        let sources: [Int?] = compiled.rules.filter { $0.slot != nil }.map { rule in
            oldIndexByID[rule.id].flatMap { oldRules[$0].slot }
        }
        connectionsCounted = sources.map { $0.map { connectionsCounted[$0] } ?? 0 }
        connectionsOpen = sources.map { $0.map { connectionsOpen[$0] } ?? 0 }
        // The same layout (a change that left every stateful rule where it was) needs no copy.
        if sources != (0..<oldRules.count(where: { $0.slot != nil })).map(Optional.some) {
            table.relayoutRuleStates(count: compiled.slotCount, from: sources)
        }
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

    /// The id (among `knownRules`) of the rule of the rule set named `name`, enabled or not.
    public func ruleID(named name: String) -> Int? { listedRuleIDs[name] }

    /// The ids (among `knownRules`) of the enabled rules, in order.
    public var enabledRuleIDs: [Int] { rules.map(\.id) }
}
