import Foundation
import Yams

extension RuleBook {
    /// The rule set in force as a rule file (`GET /v1/rules`): the settings, the observed
    /// connections, and each rule as its file wrote it, with `enabled: false` where disabled.
    /// Reading it back gives the same rule set.
    public var ruleFileYAML: String {
        (try? Yams.serialize(node: ruleFileNode)) ?? ""
    }

    /// The same rule file as JSON.
    public var ruleFileJSON: String {
        guard let object = try? Yams.load(yaml: ruleFileYAML),
              JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private var ruleFileNode: Node {
        var pairs: [(Node, Node)] = []
        func add(_ key: String, _ value: Node) { pairs.append((Node(key), value)) }
        add("queue", Node(String(ruleSet.queue)))
        if ruleSet.queues != 1 { add("queues", Node(String(ruleSet.queues))) }
        add("hooks", Node(ruleSet.hooks.map { Node($0.rawValue) }))
        if let duration = ruleSet.duration { add("duration", Node(duration.ruleText)) }
        if let seed = ruleSet.seed { add("seed", Node(String(seed))) }
        if ruleSet.flows != FlowLimits() {
            add("flows", Node([(Node("max_tracked"), Node(String(ruleSet.flows.maxTracked))),
                               (Node("max_listed"), Node(String(ruleSet.flows.maxListed)))]))
        }
        if ruleSet.maxHeld != RuleSet().maxHeld { add("max_held", Node(String(ruleSet.maxHeld))) }
        if !ruleSet.observe.isEmpty { add("observe", Node(ruleSet.observe.map(Self.observeNode))) }
        add("rules", Node(ruleSet.rules.map(Self.ruleNode)))
        return Node(pairs)
    }

    private static func ruleNode(_ rule: Rule) -> Node {
        var node = rule.source?.node ?? Node([(Node("name"), Node(rule.name))])
        guard case .mapping(var mapping) = node else { return node }
        mapping["enabled"] = nil
        if !rule.enabled { mapping["enabled"] = Node("false") }
        node = .mapping(mapping)
        return node
    }

    /// An `observe:` filter: only address, port and protocol fields.
    private static func observeNode(_ match: Match) -> Node {
        var pairs: [(Node, Node)] = [(Node("protocol"), Node(match.transport.rawValue))]
        if let client = match.client { pairs.append((Node("client"), Node(client.description))) }
        if let server = match.server { pairs.append((Node("server"), Node(server.description))) }
        if let ports = match.clientPort { pairs.append((Node("client_port"), Node(ports.description))) }
        if let ports = match.serverPort { pairs.append((Node("server_port"), Node(ports.description))) }
        return Node(pairs)
    }
}
