import Yams

/// Walks a composed YAML tree and turns it into a `RuleSet`, collecting every problem as a
/// diagnostic placed at the offending node. Nothing is thrown midway: a bad field is reported
/// and skipped, so one run finds all errors (and lists the first, `DiagnosticList`).
struct RuleFileReader {
    let file: String
    private(set) var diagnostics: DiagnosticList
    /// False for a request to the control API: a rule set may be empty (faults off).
    var requiresRules = true
    /// The top-level keys the document gave, in its order.
    var statedKeys: [String] = []

    /// `diagnostics`: what was found before the reading (the parameters' problems).
    init(file: String, requiresRules: Bool = true, diagnostics: DiagnosticList? = nil) {
        self.file = file
        self.requiresRules = requiresRules
        self.diagnostics = diagnostics ?? DiagnosticList(file: file)
    }

    /// A mapping entry: its key text, where the key stands, and the value.
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }

    /// The path and message are made only if the error is listed.
    mutating func error(_ node: Node, _ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        report(.error, node, path(), message())
    }

    mutating func warning(_ node: Node, _ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        report(.warning, node, path(), message())
    }

    private mutating func report(_ severity: RuleFileDiagnostic.Severity, _ node: Node,
                                 _ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        let mark = node.mark
        diagnostics.report(severity, line: mark?.line ?? 0, column: mark?.column ?? 0, path: path(), message: message())
    }

    /// At most the first 40 characters of a text the file holds, for a message that quotes it:
    /// a file that is not a rule file (netfault runs as root) shows little of itself.
    static func excerpt(_ text: String) -> String {
        let line = text.prefix { $0 != "\n" }
        return line.count > 40 || line.count < text.count ? String(line.prefix(40)) + "…" : text
    }

    /// A short description of what a node is, for "expected X, found Y" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            return "\"\(excerpt(scalar.string))\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The entries of a mapping whose keys must be among `allowed`; unknown keys are errors with a
    /// suggestion when one is close (`sever_port` → `server_port`).
    mutating func mapping(_ node: Node, _ path: String, allowed: [String], what: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error(node, path, "expected \(what) (a mapping), found \(Self.describe(node))")
            return nil
        }
        var entries: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                error(keyNode, path, "keys must be plain words, found \(Self.describe(keyNode))")
                continue
            }
            guard allowed.contains(key.string) else {
                error(keyNode, Self.join(path, Self.excerpt(key.string)), Self.unknownKey(key.string, allowed: allowed))
                continue
            }
            entries.append(Entry(key: key.string, keyNode: keyNode, value: value))
        }
        return entries
    }

    /// `unknown key 'sever_port'; did you mean 'server_port'? (allowed here: …)`
    static func unknownKey(_ key: String, allowed: [String]) -> String {
        let hint = closest(to: key, among: allowed).map { "; did you mean '\($0)'?" } ?? ""
        return "unknown key '\(excerpt(key))'\(hint) (allowed here: \(allowed.joined(separator: ", ")))"
    }

    /// The text of a scalar, or an error naming what was expected.
    mutating func scalar(_ node: Node, _ path: String, expected: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            error(node, path, "expected \(expected), found \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    mutating func integer<T: FixedWidthInteger>(_ node: Node, _ path: String, in range: ClosedRange<T>, what: String) -> T? {
        guard let text = scalar(node, path, expected: what) else { return nil }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = T(text), range.contains(value) else {
            error(node, path, "\(Self.excerpt(text)) is not \(what) (\(range.lowerBound)-\(range.upperBound))")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, _ path: String) -> Duration? {
        guard let text = scalar(node, path, expected: "a duration such as 250us, 500ms, 3s, 2m or 1h") else { return nil }
        guard let value = Units.duration(text) else {
            error(node, path, "\(Self.excerpt(text)) is not a duration: write a number and a unit, us, ms, s, m or h (250us, 500ms, 3s, 2m, 1h)")
            return nil
        }
        return value
    }

    /// `25%` or `0.25`: a share from 0 to 1.
    mutating func percentage(_ node: Node, _ path: String) -> Double? {
        guard let text = scalar(node, path, expected: "a percentage such as 25% (or 0.25)") else { return nil }
        guard let value = Units.percentage(text) else {
            error(node, path, "\(Self.excerpt(text)) is not a percentage from 0% to 100% (25%, 0.5%, or 0.25)")
            return nil
        }
        return value
    }

    mutating func size(_ node: Node, _ path: String) -> UInt64? {
        guard let text = scalar(node, path, expected: "a size such as 700KiB") else { return nil }
        guard let value = Units.size(text) else {
            error(node, path, "\(Self.excerpt(text)) is not a size: write a number and B, KB, KiB, MB, MiB, GB or GiB (700KiB)")
            return nil
        }
        return value
    }

    mutating func keyword<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as type: T.Type, what: String)
        -> T? where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        guard let text = scalar(node, path, expected: "\(what): \(names.joined(separator: ", "))") else { return nil }
        guard let value = T(rawValue: text) else {
            error(node, path, "'\(Self.excerpt(text))' is not \(what); use one of \(names.joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// The items of a list (a single scalar is not taken as a one-item list: the language says list).
    mutating func list(_ node: Node, _ path: String, what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(node, path, "expected \(what) (a list such as [a, b]), found \(Self.describe(node))")
            return nil
        }
        return Array(sequence)
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The allowed word within edit distance 2 of a misspelling, if exactly one is nearest.
    static func closest(to word: String, among candidates: [String]) -> String? {
        // Words that differ in length by more than 2 are further apart than 2: a key as long as
        // the file costs nothing to reject.
        let longest = candidates.map(\.count).max() ?? 0
        guard word.utf8.count <= 4 * (longest + 2), word.count <= longest + 2 else { return nil }
        let scored = candidates.filter { abs($0.count - word.count) <= 2 }.map { ($0, editDistance(word, $0)) }
            .filter { $0.1 <= 2 }.sorted { $0.1 < $1.1 }
        return scored.first?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
