import Foundation
import Yams

/// A rule file read from disk or text and validated completely: either a usable `RuleSet` (maybe
/// with warnings) or a `RuleFileError` listing every problem with file:line:column and field path.
public struct RuleFile: Sendable {
    /// The name used in diagnostics (the path as the user gave it).
    public let name: String
    public let ruleSet: RuleSet
    /// The first warnings (`DiagnosticList.listed`), in file order.
    public let warnings: [RuleFileDiagnostic]
    /// Warnings found past those in `warnings`.
    public var unlistedWarnings = 0
    /// The file's `parameters` with the values in force (`--set`, else the default), in file order.
    public var parameters: [Setting] = []
    /// The top-level keys the file gave, in its order: a key it left out keeps the running value
    /// when the file replaces a running rule set.
    public var statedKeys: [String] = []

    /// A `--set NAME=VALUE`: a value for one of the file's `parameters`.
    public typealias Setting = (name: String, value: String)

    /// Reads and validates `path`, with `settings` for its parameters. Files over 1 MiB are
    /// refused without being read whole.
    public static func load(path: String, settings: [Setting] = []) throws(RuleFileError) -> RuleFile {
        let limit = YAMLShapeGuard.maximumFileSize
        // A FIFO would block the open until someone writes to it, a device would never end.
        if let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType, type != .typeRegular {
            let what = type == .typeDirectory ? "is a directory" : "is not a regular file (a FIFO, a socket or a device)"
            throw RuleFileError(diagnostics: [.init(file: path, line: 0, column: 0, path: "", message: "the rule file \(what)")])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permission denied?)" : "does not exist"
            throw RuleFileError(diagnostics: [.init(file: path, line: 0, column: 0, path: "", message: "the rule file \(reason)")])
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw RuleFileError(diagnostics: [.init(file: path, line: 0, column: 0, path: "", message: "reading failed: \(error)")])
        }
        guard data.count <= limit else {
            throw RuleFileError(diagnostics: [.init(file: path, line: 0, column: 0, path: "",
                                                    message: "the file is over 1 MiB; a rule file is a few KB")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuleFileError(diagnostics: [.init(file: path, line: 0, column: 0, path: "", message: "the file is not UTF-8 text")])
        }
        return try parse(text, name: path, settings: settings)
    }

    /// Validates rule-file text, with `settings` for its parameters; `name` is used in diagnostics.
    ///
    /// `requiresRules`: false for a request to the control API, where an empty rule set (faults
    /// off) is valid.
    /// `acceptsRuleList`: a document that is a bare list is read as the `rules:` of a rule file
    /// (`POST /v1/rules`).
    public static func parse(_ text: String, name: String, settings: [Setting] = [], requiresRules: Bool = true,
                             acceptsRuleList: Bool = false) throws(RuleFileError) -> RuleFile {
        func fail(_ line: Int, _ column: Int, _ message: String) -> RuleFileError {
            RuleFileError(diagnostics: [.init(file: name, line: line, column: column, path: "", message: message)])
        }
        guard text.utf8.count <= YAMLShapeGuard.maximumFileSize else {
            throw fail(0, 0, "the file is over 1 MiB; a rule file is a few KB")
        }
        do {
            try YAMLShapeGuard.check(text)
        } catch {
            switch error {
            case .tooDeep(let line, let column, let depth):
                throw fail(line, column, "nesting is \(depth) levels deep here; at most \(YAMLShapeGuard.maximumDepth) are allowed")
            case .tooManyNodes(let line, let column):
                throw fail(line, column, "the document expands to over \(YAMLShapeGuard.maximumNodes) nodes (aliases followed); refusing it")
            case .complexKey(let line, let column):
                throw fail(line, column, "a mapping key must be a plain value, not a list or mapping")
            }
        }
        var root: Node
        do {
            // The basic resolver takes every plain scalar as text, which the reader reads anyway: Yams
            // checks each mapping for duplicate keys by hashing them, and the default resolver would
            // first match every key against its regular expressions (int, float, bool, timestamp…).
            guard let composed = try Yams.compose(yaml: text, .basic) else { throw fail(0, 0, "the rule file is empty") }
            root = composed
            if acceptsRuleList, case .sequence = composed { root = Node.mapping(Node.Mapping([(Node("rules"), composed)])) }
        } catch let error as RuleFileError {
            throw error
        } catch let error as YamlError {
            throw Self.diagnose(error, name: name)
        } catch {
            throw fail(0, 0, "malformed YAML: \(error)")
        }
        var parameters = RuleFileParameters(file: name)
        let substituted = parameters.substitute(root, settings: settings)
        if parameters.isOverExpanded { throw RuleFileError(parameters.diagnostics) }
        // The reader adds its problems to the parameters': in file order, and fields of one node
        // in the order they were checked.
        var reader = RuleFileReader(file: name, requiresRules: requiresRules, diagnostics: parameters.diagnostics)
        let ruleSet = reader.readRuleSet(substituted)
        guard let ruleSet, reader.diagnostics.errorCount == 0 else { throw RuleFileError(reader.diagnostics) }
        var file = RuleFile(name: name, ruleSet: ruleSet, warnings: reader.diagnostics.warnings)
        file.unlistedWarnings = reader.diagnostics.unlistedWarnings
        file.parameters = parameters.inForce
        file.statedKeys = reader.statedKeys
        return file
    }

    private static func diagnose(_ error: YamlError, name: String) -> RuleFileError {
        func at(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> RuleFileError {
            let detail = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return RuleFileError(diagnostics: [.init(file: name, line: mark.line, column: mark.column, path: "",
                                                     message: "malformed YAML: \(detail)\(problem)")])
        }
        switch error {
        case .scanner(let context, let problem, let mark, _): return at(mark, problem, context)
        case .parser(let context, let problem, let mark, _): return at(mark, problem, context)
        case .composer(let context, let problem, let mark, _): return at(mark, problem, context)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return at(context.mark, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping", nil)
        default:
            return RuleFileError(diagnostics: [.init(file: name, line: 0, column: 0, path: "", message: "malformed YAML: \(error)")])
        }
    }
}

extension RuleFile {
    /// The warnings as lines for a person, and how many more were found.
    public var warningLines: [String] { RuleFileDiagnostic.lines(warnings, unlisted: unlistedWarnings, .warning) }
}

extension RuleFileError {
    init(_ found: DiagnosticList) {
        self.init(diagnostics: found.errors + found.warnings, unlistedErrors: found.unlistedErrors,
                  unlistedWarnings: found.unlistedWarnings)
    }
}
