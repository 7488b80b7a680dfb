import Foundation
import Yams

/// The rule set of a running netfault, and the changes the control API asks of it (`PUT`,
/// `POST`, `DELETE` and `PATCH /v1/rules`, `POST /v1/reset`). Pure: each change returns the rule
/// set it would make, or why it is refused, and changes nothing; the caller puts the new set in
/// force (engine and diversion) and only then `commit`s it, so a change that fails half-way
/// leaves the previous set in force.
public struct RuleBook: Sendable {
    /// Why a change is refused; each maps to an HTTP status.
    public enum Refusal: Error, Equatable {
        /// The body is not a valid rule file (400); every problem, as `netfault check` prints them.
        case invalid([String])
        /// The body is not what the request takes (400).
        case badRequest(String)
        /// The change contradicts the running process (409): a fixed setting, a name in use.
        case conflict(String)
        /// No rule has that name (404).
        case notFound(String)
    }

    /// The name request bodies go by in diagnostics: `request:3:5: rules[0].action: …`.
    public static let requestName = "request"
    /// Settings a running netfault keeps for its life: its queues and hooks are bound and
    /// installed, its flow table sized, its seed and duration set at start.
    static let fixedKeys = ["queue", "queues", "hooks", "flows", "max_held", "duration", "seed"]

    public private(set) var ruleSet: RuleSet

    public init(_ ruleSet: RuleSet) { self.ruleSet = ruleSet }

    /// Makes `ruleSet` the one in force, once the caller has applied it.
    public mutating func commit(_ ruleSet: RuleSet) { self.ruleSet = ruleSet }

    /// `PUT /v1/rules`: a whole rule file (YAML or JSON) in place of the rules. Keys it leaves
    /// out keep their running values; a fixed setting stated with another value is a conflict.
    public func replacing(withFile text: String) throws(Refusal) -> RuleSet {
        let file = try Self.parse(text, acceptsRuleList: false)
        for key in Self.fixedKeys where file.statedKeys.contains(key) && !Self.same(key, file.ruleSet, ruleSet) {
            throw .conflict("'\(key)' is fixed for the life of the process (\(Self.describe(key, ruleSet)) now); "
                + "restart netfault to change it, or leave '\(key)' out of the rule file")
        }
        var next = ruleSet
        next.rules = file.ruleSet.rules
        next.observe = file.ruleSet.observe
        return next
    }

    /// `POST /v1/rules`: rules added after those in force. The body is a rule file with only
    /// `rules:`, or a bare list of rules; a name already in force is a conflict.
    public func adding(_ text: String) throws(Refusal) -> RuleSet {
        let file = try Self.parse(text, acceptsRuleList: true)
        guard file.statedKeys.contains("rules") else {
            throw .badRequest("a body that adds rules holds `rules:` and its list, or is a bare list of rules")
        }
        if let other = file.statedKeys.first(where: { $0 != "rules" }) {
            throw .badRequest("a body that adds rules holds only `rules:` (it has '\(other)'); PUT /v1/rules replaces the whole rule file")
        }
        let taken = Set(ruleSet.rules.map(\.name))
        let clashes = file.ruleSet.rules.map(\.name).filter(taken.contains)
        guard clashes.isEmpty else {
            throw .conflict("\(clashes.map { "'\($0)'" }.joined(separator: ", ")) \(clashes.count == 1 ? "is" : "are") already in force; "
                + "names must be new (DELETE /v1/rules/NAME first, or PUT the whole rule file)")
        }
        var next = ruleSet
        next.rules += file.ruleSet.rules
        return next
    }

    /// `DELETE /v1/rules/NAME`.
    public func removing(_ name: String) throws(Refusal) -> RuleSet {
        let index = try position(of: name)
        var next = ruleSet
        next.rules.remove(at: index)
        return next
    }

    /// `PATCH /v1/rules/NAME` with `{"enabled": …}`.
    public func setting(_ name: String, enabled: Bool) throws(Refusal) -> RuleSet {
        let index = try position(of: name)
        var next = ruleSet
        next.rules[index].enabled = enabled
        return next
    }

    /// `POST /v1/reset`: no rules, no observed connections: faults off, nothing diverted.
    public func emptied() -> RuleSet {
        var next = ruleSet
        next.rules = []
        next.observe = []
        return next
    }

    private func position(of name: String) throws(Refusal) -> Int {
        guard let index = ruleSet.rules.firstIndex(where: { $0.name == name }) else {
            let names = ruleSet.rules.map(\.name)
            throw .notFound("no rule is named '\(RuleFileReader.excerpt(name))'; "
                + (names.isEmpty ? "no rules are in force" : "the rules are \(names.joined(separator: ", "))"))
        }
        return index
    }

    private static func parse(_ text: String, acceptsRuleList: Bool) throws(Refusal) -> RuleFile {
        do {
            return try RuleFile.parse(text, name: requestName, requiresRules: false, acceptsRuleList: acceptsRuleList)
        } catch {
            throw .invalid(error.lines)
        }
    }

    private static func same(_ key: String, _ a: RuleSet, _ b: RuleSet) -> Bool {
        switch key {
        case "queue": return a.queue == b.queue
        case "queues": return a.queues == b.queues
        case "hooks": return Set(a.hooks) == Set(b.hooks)
        case "flows": return a.flows == b.flows
        case "max_held": return a.maxHeld == b.maxHeld
        case "duration": return a.duration == b.duration
        case "seed": return a.seed == b.seed
        default: return true
        }
    }

    private static func describe(_ key: String, _ ruleSet: RuleSet) -> String {
        switch key {
        case "queue": return "\(ruleSet.queue)"
        case "queues": return "\(ruleSet.queues)"
        case "hooks": return "[\(ruleSet.hooks.map(\.rawValue).joined(separator: ", "))]"
        case "flows": return "max_tracked \(ruleSet.flows.maxTracked), max_listed \(ruleSet.flows.maxListed)"
        case "max_held": return "\(ruleSet.maxHeld)"
        case "duration": return ruleSet.duration?.ruleText ?? "none"
        case "seed": return ruleSet.seed.map { "\($0)" } ?? "chosen at start"
        default: return "set"
        }
    }
}
