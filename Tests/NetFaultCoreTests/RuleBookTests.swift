import Testing
import NetFaultCore

/// The control API's rule changes, validated without a running netfault.
struct RuleBookTests {
    private func book(_ yaml: String = "queue: 3\nhooks: [forward]\nrules: [{name: a, match: {server_port: 80}, action: drop}]") throws -> RuleBook {
        RuleBook(try RuleFile.parse(yaml, name: "rules.yaml").ruleSet)
    }

    @Test func aReplacementKeepsTheSettingsItLeavesOut() throws {
        let next = try book().replacing(withFile: "rules: [{name: b, match: {server_port: 81}, action: drop}]")
        #expect(next.queue == 3)
        #expect(next.hooks == [.forward])
        #expect(next.rules.map(\.name) == ["b"])
    }

    @Test(arguments: [("queue: 4", "'queue' is fixed"), ("hooks: [output, input]", "'hooks' is fixed"), ("queues: 2", "'queues' is fixed")])
    func aReplacementThatMovesAFixedSettingIsAConflict(setting: String, message: String) throws {
        #expect {
            try book().replacing(withFile: "\(setting)\nrules: []")
        } throws: { error in
            guard case RuleBook.Refusal.conflict(let text) = error else { return false }
            return text.contains(message)
        }
        // The running value stated again is no change, hooks in any order.
        _ = try book().replacing(withFile: "queue: 3\nhooks: [forward]\nrules: []")
        _ = try RuleBook(try RuleFile.parse("rules: []", name: "r", requiresRules: false).ruleSet)
            .replacing(withFile: "hooks: [input, output]\nrules: []")
    }

    @Test func anInvalidBodyIsRefusedWithCheckStyleErrors() throws {
        #expect(throws: RuleBook.Refusal.invalid(["request:1:40: rules[0].match.server_port: 70000 is not a port (0-65535)"])) {
            try book().replacing(withFile: "rules: [{name: b, match: {server_port: 70000}, action: drop}]")
        }
    }

    @Test func addingTakesARuleListOrARulesDocumentAndRefusesATakenName() throws {
        let book = try book()
        #expect(try book.adding("- {name: b, match: {server_port: 81}, action: drop}").rules.map(\.name) == ["a", "b"])
        #expect(try book.adding("rules: [{name: b, action: drop}]").rules.map(\.name) == ["a", "b"])
        #expect(throws: RuleBook.Refusal.self) { try book.adding("rules: [{name: a, action: drop}]") }
        #expect(throws: RuleBook.Refusal.badRequest("a body that adds rules holds `rules:` and its list, or is a bare list of rules")) {
            try book.adding("{}")
        }
        #expect {
            try book.adding("queue: 3\nrules: [{name: c, action: drop}]")
        } throws: { error in
            guard case RuleBook.Refusal.badRequest(let text) = error else { return false }
            return text.contains("only `rules:`")
        }
    }

    @Test func removingAndDisablingNameARule() throws {
        let book = try book()
        #expect(try book.removing("a").rules.isEmpty)
        #expect(try book.setting("a", enabled: false).enabledRules.isEmpty)
        #expect {
            try book.removing("zz")
        } throws: { error in
            guard case RuleBook.Refusal.notFound(let text) = error else { return false }
            return text == "no rule is named 'zz'; the rules are a"
        }
    }

    /// `GET /v1/rules` gives a rule file that reads back as the same rules, a disabled one with
    /// `enabled: false`.
    @Test func theRuleFileRoundTrips() throws {
        var book = try book("queue: 3\nhooks: [forward]\nobserve: [{server_port: 21}]\nrules:\n  - name: a\n    match: {server_port: 8000-8100, from: client}\n    action: {hold: 3s}\n  - {name: b, action: drop}\n")
        book.commit(try book.setting("b", enabled: false))
        let yaml = book.ruleFileYAML
        let again = try RuleFile.parse(yaml, name: "again.yaml").ruleSet
        #expect(again.queue == 3)
        #expect(again.hooks == [.forward])
        #expect(again.rules.count == 2)
        #expect(again.rules[0].hasSameDefinition(as: book.ruleSet.rules[0]))
        #expect(again.rules.map(\.enabled) == [true, false])
        #expect(again.observe == book.ruleSet.observe)
        #expect(book.ruleFileJSON.contains("\"name\":\"a\""))
        let fromJSON = try RuleFile.parse(book.ruleFileJSON, name: "json").ruleSet
        #expect(fromJSON.rules.map(\.name) == ["a", "b"])
    }
}
