extension Engine {
    /// Finds the first rule whose match holds and turns its action into a decision.
    /// `closedByNetfault`: the `close` that ended the connection, if one did.
    mutating func decide(_ packet: Packet, flowSlot: Int32, side: Side, closedByNetfault: InjectedReset?, at now: Instant) -> Decision {
        // A connection a `close` ended: netfault answers for the proxy that closed, whatever the rules.
        if let ended = closedByNetfault {
            var decision = Action.Close.answer(packet, from: side, closed: ended, flowSlot: flowSlot, engine: &self)
            decision.rule = ended.rule
            return decision
        }
        // A `sticky` rule that acted on this connection acts on all its later packets.
        if let latched = table[flowSlot].latchedRule {
            return fire(Int(latched), packet, flowSlot: flowSlot, side: side, at: now)
        }
        // The first 64 rules: only those the masks leave, in order.
        var candidates = table[flowSlot].possibleRules & ruleMasks.candidates(from: side, flags: packet.tcpFlags)
        let rulesPastMasks = rules.count > RuleMasks.ruleCount
        guard candidates != 0 || rulesPastMasks else { return .accept }
        helloOnPacket = hasTLSRules ? readHello(packet, flowSlot: flowSlot, side: side) : nil
        let facts = FlowFacts(table[flowSlot])
        let rules = self.rules
        while candidates != 0 {
            let index = candidates.trailingZeroBitCount
            candidates &= candidates &- 1
            if matches(rules[index], packet, facts, prechecked: true, flowSlot: flowSlot, side: side, at: now) {
                return fireFirst(index, packet, flowSlot: flowSlot, side: side, at: now)
            }
        }
        guard rulesPastMasks else { return .accept }
        for index in rules.indices.dropFirst(RuleMasks.ruleCount)
        where matches(rules[index], packet, facts, prechecked: false, flowSlot: flowSlot, side: side, at: now) {
            return fireFirst(index, packet, flowSlot: flowSlot, side: side, at: now)
        }
        return .accept
    }

    /// The first rule that matched acts, and latches onto the connection if `sticky`.
    private mutating func fireFirst(_ index: Int, _ packet: Packet, flowSlot: Int32, side: Side, at now: Instant) -> Decision {
        if rules[index].sticky { table[flowSlot].latchedRule = Int32(index) }
        return fire(index, packet, flowSlot: flowSlot, side: side, at: now)
    }

    /// Rule `index` acts on the packet: counted, recorded on the connection, carried out.
    private mutating func fire(_ index: Int, _ packet: Packet, flowSlot: Int32, side: Side, at now: Instant) -> Decision {
        let id = rules[index].id
        let isNewConnection = table[flowSlot].noteFault(rule: id, at: now)
        ruleStatistics[id].fired += 1
        if isNewConnection { ruleStatistics[id].connections += 1 }
        var decision = activeRules[index].action.decide(packet, ActionContext(rule: id, stateSlot: rules[index].slot, flowSlot: flowSlot, side: side, now: now),
                                                        engine: &self)
        decision.rule = id
        return decision
    }

    /// Every field of the match, cheapest first; `nth` counts packets that satisfied the rest, and the
    /// probability (then the action's roll: a loss model, a corruption's chance) is rolled last, so a packet that loses the roll goes
    /// on to the next rule.
    /// `prechecked`: the masks already checked the side, the flags and the connection's fields.
    private mutating func matches(_ rule: CompiledRule, _ packet: Packet, _ flow: FlowFacts, prechecked: Bool,
                                  flowSlot: Int32, side: Side, at now: Instant) -> Bool {
        if !prechecked {
            if let from = rule.from, from != side { return false }
            if let flags = rule.flags, packet.tcpFlags.intersection(.matchable) != flags { return false }
            guard rule.matchesEndpoints(client: flow.client, server: flow.server, transport: flow.transport),
                  !rule.countsConnections || rule.slot.map({ rule.matchesConnection(table[flowSlot, rule: $0]) }) == true
            else { return false }
        }
        if !rule.ecnFlags.isEmpty, !packet.tcpFlags.isSuperset(of: rule.ecnFlags) { return false }
        if let size = rule.size, !size.contains(packet.length) { return false }
        if !rule.options.isEmpty, !packet.tcpOptionKinds.isSuperset(of: rule.options) { return false }
        if let bytes = rule.afterBytes, flow.payloadBytes < bytes { return false }
        if let after = rule.afterNanoseconds, now.since(flow.firstSeen) < after { return false }
        if let idle = rule.idleNanoseconds, now.since(flow.lastSeen) < idle { return false }
        if let needle = rule.needle, !packet.payload.contains(needles[needle]) { return false }
        if let application = rule.application, !matchesApplication(applicationMatches[application], packet, side: side) { return false }
        if let nth = rule.nth, let slot = rule.slot {
            table[flowSlot, rule: slot].matchingPackets += 1
            if table[flowSlot, rule: slot].matchingPackets != nth { return false }
        }
        if let probability = rule.probability {
            let roll = rule.correlation == 0 ? random.unitInterval()
                : probabilityDraws[rule.id, default: CorrelatedDraw()].next(correlation: rule.correlation, random: &random).uniform
            if roll >= probability { return false }
        }
        if let roll = rule.roll {
            switch rolls[roll] {
            case .model(let model): if !model.lost(&lossStates[rule.id, default: LossModel.State()], random: &random) { return false }
            case .chance(let chance): if random.unitInterval() >= chance { return false }
            }
        }
        return true
    }

    /// What netfault's own RSTs did, for the report: the rule that sent the first, and each side
    /// they reached (its socket's error follows its state now).
    mutating func noteInjectedReset(by context: ActionContext, toward target: ResetTarget) {
        if table[context.flowSlot].injectedReset == nil {
            table[context.flowSlot].injectedReset = InjectedReset(rule: context.rule, toward: target, at: context.now)
        }
        for reached in [Side.client, .server] where target.includes(reached) { table[context.flowSlot].noteReset(reaching: reached) }
    }

    /// Counts a `rate` decision, and every 65 536 sweeps away the buckets idle for a minute (a new
    /// one starts full): a bucket per connection does not outlive its traffic by much.
    mutating func noteRateDecision(at now: Int64) {
        rateDecisionsSinceSweep += 1
        guard rateDecisionsSinceSweep >= 65_536 else { return }
        rateDecisionsSinceSweep = 0
        rateBuckets = rateBuckets.filter { now - $0.value.lastDeparture < 60_000_000_000 }
    }

    /// netfault closed the connection with FINs (`close`) toward `target`: the report's
    /// `closed_by`, and how netfault answers the connection's later packets.
    mutating func noteInjectedClose(by context: ActionContext, toward target: ResetTarget) {
        guard table[context.flowSlot].injectedReset == nil else { return }
        table[context.flowSlot].injectedReset = InjectedReset(rule: context.rule, toward: target, fin: true, at: context.now)
    }

    /// netfault answered the sender with an ICMP destination unreachable: the client's connect
    /// fails with it.
    mutating func noteUnreachable(_ reason: UnreachableReason, by context: ActionContext) {
        if context.side == .client, table[context.flowSlot].unreachable == nil { table[context.flowSlot].unreachable = reason }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether `needle` occurs in these bytes.
    func contains(_ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= count else { return needle.isEmpty }
        let lastStart = count - needle.count
        var index = 0
        while index <= lastStart {
            if self[index] == first {
                var matched = 1
                while matched < needle.count, self[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return true }
            }
            index += 1
        }
        return false
    }
}

/// What the rules read of a connection, read from the flow table once per packet rather than once
/// per field of every rule. None of it changes while the rules are walked.
struct FlowFacts {
    let transport: Transport
    let client: Endpoint
    let server: Endpoint
    let payloadBytes: UInt64
    let firstSeen: Instant
    let lastSeen: Instant

    init(_ flow: borrowing Flow) {
        transport = flow.transport
        client = flow.client
        server = flow.server
        payloadBytes = flow.payloadBytes
        firstSeen = flow.firstSeen
        lastSeen = flow.lastSeen
    }
}
