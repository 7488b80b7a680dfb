import Foundation
import Testing
@testable import NetFaultCore

/// Rule files built to exhaust the parser are refused quickly with bounded memory. The limits are
/// structural (bytes, depth, nodes), so these tests assert the refusal, not a time.
struct HostileRuleFileTests {
    /// The classic "billion laughs": 9 levels of 10 aliases each, 10^9 nodes once expanded, in 340-odd bytes.
    static let billionLaughs: String = {
        var lines = ["a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        for level in 1...8 {
            let previous = "*a\(level - 1)"
            lines.append("a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ","))]")
        }
        lines.append("rules: [*a8]")
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func billionLaughsIsRefusedByTheNodeBudget() throws {
        #expect(Self.billionLaughs.utf8.count < 500)
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(Self.billionLaughs, name: "lol.yaml") }
        #expect(error.errors.count == 1)
        #expect(error.description.contains("expands to over 200000 nodes (aliases followed); refusing it"))
    }

    /// Yams hashes mapping keys with aliases expanded; a large alias as a key must never reach it.
    @Test func aliasAsMappingKeyIsRefused() throws {
        let text = "a0: &a0 [x, y]\n? *a0\n: 1\nrules: []\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "lol.yaml") }
        #expect(error.description == "lol.yaml:2:3: a mapping key must be a plain value, not a list or mapping")
    }

    @Test func billionLaughsAsMappingKeyIsRefused() throws {
        let text = Self.billionLaughs.replacingOccurrences(of: "rules: [*a8]", with: "? *a8\n: 1\nrules: []")
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "lol.yaml") }
        #expect(error.errors.count == 1)
    }

    @Test func anchorsWithinBudgetAreAllowed() throws {
        let text = """
            rules:
              - name: web-syn
                match: &web {server_port: 80, flags: [syn]}
                action: drop
              - name: web-syn-copy
                match: *web
                action: pass
            """
        let rules = try RuleFile.parse(text, name: "r.yaml").ruleSet.rules
        #expect(rules.map(\.match.serverPort) == [rules[0].match.serverPort, rules[0].match.serverPort])
        #expect(rules[1].match.serverPort != nil)
    }

    @Test func oversizedFileIsRefusedBeforeParsing() throws {
        let text = "# " + String(repeating: "x", count: 1 << 20) + "\nrules: []\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "big.yaml") }
        #expect(error.description == "big.yaml: the file is over 1 MiB; a rule file is a few KB")
    }

    @Test func oversizedFileOnDiskIsNotReadWhole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-big-\(UInt64.random(in: 0...UInt64.max)).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x23, count: (1 << 20) + 10))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: RuleFileError.self) { try RuleFile.load(path: path) }
        #expect(error.description == "\(path): the file is over 1 MiB; a rule file is a few KB")
    }

    @Test(arguments: [
        String(repeating: "[", count: 200_000),
        String(repeating: "{a: ", count: 50_000),
        String(repeating: "- ", count: 100_000) + "x",
        (0..<100).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n"),
    ])
    func deepNestingIsRefusedBeforeTheParserRecurses(_ text: String) throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "deep.yaml") }
        #expect(error.description.contains("levels deep here; at most 32 are allowed"))
    }

    @Test func realisticNestingIsAllowed() throws {
        let text = """
            rules:
              - name: deep-enough
                match:
                  flags:
                    - syn
                action:
                  rewrite:
                    flags:
                      - ack
            """
        #expect(try RuleFile.parse(text, name: "r.yaml").ruleSet.rules.count == 1)
    }

    /// What an error quotes of the file is the file's own text: escape sequences in it reach the
    /// terminal escaped, never raw.
    @Test func controlCharactersInQuotedTextAreEscaped() throws {
        let text = "rules:\n  - name: a\n    action: \"\\e]0;owned\\a\\e[2J\"\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "r.yaml") }
        #expect(!error.description.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(error.description.debugDescription)")
        #expect(error.description.contains("\\u{1B}]0;owned\\u{7}\\u{1B}[2J"), "\(error.description)")
    }

    /// A file that is not a rule file (netfault runs as root, and may be pointed at one it should
    /// not read): the errors quote at most 40 characters of a line.
    @Test func errorsQuoteOnlyAShortExcerpt() throws {
        let secret = "root:$y$j9T$verylongsecrethashverylongsecrethashverylongsecrethash:19000:0:99999:7:::"
        for text in ["\(secret)\ndaemon:*:19000:0:99999:7:::\n", "\(secret): x\n", "rules:\n  - name: a\n    action: \"\(secret)\"\n"] {
            let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "shadow") }
            #expect(!error.description.contains(":19000:0:99999"), "\(error.description)")
            #expect(!error.description.contains("daemon"), "\(error.description)")
        }
    }

    /// Values quoted by errors are excerpts, however long the value: a 100 000-character name, port
    /// or flag costs one short line each.
    @Test func errorsQuoteAnExcerptOfLongValues() throws {
        let long = String(repeating: "x", count: 100_000)
        let text = "rules:\n  - name: \(long)\n    match: {server_port: \(long), flags: [\(long)], client: \(long)}\n    action: drop\n    ? \(long)\n    : 1\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "r.yaml") }
        #expect(error.diagnostics.count == 5, "\(error.description.prefix(2000))")
        #expect(error.description.utf8.count < 2000, "\(error.description.prefix(2000))")
    }

    /// A parameter is a value put in at every reference: 10 000 references to a list of 1000 items
    /// would make 10 million nodes, and 300 000 references inside one text to a 100 KB value 30 GB.
    @Test(arguments: [
        "parameters:\n  p: [" + Array(repeating: "1", count: 1000).joined(separator: ",") + "]\nrules:\n"
            + (0..<10_000).map { "- {name: r\($0), action: drop, match: {server_port: \"${p}\"}}\n" }.joined(),
        "parameters:\n  p: " + String(repeating: "x", count: 100_000) + "\nrules:\n- name: a\n  action: drop\n  match:\n    payload: \""
            + String(repeating: "${p}", count: 200_000) + "\"\n",
    ])
    func parametersThatExpandTheFileTooFarAreRefused(_ text: String) throws {
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(text, name: "p.yaml") }
        #expect(error.diagnostics.count == 1)
        #expect(error.description.contains(": the references to parameters expand the document by over "), "\(error.description)")
    }

    @Test func parametersWithinTheBudgetAreAllowed() throws {
        let text = "parameters:\n  p: [syn]\nrules:\n" + (0..<1000).map { "- {name: r\($0), action: drop, match: {flags: \"${p}\"}}\n" }.joined()
        #expect(try RuleFile.parse(text, name: "p.yaml").ruleSet.rules.count == 1000)
    }

    /// `fired: "<0"` can never hold: refused, not left to fail every run.
    @Test func anExpectationThatCanNeverHoldIsRefused() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - {name: a, action: drop, expect: {fired: \"<0\"}}\n", name: "r.yaml")
        }
        #expect(error.description.hasPrefix("r.yaml:2:45: rules[0].expect.fired: '<0' can never hold"), "\(error.description)")
    }
}
