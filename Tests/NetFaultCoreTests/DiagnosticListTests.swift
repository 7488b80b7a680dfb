import Testing
@testable import NetFaultCore

/// A file with thousands of problems lists the first 20 errors (and warnings) in file order, and
/// says how many more it found.
struct DiagnosticListTests {
    /// One rule with `count` unknown keys, `k0` to `k…`, one per line from line 4.
    static func unknownKeys(_ count: Int) -> String {
        "rules:\n  - name: a\n    action: drop\n" + (0..<count).map { "    k\($0): 1\n" }.joined()
    }

    @Test func theErrorListIsCappedAndSaysHowManyMore() throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(Self.unknownKeys(5000), name: "r.yaml") }
        let lines = error.description.split(separator: "\n")
        #expect(error.diagnostics.count == 20)
        #expect(lines.count == 21)
        #expect(lines.first == "r.yaml:4:5: rules[0].k0: unknown key 'k0' (allowed here: name, match, action, expect, sticky, enabled)")
        #expect(lines[19].hasPrefix("r.yaml:23:5: rules[0].k19: unknown key 'k19'"))
        #expect(lines.last == "… and 4980 more errors")
    }

    @Test func aFewErrorsAreListedWhole() throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(Self.unknownKeys(20), name: "r.yaml") }
        #expect(error.diagnostics.count == 20)
        #expect(!error.description.contains("more error"))
        let one = try #require(throws: RuleFileError.self) { try RuleFile.parse(Self.unknownKeys(21), name: "r.yaml") }
        #expect(one.description.hasSuffix("\n… and 1 more error"))
    }

    /// Problems found late (a rule's missing name, checked after its keys; a parameter referenced
    /// early but reported by the substitution, before the reader) are still listed by place.
    @Test func theFirstErrorsListedAreTheFirstInFileOrder() throws {
        let text = "parameters: {port: 80}\nrules:\n"
            + (0..<30).map { "  - {action: drop, k\($0): \"${nope\($0)}\"}\n" }.joined()
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "r.yaml") }
        // Per rule: its missing name (at the rule), the unknown key, the undeclared parameter (at the value).
        let expected = (0..<7).flatMap { index in [
            "r.yaml:\(index + 3):5: rules[\(index)].name: is missing: every rule needs a name",
            "r.yaml:\(index + 3):20: rules[\(index)].k\(index): unknown key 'k\(index)'",
            "r.yaml:\(index + 3):24: ${nope\(index)}: no such parameter",
        ] }.prefix(20)
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines.count == 21)
        for (line, start) in zip(lines, expected) { #expect(line.hasPrefix(start), "\(line)") }
        #expect(lines.last == "… and 70 more errors")
    }

    @Test func warningsAreCappedToo() throws {
        let text = "rules:\n" + (0..<30).map { "  - {name: r\($0), match: {server: 198.18.1.\($0 + 1)/24}, action: drop}\n" }.joined()
        let file = try RuleFile.parse(text, name: "r.yaml")
        #expect(file.warnings.count == 20)
        #expect(file.warnings.first?.description == "r.yaml:2:32: warning: rules[0].match.server: 198.18.1.1/24 has host bits set; it matches 198.18.1.0/24 (did you mean 198.18.1.0?)")
        #expect(file.warningLines.count == 21)
        #expect(file.warningLines.last == "… and 10 more warnings")
    }

    /// The count the CLI prints ("r.yaml: 5001 errors; nothing would be installed") is of every error.
    @Test func theErrorCountIsOfEveryError() throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(Self.unknownKeys(5000), name: "r.yaml") }
        #expect(error.errorCount == 5000)
        #expect(error.unlistedErrors == 4980)
        #expect(error.lines.count == 21)
    }
}
