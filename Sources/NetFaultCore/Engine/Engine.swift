/// The decision engine: given a packet and the time, it tracks the packet's connection and returns
/// what to do with it. It never blocks, sleeps or reads a clock, so tests drive it packet by packet.
public struct Engine {
    public struct Configuration: Sendable {
        /// The most connections tracked at once; beyond it the least recently active is forgotten.
        public var flowCapacity = 262_144
        /// How long an open TCP connection may be silent before it is forgotten. Raised automatically
        /// to twice the longest `idle:` in the rules, so an idle connection is still known when it wakes.
        public var openTCPTimeout: Duration = .seconds(3600)
        /// How long a UDP or ICMP flow may be silent before it is over (also raised for `idle:` rules).
        public var datagramTimeout: Duration = .seconds(30)
        /// How long a closed TCP connection is kept for its late packets.
        public var closedTimeout: Duration = .seconds(10)
        /// How many connections that are no longer tracked are kept for the report; beyond it only
        /// their outcomes are counted.
        public var retainedFlows = 100_000

        /// The defaults, with the rule file's `flows:` limits.
        public init(_ limits: FlowLimits = FlowLimits()) {
            flowCapacity = limits.maxTracked
            retainedFlows = limits.maxListed
        }
    }

    /// How often a rule acted, and on how many distinct connections.
    public struct RuleStatistics: Sendable, Equatable {
        public var fired = 0
        public var connections = 0

        public init(fired: Int = 0, connections: Int = 0) {
            self.fired = fired
            self.connections = connections
        }
    }

    public struct Statistics: Sendable, Equatable {
        public var packets = 0
        /// Packets with no transport header to match (non-initial fragments, other protocols); accepted.
        public var untracked = 0
        public var flowsCreated = 0
        public var flowsExpired = 0
        /// Flows forgotten because the table was full.
        public var flowsEvicted = 0
        /// The most flows tracked at once.
        public var flowsPeak = 0
    }

    /// The rules in force, those with `enabled: false` included; `replaceRules` changes them.
    public internal(set) var ruleSet: RuleSet
    public let seed: UInt64
    /// Every rule that was ever in force, by id: the rule set's rules in order at the start, then
    /// each new or changed rule as it arrives. Faults, resets and decisions name rules by this id,
    /// so the report still names a rule that was removed since.
    public internal(set) var knownRules: [Rule] = []
    /// The id of each rule of `ruleSet` (enabled or not), by name.
    var listedRuleIDs: [String: Int] = [:]
    /// How often each known rule (by id) acted, and on how many connections.
    public internal(set) var ruleStatistics: [RuleStatistics] = []
    public internal(set) var statistics = Statistics()
    /// How many times `replaceRules` changed the rule set.
    public internal(set) var ruleChanges = 0
    /// Connections no longer tracked (expired, evicted, or replaced by a new connection on the same
    /// ports), with how they ended: the latest `Configuration.retainedFlows`, oldest first.
    public var retiredFlows: [RetiredFlow] { Array(retired[retiredStart...] + retired[..<retiredStart]) }
    /// The retired connections as stored: the ring, and where its oldest is.
    var retiredRing: (flows: [RetiredFlow], start: Int) { (retired, retiredStart) }
    /// How every connection no longer tracked ended, counted over the whole run (`netfault_connections_total`).
    public private(set) var retiredOutcomes: [ConnectionOutcome: Int] = [:]
    /// Outcomes of retired connections no longer listed (beyond `retainedFlows`, the oldest), counted only.
    public private(set) var unlistedOutcomes: [ConnectionOutcome: Int] = [:]
    /// The retired connections as a ring: once full, the oldest (at `retiredStart`) makes room.
    private var retired: [RetiredFlow] = []
    private var retiredStart = 0
    let retainedFlows: Int
    let configuration: Configuration

    /// Payload bytes per segment when a copy must be cut and the receiver's MSS is unknown: fits the
    /// IPv6 minimum MTU (1280) with 40 bytes of IPv6 and 20 of TCP header.
    static let safeSegmentPayload = 1220

    /// The enabled rules in order, as compiled for the per-packet path; `CompiledRule.id` is the
    /// rule's id among `knownRules`.
    var rules: [CompiledRule] = []
    /// The enabled rules in order: their actions.
    var activeRules: [Rule] = []
    var ruleMasks = RuleMasks([])
    /// The bytes `payload:` matches look for, indexed by `CompiledRule.needle`.
    var needles: [[UInt8]] = []
    var hasICMPRules = false
    /// What `loss`, `corrupt` and `reorder` rules roll, indexed by `CompiledRule.roll`.
    var rolls: [ActionRoll] = []
    /// What `tls_sni:`, `http:` and `dns:` matches look for, indexed by `CompiledRule.application`.
    var applicationMatches: [ApplicationMatch] = []
    /// Whether some rule matches `tls_sni:`: only then are ClientHellos split over segments gathered.
    var hasTLSRules = false
    /// The first bytes of ClientHellos still incomplete, by flow slot (cleared when the flow goes).
    var pendingHellos: [Int32: PendingHello] = [:]
    /// The ClientHello the packet being decided completed, if any: read once per packet.
    var helloOnPacket: CompletedHello?
    var slotCount = 0
    var table: FlowTable
    var random: SeededGenerator
    /// The correlated draws of each `delay` rule with a correlation or a distribution, by rule id.
    var delayDraws: [Int: CorrelatedDraw] = [:]
    /// The correlated `probability` rolls of each rule with a `correlation`, by rule id.
    var probabilityDraws: [Int: CorrelatedDraw] = [:]
    /// Where each `loss` rule's model stands, by rule id.
    var lossStates: [Int: LossModel.State] = [:]
    /// The token buckets of `rate` rules, by rule and, as the rule shares them, connection and side.
    var rateBuckets: [RateBucketKey: RateBucket] = [:]
    /// `rate` decisions since the idle buckets were last swept.
    var rateDecisionsSinceSweep = 0
    /// Packets `reorder` took out of their streams, oldest first.
    var reorderPending: [PendingReorder] = []
    /// Per rule with a state slot: connections counted so far, and how many of them are open now.
    var connectionsCounted: [Int32] = []
    var connectionsOpen: [Int32] = []

    /// The engine for `ruleSet`; `configuration` defaults to the rule set's `flows:` limits.
    public init(ruleSet: RuleSet, seed: UInt64, configuration: Configuration? = nil) {
        let configuration = configuration ?? Configuration(ruleSet.flows)
        self.configuration = configuration
        self.ruleSet = ruleSet
        self.seed = seed
        random = SeededGenerator(seed: seed)
        retainedFlows = max(0, configuration.retainedFlows)
        // Room for the list up front, as the flow table has (address space only until used): a
        // long run's retired connections never hold an old and a new ring at once.
        retired.reserveCapacity(min(retainedFlows, FlowTable.reservedUpFront))
        let compiled = Self.compile(ruleSet, ids: ruleSet.rules.indices.filter { ruleSet.rules[$0].enabled })
        table = FlowTable(capacity: max(1, configuration.flowCapacity), timeouts: Self.timeouts(for: ruleSet, configuration),
                          ruleSlotsPerFlow: compiled.slotCount)
        knownRules = ruleSet.rules
        // A rule file's names are unique; a rule set built in code may repeat one (the first counts).
        listedRuleIDs = Dictionary(ruleSet.rules.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
        ruleStatistics = Array(repeating: RuleStatistics(), count: knownRules.count)
        install(compiled)
        connectionsCounted = Array(repeating: 0, count: slotCount)
        connectionsOpen = Array(repeating: 0, count: slotCount)
    }

    /// The connections tracked now.
    public var flows: some Sequence<Flow> { table.all }

    public var trackedFlowCount: Int { table.count }

    /// Decides one packet's fate and accounts for it in its connection.
    public mutating func process(_ packet: Packet, at now: Instant) -> Decision {
        statistics.packets += 1
        expire(at: now)
        guard let transport = packet.transport else {
            statistics.untracked += 1
            return .accept
        }
        // An ICMP error about a connection netfault tracks tells how it failed. Without rules about
        // ICMP, errors are diverted for that alone and form no flow of their own.
        if packet.isICMPError {
            if let quoted = packet.quotedHeader { noteUnreachable(packet, quoting: quoted) }
            if !hasICMPRules {
                statistics.untracked += 1
                return .accept
            }
        }
        let key = FlowKey(packet, transport: transport)
        var slot = table.slot(for: key)
        // Only a SYN can start a connection over a known one: other packets never read the flow here.
        if let existing = slot, packet.isOpeningSYN, startsNewConnection(packet, replacing: table[existing]) {
            retire(existing, idle: false)
            slot = nil
        }
        let flowSlot = slot ?? openFlow(packet, key: key, transport: transport, at: now)
        let side = table.side(of: packet, in: flowSlot)
        // After netfault's `close`, netfault answers for the proxy that closed, and the peers'
        // acknowledgments are of its FINs, not of each other's data.
        let closedByNetfault = table[flowSlot].injectedReset.flatMap { $0.fin ? $0 : nil }
        var decision = decide(packet, flowSlot: flowSlot, side: side, closedByNetfault: closedByNetfault, at: now)
        table[flowSlot].record(packet, from: side, at: now, delivered: decision.verdict.delivers,
                               held: decision.verdict.isHeld, acknowledges: closedByNetfault == nil)
        if !reorderPending.isEmpty { releaseReordered(after: key, at: now, into: &decision) }
        noteIfClosed(flowSlot)
        table.touch(flowSlot, at: now)
        return decision
    }

    /// Records an ICMP destination-unreachable that answers a tracked connection's client.
    private mutating func noteUnreachable(_ packet: Packet, quoting quoted: QuotedHeader) {
        guard let slot = table.slot(for: FlowKey(transport: quoted.transport, quoted.source, quoted.destination)) else { return }
        if let reason = packet.unreachableReason, table[slot].client == quoted.source, table[slot].established == nil,
           table[slot].unreachable == nil {
            table[slot].unreachable = reason
        }
    }

    /// Forgets connections idle past their timeout. `process` calls it; the queue loop also calls it
    /// when no packets arrive.
    public mutating func expire(at now: Instant) {
        while let slot = table.expiredSlot(at: now) {
            statistics.flowsExpired += 1
            retire(slot, idle: true)
        }
    }

    // MARK: Connections

    /// A SYN on a known 5-tuple opens a new connection when the old one is over, was only seen
    /// mid-stream, or the SYN carries another initial sequence number (port reuse).
    private func startsNewConnection(_ packet: Packet, replacing flow: borrowing Flow) -> Bool {
        if flow.isClosed || !flow.sawOpening { return true }
        let sender = flow.side(of: packet)
        if sender == .server { return true }
        return flow.fromClient.synSeen && flow.fromClient.initialSequence != packet.sequenceNumber
    }

    private mutating func openFlow(_ packet: Packet, key: FlowKey, transport: Transport, at now: Instant) -> Int32 {
        let source = Endpoint(packet.source, packet.sourcePort)
        let destination = Endpoint(packet.destination, packet.destinationPort)
        let senderIsClient: Bool
        var sawOpening = true
        switch transport {
        case .tcp:
            let flags = packet.tcpFlags
            if flags.contains(.syn) {
                senderIsClient = !flags.contains(.ack)
                sawOpening = senderIsClient
            } else {
                senderIsClient = inferSenderIsClient(source, destination, transport: transport) ?? (source.port > destination.port)
                sawOpening = false
            }
        case .udp:
            senderIsClient = inferSenderIsClient(source, destination, transport: transport) ?? true
        case .icmp:
            // Echo replies (v4 0, v6 129) come from the server; requests and errors' recipients are clients.
            senderIsClient = ![0, 129].contains(packet.icmpType) && !packet.isICMPError
        }
        let (client, server) = senderIsClient ? (source, destination) : (destination, source)
        var flow = Flow(key: key, client: client, sawOpening: sawOpening, at: now)
        for (index, rule) in rules.prefix(RuleMasks.ruleCount).enumerated()
        where rule.matchesEndpoints(client: client, server: server, transport: transport) {
            flow.possibleRules |= 1 << UInt64(index)
        }
        // The connections open when this one begins include one evicted to make room for it: it
        // is forgotten, not closed. Their counts as they were before the eviction released it.
        var openBeforeEviction: [Int32]?
        if table.isFull, let oldest = table.oldestSlot() {
            if slotCount > 0 { openBeforeEviction = connectionsOpen }
            statistics.flowsEvicted += 1
            retire(oldest, idle: true)
        }
        statistics.flowsCreated += 1
        let slot = table.insert(flow)
        for (index, rule) in rules.enumerated() where rule.countsConnections {
            guard let state = rule.slot, rule.matchesEndpoints(client: client, server: server, transport: transport) else { continue }
            connectionsCounted[state] += 1
            table[slot, rule: state].ordinal = connectionsCounted[state]
            table[slot, rule: state].othersOpenAtStart = openBeforeEviction?[state] ?? connectionsOpen[state]
            connectionsOpen[state] += 1
            // Fixed from now on: a connection outside the rule's `connection`/`concurrent_over`
            // leaves the rule's bit of its mask.
            if index < RuleMasks.ruleCount, !rule.matchesConnection(table[slot, rule: state]) {
                table[slot].possibleRules &= ~(1 << UInt64(index))
            }
        }
        statistics.flowsPeak = max(statistics.flowsPeak, table.count)
        return slot
    }

    /// For a connection first seen mid-stream: the first rule whose server/client fields tell the
    /// two ends apart decides who is the client. Nil when no rule does.
    private func inferSenderIsClient(_ source: Endpoint, _ destination: Endpoint, transport: Transport) -> Bool? {
        for match in rules where match.transport == transport {
            if let ports = match.serverPort, ports.contains(source.port) != ports.contains(destination.port) {
                return ports.contains(destination.port)
            }
            if let cidr = match.server, cidr.contains(source.address) != cidr.contains(destination.address) {
                return cidr.contains(destination.address)
            }
            if let ports = match.clientPort, ports.contains(source.port) != ports.contains(destination.port) {
                return ports.contains(source.port)
            }
            if let cidr = match.client, cidr.contains(source.address) != cidr.contains(destination.address) {
                return cidr.contains(source.address)
            }
        }
        return nil
    }

    private mutating func noteIfClosed(_ slot: Int32) {
        guard table[slot].countedOpen, table[slot].transport == .tcp, table[slot].isClosed else { return }
        releaseOpenCount(slot)
    }

    /// The connection in `slot` no longer counts as open for `concurrent_over`.
    private mutating func releaseOpenCount(_ slot: Int32) {
        table[slot].countedOpen = false
        for state in 0..<slotCount where table[slot, rule: state].ordinal != 0 {
            connectionsOpen[state] -= 1
        }
    }

    /// Stops tracking the connection in `slot`, keeping it (or its outcome) for the report.
    private mutating func retire(_ slot: Int32, idle: Bool) {
        if table[slot].countedOpen { releaseOpenCount(slot) }
        // The slot will hold another connection: a hello begun here is not its.
        if !pendingHellos.isEmpty { pendingHellos[slot] = nil }
        let flow = table.remove(slot)
        let ended = RetiredFlow(flow: flow, outcome: flow.outcome(idle: idle))
        retiredOutcomes[ended.outcome, default: 0] += 1
        if retired.count < retainedFlows {
            retired.append(ended)
        } else if retainedFlows > 0 {
            unlistedOutcomes[retired[retiredStart].outcome, default: 0] += 1
            retired[retiredStart] = ended
            retiredStart = (retiredStart + 1) % retainedFlows
        } else {
            unlistedOutcomes[ended.outcome, default: 0] += 1
        }
    }
}

/// A connection the engine stopped tracking, and how it ended.
public struct RetiredFlow: Sendable {
    public let flow: Flow
    public let outcome: ConnectionOutcome
}

extension Packet {
    /// A TCP SYN without ACK: the first packet of a connection.
    var isOpeningSYN: Bool { transport == .tcp && tcpFlags.contains(.syn) && !tcpFlags.contains(.ack) }
}
