import Testing
@testable import NetFaultCore

/// An IPv4-mapped IPv6 address (`::ffff:198.18.2.2`) never appears in a packet: the peer a
/// dual-stack socket shows so sends IPv4. In a rule file it is taken as the IPv4 address it stands for.
struct MappedAddressTests {
    @Test func aMappedAddressMatchesIPv4Packets() throws {
        let yaml = "rules:\n  - name: crash\n    match: {server: \"::ffff:198.18.2.2\", server_port: 80}\n    action: drop\n"
        let file = try RuleFile.parse(yaml, name: "r.yaml")
        #expect(file.ruleSet.rules[0].match.server?.description == "198.18.2.2")
        #expect(file.warnings.map(\.description) == [
            "r.yaml:3:21: warning: rules[0].match.server: ::ffff:198.18.2.2 is an IPv4-mapped IPv6 address, which no IPv6 packet"
                + " carries (the IPv4 peers of a dual-stack socket send IPv4 packets): it matches IPv4 198.18.2.2",
        ])
        var driver = try EngineDriver(file)
        var conversation = Conversation(client: "198.18.1.2:40000", server: "198.18.2.2:80")
        let decision = driver.send(conversation.syn())
        #expect(decision.rule == 0)
        #expect(decision.verdict == .drop)
        var other = Conversation(client: "198.18.1.2:40001", server: "198.18.2.3:80")
        #expect(driver.send(other.syn()).rule == nil)
        #expect(DiversionPlan(file.ruleSet).filters.map(\.description)
            == ["ipv4 tcp to 198.18.2.2 destination port 80", "ipv4 tcp from 198.18.2.2 source port 80"])
    }

    /// A mapped block is the IPv4 block of its prefix less 96.
    @Test(arguments: [("::ffff:198.18.1.0/120", "198.18.1.0/24"), ("::ffff:198.18.0.0/112", "198.18.0.0/16"),
                      ("::ffff:0:0/96", "0.0.0.0/0"), ("0:0:0:0:0:ffff:c612:102/128", "198.18.1.2")])
    func aMappedBlockIsTheIPv4Block(_ written: String, _ taken: String) throws {
        let yaml = "rules:\n  - {name: slow, match: {client: \"\(written)\"}, action: {delay: 50ms}}\n"
        let file = try RuleFile.parse(yaml, name: "r.yaml")
        #expect(file.ruleSet.rules[0].match.client?.description == taken)
        #expect(file.warnings.first?.description.hasSuffix("it matches IPv4 \(taken)") == true)
        var driver = try EngineDriver(file)
        var conversation = Conversation(client: "198.18.1.2:40000", server: "198.18.2.2:80")
        #expect(driver.send(conversation.syn()).rule == 0)
    }

    /// Below /96 a mapped address names a block reaching past the mapped range: refused where it stands.
    @Test(arguments: ["::ffff:198.18.0.0/64", "::ffff:0:0/95", "::ffff:198.18.1.2/0"])
    func aMappedAddressWithAShortPrefixIsRefused(_ written: String) throws {
        let yaml = "rules:\n  - name: a\n    match: {server: \"\(written)\"}\n    action: drop\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(yaml, name: "r.yaml") }
        #expect(error.description == "r.yaml:3:21: rules[0].match.server: \"\(written)\" is an IPv4-mapped IPv6 address with a"
            + " prefix shorter than 96, a block reaching past the IPv4-mapped range ::ffff:0:0/96; write the IPv4 block"
            + " (::ffff:198.18.0.0/112 is 198.18.0.0/16)")
    }

    /// Taken as IPv4, a mapped address cannot share a rule with an IPv6 one; IPv6 blocks that merely
    /// contain the mapped range (`::/0`) stay IPv6.
    @Test func aMappedAddressIsIPv4ForEveryCheck() throws {
        let mixed = "rules:\n  - {name: a, match: {client: \"::ffff:198.18.1.2\", server: \"2001:db8::2\"}, action: drop}\n"
        let error = try #require(throws: RuleFileError.self) { try RuleFile.parse(mixed, name: "r.yaml") }
        #expect(error.errors.map(\.description) == ["r.yaml:2:60: rules[0].match.server: is IPv6 but client is IPv4: no connection can match both"])
        let everything = try RuleFile.parse("rules:\n  - {name: a, match: {server: \"::/0\"}, action: drop}\n", name: "r.yaml")
        #expect(everything.ruleSet.rules[0].match.server?.description == "::/0")
        #expect(everything.warnings.isEmpty)
    }
}
