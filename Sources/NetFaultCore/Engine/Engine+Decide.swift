extension Engine {
    /// Finds the first rule whose match holds and turns its action into a decision.
    mutating func decide(_ packet: Packet, flowSlot: Int32, side: Side, at now: Instant) -> Decision {
        // A `sticky` rule that acted on this connection acts on all its later packets.
        if let latched = table[flowSlot].latchedRule {
            return fire(Int(latched), packet, flowSlot: flowSlot, side: side, at: now)
        }
        // The first 64 rules: only those the masks leave, in order.
        var candidates = table[flowSlot].possibleRules & ruleMasks.candidates(from: side, flags: packet.tcpFlags)
        let rulesPastMasks = rules.count > RuleMasks.ruleCount
        guard candidates != 0 || rulesPastMasks else { return .accept }
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
        let isNewConnection = table[flowSlot].noteFault(rule: index, at: now)
        ruleStatistics[index].fired += 1
        if isNewConnection { ruleStatistics[index].connections += 1 }
        var decision = act(ruleSet.rules[index].action, rule: index, packet, flowSlot: flowSlot, side: side, at: now)
        decision.rule = index
        return decision
    }

    /// Every field of the match, cheapest first; `nth` counts packets that satisfied the rest, and the
    /// probability is rolled last, so a packet that loses the roll goes on to the next rule.
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
        if let bytes = rule.afterBytes, flow.payloadBytes < bytes { return false }
        if let after = rule.afterNanoseconds, now.since(flow.firstSeen) < after { return false }
        if let idle = rule.idleNanoseconds, now.since(flow.lastSeen) < idle { return false }
        if let needle = rule.needle, !packet.payload.contains(needles[needle]) { return false }
        if let nth = rule.nth, let slot = rule.slot {
            table[flowSlot, rule: slot].matchingPackets += 1
            if table[flowSlot, rule: slot].matchingPackets != nth { return false }
        }
        if let probability = rule.probability, random.unitInterval() >= probability { return false }
        return true
    }

    private mutating func act(_ action: Action, rule: Int, _ packet: Packet, flowSlot: Int32, side: Side, at now: Instant) -> Decision {
        switch action {
        case .pass:
            return .accept
        case .drop:
            return Decision(.drop)
        case .hold(let duration?):
            return Decision(.acceptAfter(now + duration))
        case .hold(nil):
            return Decision(.holdUntilEnd)
        case .delay(let delay, let jitter):
            let spread = jitter.nanoseconds
            let offset = spread == 0 ? 0 : Int64((random.unitInterval() * 2 - 1) * Double(spread))
            return Decision(.acceptAfter(Instant(nanoseconds: (now + delay).nanoseconds + offset)))
        case .reset(let target):
            var injections: [Injection] = []
            if target.includes(side) { injections.append(Injection(bytes: ResetBuilder.towardSender(of: packet), toward: side)) }
            if target.includes(side.other) {
                injections.append(Injection(bytes: ResetBuilder.towardReceiver(of: packet), toward: side.other))
            }
            if table[flowSlot].injectedReset == nil {
                table[flowSlot].injectedReset = InjectedReset(rule: rule, toward: target, at: now)
            }
            for reached in [Side.client, .server] where target.includes(reached) { table[flowSlot].noteReset(reaching: reached) }
            return Decision(.drop, injections: injections)
        case .reject(let kind):
            let answer: [UInt8]
            switch kind {
            case .tcpReset:
                answer = ResetBuilder.towardSender(of: packet)
                if table[flowSlot].injectedReset == nil {
                    table[flowSlot].injectedReset = InjectedReset(rule: rule, toward: ResetTarget(rawValue: side.rawValue)!, at: now)
                }
                table[flowSlot].noteReset(reaching: side)
            case .icmpPortUnreachable, .icmpHostUnreachable, .icmpAdminProhibited:
                let reason = kind.unreachableReason!
                answer = PacketBuilder.icmpUnreachable(reason, quoting: packet, from: packet.destination)
                if side == .client, table[flowSlot].unreachable == nil { table[flowSlot].unreachable = reason }
            }
            return Decision(.drop, injections: [Injection(bytes: answer, toward: side)])
        case .rewrite(let rewrite):
            // Only a whole packet can be rebuilt. The queue copies whole packets whenever a rule
            // rewrites or duplicates (`RuleSet.needsWholePackets`); this only keeps a cut one intact.
            guard !packet.isCaptureTruncated else { return .accept }
            return Decision(.replace(packet.rewritten(with: rewrite)))
        case .duplicate(let copies):
            guard !packet.isCaptureTruncated else { return .accept }
            // A copy leaves through a raw socket, which completes no checksum and sends nothing over
            // the MTU: a GSO super-packet is cut into segments the receiver accepts (its MSS, or a
            // size any path carries), and every copy gets its checksums complete (the original may
            // carry only the pseudo-header sum of an offloaded checksum).
            let announced = Int(table[flowSlot].stats(side.other).maximumSegmentSize)
            let largest = max(1, (announced > 0 ? announced : Self.safeSegmentPayload) - packet.tcpOptionsLength)
            let pieces = packet.segmented(maxPayload: largest)
            var injections: [Injection] = []
            for _ in 0..<copies { injections += pieces.map { Injection(bytes: $0, toward: side.other) } }
            return Decision(.accept, injections: injections)
        }
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
