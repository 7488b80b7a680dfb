import Foundation

/// What a rule's author expects the rule to have done by the end of a run (`expect:`), checked by
/// `netfault run` and reported by `--report junit`.
public struct Expectation: Sendable, Equatable {
    /// How often the rule must have fired; nil: at least once.
    public var fired: Count?
    /// The outcome every connection the rule acted on must have ended with.
    public var outcome: ConnectionOutcome?

    public init(fired: Count? = nil, outcome: ConnectionOutcome? = nil) {
        self.fired = fired
        self.outcome = outcome
    }

    /// A comparison with a number: `>=1`, `>0`, `<=3`, `<5`, `==2` or `2`.
    public struct Count: Sendable, Equatable, CustomStringConvertible {
        public enum Comparison: String, Sendable, CaseIterable {
            case atLeast = ">=", atMost = "<=", equal = "==", greater = ">", less = "<"
        }

        public var comparison: Comparison
        public var value: Int

        public init(_ comparison: Comparison, _ value: Int) {
            self.comparison = comparison
            self.value = value
        }

        /// Parses `>=1`, `> 0`, `3`...; nil when the text is none of these.
        public init?(parsing text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let comparison = Comparison.allCases.first { trimmed.hasPrefix($0.rawValue) }
            let number = trimmed.dropFirst(comparison?.rawValue.count ?? 0).trimmingCharacters(in: .whitespaces)
            guard let value = Int(number), value >= 0 else { return nil }
            self.init(comparison ?? .equal, value)
        }

        public func holds(for count: Int) -> Bool {
            switch comparison {
            case .atLeast: return count >= value
            case .atMost: return count <= value
            case .equal: return count == value
            case .greater: return count > value
            case .less: return count < value
            }
        }

        public var description: String { "\(comparison.rawValue)\(value)" }
    }

    /// Why the expectation did not hold for a rule that fired `fired` times with these outcomes;
    /// nil when it held.
    public func failure(fired: Int, outcomes: [ConnectionOutcome]) -> String? {
        let count = fired
        if let expected = self.fired {
            if !expected.holds(for: count) { return "fired \(count) time\(count == 1 ? "" : "s"), expected \(expected)" }
        } else if count == 0 {
            return "never fired"
        }
        if let outcome {
            if outcomes.isEmpty { return "acted on no connection, expected outcome \(outcome.rawValue)" }
            let other = outcomes.filter { $0 != outcome }
            if !other.isEmpty {
                let names = Set(other.map(\.rawValue)).sorted().joined(separator: ", ")
                return "\(other.count) of \(outcomes.count) connections ended \(names), expected \(outcome.rawValue)"
            }
        }
        return nil
    }

    /// The expectation of a rule that states none: it fires at least once.
    public static let firesAtLeastOnce = Expectation()
}

extension Expectation: CustomStringConvertible {
    public var description: String {
        var parts: [String] = []
        parts.append("fired \(fired?.description ?? ">=1")")
        if let outcome { parts.append("outcome \(outcome.rawValue)") }
        return parts.joined(separator: ", ")
    }
}
