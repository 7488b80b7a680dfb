/// One problem found in a rule file, placed by file, line, column and field path:
/// `rules.yaml:7:13: rules[0].match.server_port: 70000 is not a port (0-65535)`.
public struct RuleFileDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var file: String
    /// 1-based; 0 when the problem concerns the file as a whole.
    public var line: Int
    public var column: Int
    /// `rules[0].match.server_port`; empty for the document itself.
    public var path: String
    public var message: String

    public init(_ severity: Severity = .error, file: String, line: Int, column: Int, path: String, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        let prefix = severity == .warning ? "warning: " : ""
        return path.isEmpty ? "\(place): \(prefix)\(message)" : "\(place): \(prefix)\(path): \(message)"
    }
}

/// A rule file that cannot be used. Lists every error found, not only the first.
public struct RuleFileError: Error, Sendable, CustomStringConvertible {
    /// Errors first, then warnings, each in file order.
    public var diagnostics: [RuleFileDiagnostic]

    public init(diagnostics: [RuleFileDiagnostic]) { self.diagnostics = diagnostics }

    public var errors: [RuleFileDiagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
