import Yams

/// A rule file's `parameters:` and the `--set NAME=VALUE` settings that replace their values.
///
/// ```yaml
/// parameters:
///   server_port: 8080       # the default
/// rules:
///   - name: crash
///     match: {server_port: "${server_port}"}
/// ```
///
/// Every scalar that is exactly `${NAME}` takes the parameter's value as a node (a number, a
/// size, a list such as `[output, input]`), with the place of the reference, so a bad value is
/// reported where it is used; `${NAME}` inside longer text takes the value's text. Substitution
/// happens on the composed tree, before the rule file is read, so every check of the rule
/// language applies to the values as to anything written in the file.
struct RuleFileParameters {
    static let key = "parameters"

    /// How many nodes (bytes of text) references may add to the document: a parameter referenced
    /// thousands of times would expand it as aliases do (which `YAMLShapeGuard` counts), past a
    /// size any rule file needs.
    static let maximumAddedNodes = YAMLShapeGuard.maximumNodes
    static let maximumAddedBytes = YAMLShapeGuard.maximumFileSize

    let file: String
    private(set) var diagnostics: DiagnosticList
    private var values: [String: Node] = [:]
    /// The declared parameters with the values in force (set or default), as text, in file order.
    private(set) var inForce: [RuleFile.Setting] = []
    /// Nodes and bytes added by references so far, and each value's node count.
    private var addedNodes = 0
    private var addedBytes = 0
    private var nodeCounts: [String: Int] = [:]
    /// The references would expand the document past `maximumAddedNodes` or `maximumAddedBytes`:
    /// it is refused (reported once, where the limit was crossed).
    private(set) var isOverExpanded = false

    init(file: String) {
        self.file = file
        diagnostics = DiagnosticList(file: file)
    }

    /// `root` with every `${NAME}` replaced: `settings` first, then the file's defaults. A setting
    /// of a parameter the file does not declare, a reference to an undeclared one and a setting
    /// that is not YAML are diagnosed.
    mutating func substitute(_ root: Node, settings: [(name: String, value: String)]) -> Node {
        let declared = declarations(in: root)
        for declaration in declared { values[declaration.name] = declaration.value }
        for setting in settings {
            guard let declaration = declared.first(where: { $0.name == setting.name }) else {
                reportUnknownSetting(setting.name, declared: declared.map(\.name), root: root)
                continue
            }
            guard let value = Self.compose(setting.value) else {
                report(declaration.value, "\(Self.key).\(setting.name)", "--set \(setting.name)=\(setting.value): the value is not a YAML value")
                continue
            }
            values[setting.name] = value
        }
        inForce = declared.map { declaration in (declaration.name, Self.text(of: values[declaration.name] ?? declaration.value)) }
        guard case .mapping(let mapping) = root else { return root }
        let pairs = mapping.map { key, value -> (Node, Node) in
            key.string == Self.key ? (key, value) : (key, substituted(value))
        }
        return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
    }

    /// The declared parameters, in file order.
    private mutating func declarations(in root: Node) -> [(name: String, value: Node)] {
        guard case .mapping(let mapping) = root, let section = mapping.first(where: { $0.key.string == Self.key })?.value else {
            return []
        }
        guard case .mapping(let entries) = section else {
            report(section, Self.key, "expected parameters (a mapping of names to default values), found \(RuleFileReader.describe(section))")
            return []
        }
        var declared: [(name: String, value: Node)] = []
        for (keyNode, value) in entries {
            let name = keyNode.string ?? ""
            guard Self.isName(name) else {
                report(keyNode, Self.key, "'\(name)' is not a parameter name: lower-case letters, digits and _, starting with a letter")
                continue
            }
            declared.append((name, value))
        }
        return declared
    }

    private mutating func reportUnknownSetting(_ name: String, declared: [String], root: Node) {
        let place: Node = {
            guard case .mapping(let mapping) = root else { return root }
            return mapping.first { $0.key.string == Self.key }?.key ?? root
        }()
        guard !declared.isEmpty else {
            report(place, "", "--set \(name): this rule file declares no parameters")
            return
        }
        let hint = RuleFileReader.closest(to: name, among: declared).map { "; did you mean '\($0)'?" } ?? ""
        report(place, Self.key, "--set \(name): no such parameter\(hint) (settable: \(declared.joined(separator: ", ")))")
    }

    private mutating func substituted(_ node: Node) -> Node {
        if isOverExpanded { return node }
        switch node {
        case .scalar(let scalar):
            return substituted(scalar, node: node)
        case .mapping(let mapping):
            let pairs = mapping.map { key, value in (key, substituted(value)) }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map { substituted($0) }, sequence.tag, sequence.style, sequence.mark))
        case .alias:
            return node
        }
    }

    private mutating func substituted(_ scalar: Node.Scalar, node: Node) -> Node {
        let text = scalar.string
        guard text.contains("${") else { return node }
        if text.hasPrefix("${"), text.hasSuffix("}"), text.dropFirst(2).dropLast().allSatisfy(Self.isNameCharacter) {
            let name = String(text.dropFirst(2).dropLast())
            guard let value = values[name] else {
                reportUndeclared(name, at: node)
                return node
            }
            let count = nodeCounts[name] ?? Self.nodeCount(of: value)
            nodeCounts[name] = count
            addedNodes += count - 1
            guard addedNodes <= Self.maximumAddedNodes else {
                refuseExpansion(at: node, "\(Self.maximumAddedNodes) nodes")
                return node
            }
            return Self.relocated(value, to: scalar.mark)
        }
        // References inside longer text take the value's text.
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                result += rest[open.lowerBound...]
                rest = ""
                break
            }
            let name = String(rest[open.upperBound..<close])
            if let value = values[name], case .scalar(let replacement) = value {
                addedBytes += replacement.string.utf8.count
                guard addedBytes <= Self.maximumAddedBytes else {
                    refuseExpansion(at: node, "1 MiB of text")
                    return node
                }
                result += replacement.string
            } else if values[name] != nil {
                report(node, "", "${\(name)} stands inside text, where a list or mapping cannot go")
            } else {
                reportUndeclared(name, at: node)
            }
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return .scalar(Node.Scalar(result, scalar.tag, scalar.style, scalar.mark))
    }

    private mutating func reportUndeclared(_ name: String, at node: Node) {
        let values = values
        report(node, "", Self.undeclared(name, declared: values.keys.sorted()))
    }

    private static func undeclared(_ name: String, declared: [String]) -> String {
        let hint = RuleFileReader.closest(to: name, among: declared).map { "; did you mean '\($0)'?" } ?? ""
        return "${\(name)}: no such parameter\(hint) (declare it under `parameters:`\(declared.isEmpty ? "" : "; declared: \(declared.joined(separator: ", "))"))"
    }

    private mutating func refuseExpansion(at node: Node, _ limit: String) {
        isOverExpanded = true
        report(node, "", "the references to parameters expand the document by over \(limit) here; refusing it")
    }

    /// The path and message are made only if the error is listed.
    private mutating func report(_ node: Node, _ path: @autoclosure () -> String, _ message: @autoclosure () -> String) {
        diagnostics.report(.error, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, path: path(), message: message())
    }

    /// The nodes of a value: 1 for a scalar.
    private static func nodeCount(of node: Node) -> Int {
        switch node {
        case .scalar, .alias: return 1
        case .mapping(let mapping): return mapping.reduce(1) { $0 + nodeCount(of: $1.key) + nodeCount(of: $1.value) }
        case .sequence(let sequence): return sequence.reduce(1) { $0 + nodeCount(of: $1) }
        }
    }

    /// A `--set` value as YAML: `5432`, `1MiB`, `[output, input]`; the empty text is an empty string.
    private static func compose(_ text: String) -> Node? {
        guard !text.isEmpty else { return .scalar(Node.Scalar("", .implicit, .singleQuoted)) }
        guard text.utf8.count <= 4096, let node = try? Yams.compose(yaml: text) else { return nil }
        return node
    }

    /// `node` with every mark moved to `mark`: a value is reported where it is used.
    private static func relocated(_ node: Node, to mark: Mark?) -> Node {
        switch node {
        case .scalar(let scalar):
            return .scalar(Node.Scalar(scalar.string, scalar.tag, scalar.style, mark))
        case .mapping(let mapping):
            return .mapping(Node.Mapping(mapping.map { (relocated($0.key, to: mark), relocated($0.value, to: mark)) },
                                         mapping.tag, mapping.style, mark))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map { relocated($0, to: mark) }, sequence.tag, sequence.style, mark))
        case .alias:
            return node
        }
    }

    /// A value as one line of YAML flow text: `8080`, `[output, input]`.
    static func text(of node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .sequence(let sequence): return "[" + sequence.map { text(of: $0) }.joined(separator: ", ") + "]"
        case .mapping(let mapping): return "{" + mapping.map { "\(text(of: $0.key)): \(text(of: $0.value))" }.joined(separator: ", ") + "}"
        case .alias: return "*alias"
        }
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase else { return false }
        return text.count <= 64 && text.allSatisfy(isNameCharacter)
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLowercase || character.isNumber || character == "_")
    }
}
