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

    /// The diagnostic as a line for a terminal. What it quotes of the file (a key, a value) is
    /// the file's own text: control characters in it are escaped (`\u{1B}`), so that a rule file
    /// cannot move the cursor, retitle the terminal or hide lines of the output.
    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        let prefix = severity == .warning ? "warning: " : ""
        let text = path.isEmpty ? "\(place): \(prefix)\(message)" : "\(place): \(prefix)\(path): \(message)"
        return Self.escapingControlCharacters(text)
    }

    /// `text` with C0 and C1 control characters and DEL written as `\u{…}`.
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                escaped += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}

/// A rule file that cannot be used. Lists the first errors found (`DiagnosticList.listed`) and
/// counts the rest.
public struct RuleFileError: Error, Sendable, CustomStringConvertible {
    /// Errors first, then warnings, each in file order.
    public var diagnostics: [RuleFileDiagnostic]
    /// Errors (warnings) found past those in `diagnostics`.
    public var unlistedErrors: Int
    public var unlistedWarnings: Int

    public init(diagnostics: [RuleFileDiagnostic], unlistedErrors: Int = 0, unlistedWarnings: Int = 0) {
        self.diagnostics = diagnostics
        self.unlistedErrors = unlistedErrors
        self.unlistedWarnings = unlistedWarnings
    }

    public var errors: [RuleFileDiagnostic] { diagnostics.filter { $0.severity == .error } }

    /// Every error found, listed or not.
    public var errorCount: Int { errors.count + unlistedErrors }

    /// Lines for a person: the errors, `… and 99980 more errors`, then the warnings likewise.
    public var lines: [String] {
        RuleFileDiagnostic.lines(errors, unlisted: unlistedErrors, .error)
            + RuleFileDiagnostic.lines(diagnostics.filter { $0.severity == .warning }, unlisted: unlistedWarnings, .warning)
    }

    public var description: String { lines.joined(separator: "\n") }
}

extension RuleFileDiagnostic {
    /// `diagnostics` as lines, and a last one saying how many more of them were found.
    public static func lines(_ diagnostics: [RuleFileDiagnostic], unlisted: Int, _ severity: Severity) -> [String] {
        let more = unlisted == 0 ? [] : ["… and \(unlisted) more \(severity.rawValue)\(unlisted == 1 ? "" : "s")"]
        return diagnostics.map(\.description) + more
    }
}
