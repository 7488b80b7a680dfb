/// A rule's match prepared for the per-packet path: plain values only (durations as nanoseconds,
/// the payload to look for as an index into the engine's `needles`), no reference anywhere in it.
/// Walking twenty of these per packet then copies and retains nothing: as a class, each rule
/// walked cost a retain and a release, about a third of a decision.
struct CompiledRule {
    /// The rule's id among the engine's `knownRules`: what faults and decisions name it by.
    let id: Int
    let transport: Transport
    let client: CIDR?
    let server: CIDR?
    let clientPort: PortRange?
    let serverPort: PortRange?
    let from: Side?
    let flags: TCPFlags?
    /// ECE and CWR among `flags`: the packet must carry them (the masks compare the six others).
    let ecnFlags: TCPFlags
    /// IP packet lengths on the wire (`size:`).
    let size: PacketSizeRange?
    /// TCP options the packet must carry (`options:`); empty: any.
    let options: TCPOptionKinds
    let afterBytes: UInt64?
    let afterNanoseconds: Int64?
    let idleNanoseconds: Int64?
    let nth: Int?
    let connection: ConnectionRange?
    let concurrentOver: Int?
    let probability: Double?
    /// How much each `probability` roll depends on the rule's last (0: independent).
    let correlation: Double
    /// Index into the engine's `rolls`: the action's roll (a loss model, a chance), rolled last; a
    /// packet it spares does not match.
    let roll: Int?
    /// Index into the engine's `needles`: the bytes the payload must contain.
    let needle: Int?
    /// Index into the engine's `applicationMatches`: the ClientHello, request or query to look for.
    let application: Int?
    /// Index into each flow's rule states (`FlowSlots.ruleStates`), when this rule keeps per-connection state.
    let slot: Int?
    let sticky: Bool
    /// Whether the rule keeps per-rule connection state (ordinals, open-connection counts).
    let countsConnections: Bool

    /// `rule` compiled; `needle` and `slot` are where the engine keeps its payload and its state.
    init(_ rule: Rule, id: Int, needle: Int?, application: Int? = nil, roll: Int? = nil, slot: Int?) {
        self.id = id
        let match = rule.match
        transport = match.transport
        client = match.client
        server = match.server
        clientPort = match.clientPort
        serverPort = match.serverPort
        from = match.from
        flags = match.flags.map { $0.intersection(.matchable) }
        ecnFlags = match.flags?.subtracting(.matchable) ?? []
        size = match.size
        options = match.options ?? []
        afterBytes = match.afterBytes
        afterNanoseconds = match.after?.nanoseconds
        idleNanoseconds = match.idle?.nanoseconds
        nth = match.nth
        connection = match.connection
        concurrentOver = match.concurrentOver
        probability = match.probability
        correlation = match.correlation ?? 0
        self.roll = roll
        self.needle = needle
        self.application = application
        self.slot = slot
        sticky = rule.sticky
        countsConnections = match.countsConnections
    }

    /// The address/port fields only: what `connection` and `concurrent_over` count connections by.
    func matchesEndpoints(client: Endpoint, server: Endpoint, transport: Transport) -> Bool {
        guard transport == self.transport else { return false }
        if let cidr = self.client, !cidr.contains(client.address) { return false }
        if let cidr = self.server, !cidr.contains(server.address) { return false }
        if let ports = clientPort, !ports.contains(client.port) { return false }
        if let ports = serverPort, !ports.contains(server.port) { return false }
        return true
    }

    /// The `connection` and `concurrent_over` fields, for a connection with this state: fixed when
    /// the connection opens. An ordinal of 0: the connection does not match the endpoint fields.
    func matchesConnection(_ state: RuleSlot) -> Bool {
        guard state.ordinal != 0 else { return false }
        if let range = connection, !range.contains(Int(state.ordinal)) { return false }
        if let over = concurrentOver, state.othersOpenAtStart < over { return false }
        return true
    }
}
