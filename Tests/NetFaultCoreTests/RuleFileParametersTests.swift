import Testing
@testable import NetFaultCore

/// `parameters:` with `--set NAME=VALUE`, and `observe:`.
struct RuleFileParametersTests {
    static let crash = """
        parameters:
          server_port: 8080
          after_bytes: 700KiB
          hooks: [forward]
        hooks: ${hooks}
        rules:
          - name: crash
            match: {server_port: "${server_port}", from: server, after_bytes: "${after_bytes}"}
            action: {reset: both}
        """

    @Test func defaultsApplyWhenNothingIsSet() throws {
        let file = try RuleFile.parse(Self.crash, name: "crash.yaml")
        #expect(file.ruleSet.rules[0].match.serverPort == PortRange(8080, 8080))
        #expect(file.ruleSet.rules[0].match.afterBytes == 700 * 1024)
        #expect(file.ruleSet.hooks == [.forward])
        #expect(file.parameters.map(\.name) == ["server_port", "after_bytes", "hooks"])
        #expect(file.parameters.map(\.value) == ["8080", "700KiB", "[forward]"])
    }

    @Test func settingsReplaceTheDefaults() throws {
        let file = try RuleFile.parse(Self.crash, name: "crash.yaml",
                                      settings: [("server_port", "5432"), ("after_bytes", "1MiB"), ("hooks", "[output, input]")])
        #expect(file.ruleSet.rules[0].match.serverPort == PortRange(5432, 5432))
        #expect(file.ruleSet.rules[0].match.afterBytes == 1024 * 1024)
        #expect(file.ruleSet.hooks == [.output, .input])
        #expect(file.parameters.map(\.value) == ["5432", "1MiB", "[output, input]"])
    }

    /// A bad value is reported where the parameter is used, as any value written there would be.
    @Test func aBadValueIsReportedWhereItIsUsed() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse(Self.crash, name: "crash.yaml", settings: [("server_port", "70000")])
        }
        #expect(error.description == "crash.yaml:8:26: rules[0].match.server_port: 70000 is not a port (0-65535)")
    }

    @Test func anUnknownSettingIsRefusedWithAHint() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse(Self.crash, name: "crash.yaml", settings: [("sever_port", "5432")])
        }
        #expect(error.description == "crash.yaml:1:1: parameters: --set sever_port: no such parameter; did you mean 'server_port'? (settable: server_port, after_bytes, hooks)")
    }

    @Test func aSettingForAFileWithoutParametersIsRefused() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - {name: a, action: drop}\n", name: "plain.yaml", settings: [("port", "1")])
        }
        #expect(error.description.contains("--set port: this rule file declares no parameters"))
    }

    @Test func anUndeclaredReferenceIsAnError() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("parameters: {port: 1}\nrules:\n  - {name: a, match: {server_port: \"${prot}\"}, action: drop}\n", name: "r.yaml")
        }
        #expect(error.errors.first?.description == "r.yaml:3:36: ${prot}: no such parameter; did you mean 'port'? (declare it under `parameters:`; declared: port)")
    }

    @Test func aReferenceInsideTextTakesTheValuesText() throws {
        let yaml = "parameters: {signature: EICAR}\nrules:\n  - {name: av, match: {payload: \"X-${signature}-Y\"}, action: drop}\n"
        let file = try RuleFile.parse(yaml, name: "r.yaml", settings: [("signature", "SECRET")])
        #expect(file.ruleSet.rules[0].match.payload == Array("X-SECRET-Y".utf8))
    }

    @Test func observeDivertsWithoutRules() throws {
        let file = try RuleFile.parse("observe:\n  - {server_port: 21}\n  - {protocol: udp, server_port: 53}\n", name: "watch.yaml")
        #expect(file.ruleSet.rules.isEmpty)
        let plan = DiversionPlan(file.ruleSet)
        #expect(plan.filters.map(\.description) == ["ipv4+ipv6 tcp destination port 21", "ipv4+ipv6 tcp source port 21",
                                                   "ipv4+ipv6 udp destination port 53", "ipv4+ipv6 udp source port 53"])
        #expect(CheckSummary(file: file).text.contains("Observed (diverted and reported, never faulted):\n  tcp packets, server port 21\n"))
    }

    @Test func observeTakesAddressAndPortFieldsOnly() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("observe:\n  - {server_port: 21, from: client}\nrules:\n  - {name: a, action: drop}\n", name: "w.yaml")
        }
        #expect(error.description.hasPrefix("w.yaml:2:23: observe[0].from: unknown key 'from'"))
    }
}
