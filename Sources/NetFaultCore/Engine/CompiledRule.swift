/// A rule prepared for the per-packet path: durations as nanoseconds, the state slot it uses.
/// A class, immutable: walking the rules then passes one reference per rule, not a copy of every
/// field (and a retain of each string and array in it).
final class CompiledRule: Sendable {
    let rule: Rule
    let match: Match
    let afterNanoseconds: Int64?
    let idleNanoseconds: Int64?
    /// Index into each flow's `ruleSlots`, when this rule keeps per-connection state.
    let slot: Int?

    init(_ rule: Rule, slot: Int?) {
        self.rule = rule
        match = rule.match
        afterNanoseconds = rule.match.after?.nanoseconds
        idleNanoseconds = rule.match.idle?.nanoseconds
        self.slot = slot
    }

    var needsSlot: Bool { match.countsConnections || match.nth != nil }

    /// The address/port fields only: what `connection` and `concurrent_over` count connections by.
    func matchesEndpoints(client: Endpoint, server: Endpoint, transport: Transport) -> Bool {
        guard transport == match.transport else { return false }
        if let cidr = match.client, !cidr.contains(client.address) { return false }
        if let cidr = match.server, !cidr.contains(server.address) { return false }
        if let ports = match.clientPort, !ports.contains(client.port) { return false }
        if let ports = match.serverPort, !ports.contains(server.port) { return false }
        return true
    }
}
