import Testing
@testable import NetFaultCore

/// `tls_sni:`, `http:` and `dns:` in the engine, packet by packet: decided on the packet that
/// carries (completes) what they look for, and `sticky` carrying the rest of the connection.
struct ApplicationMatchTests {
    static let sniRules = """
        hooks: [forward]
        rules:
          - name: block
            match: {server_port: 443, tls_sni: "*.blocked.example"}
            action: {reset: both}
        """

    static func tls() -> Conversation { Conversation(server: "198.18.2.2:443") }

    @Test func aHelloInOneSegmentForTheBlockedNameIsReset() throws {
        var driver = try EngineDriver(Self.sniRules)
        var conversation = Self.tls()
        for packet in conversation.handshake() { #expect(driver.send(packet).verdict == .accept) }
        let decision = driver.send(conversation.data(from: .client, payload: TLSSamples.realHello))
        #expect(decision.verdict == .drop && decision.injections.count == 2)
    }

    @Test func anotherNameGoesThrough() throws {
        var driver = try EngineDriver(Self.sniRules)
        var conversation = Self.tls()
        for packet in conversation.handshake() { driver.send(packet) }
        #expect(driver.send(conversation.data(from: .client, payload: TLSSamples.hello(serverName: "ok.example"))).verdict == .accept)
        #expect(driver.send(conversation.data(from: .client, payload: TLSSamples.hello(serverName: nil))).verdict == .accept)
    }

    @Test(arguments: [1, 5, 50, 300, 516])
    func aHelloSplitInTwoIsDecidedOnTheSegmentThatCompletesIt(_ cut: Int) throws {
        var driver = try EngineDriver(Self.sniRules)
        var conversation = Self.tls()
        for packet in conversation.handshake() { driver.send(packet) }
        let hello = TLSSamples.realHello
        let first = conversation.data(from: .client, payload: Array(hello[..<cut]))
        #expect(driver.send(first).verdict == .accept)
        #expect(driver.send(first).verdict == .accept, "a retransmission of the first part")
        #expect(driver.engine.pendingHellos.count == 1)
        #expect(driver.send(conversation.data(from: .client, payload: Array(hello[cut...]))).verdict == .drop)
        #expect(driver.engine.pendingHellos.isEmpty)
    }

    @Test func aHelloInThreeSegmentsIsDecidedOnTheThird() throws {
        var driver = try EngineDriver(Self.sniRules)
        var conversation = Self.tls()
        for packet in conversation.handshake() { driver.send(packet) }
        let hello = TLSSamples.realHello
        #expect(driver.send(conversation.data(from: .client, payload: Array(hello[..<3]))).verdict == .accept)
        #expect(driver.send(conversation.data(from: .client, payload: Array(hello[3..<200]))).verdict == .accept)
        #expect(driver.send(conversation.data(from: .client, payload: Array(hello[200...]))).verdict == .drop)
    }

    @Test func stickyResetsTheRestOfTheConnection() throws {
        var driver = try EngineDriver(Self.sniRules.replacingOccurrences(of: "action: {reset: both}", with: "action: drop\n    sticky: true"))
        var conversation = Self.tls()
        for packet in conversation.handshake() { driver.send(packet) }
        #expect(driver.send(conversation.data(from: .client, payload: TLSSamples.realHello)).verdict == .drop)
        #expect(driver.send(conversation.data(from: .server, 100)).verdict == .drop)
        #expect(driver.send(conversation.data(from: .client, 10)).verdict == .drop)
    }

    /// A hello begun on a connection that was evicted is not completed by the connection that
    /// takes its slot, even with the sequence number the first expected.
    @Test func anEvictedConnectionsHelloIsForgotten() throws {
        var configuration = Engine.Configuration()
        configuration.flowCapacity = 1
        var driver = try EngineDriver(Self.sniRules, configuration: configuration)
        var first = Self.tls()
        for packet in first.handshake() { driver.send(packet) }
        let hello = TLSSamples.realHello
        driver.send(first.data(from: .client, payload: Array(hello[..<100])))
        #expect(driver.engine.pendingHellos.count == 1)
        var second = Conversation(client: "198.18.1.3:40001", server: "198.18.2.2:443")
        driver.send(second.syn())
        #expect(driver.engine.pendingHellos.isEmpty)
        let rest = second.tcp(from: .client, seq: first.clientNext, ack: 0, flags: [.ack, .psh], payload: Array(hello[100...]))
        #expect(driver.send(rest).verdict == .accept)
    }

    @Test func helloGatheringStopsWithTheLastTLSRule() throws {
        var driver = try EngineDriver(Self.sniRules)
        var conversation = Self.tls()
        for packet in conversation.handshake() { driver.send(packet) }
        driver.send(conversation.data(from: .client, payload: Array(TLSSamples.realHello[..<100])))
        driver.engine.replaceRules(with: try RuleFile.parse("rules:\n  - name: other\n    match: {server_port: 9}\n    action: drop\n", name: "r").ruleSet)
        #expect(driver.engine.pendingHellos.isEmpty)
    }

    // MARK: HTTP

    @Test func onlyTheMatchingRequestActs() throws {
        var driver = try EngineDriver("""
            rules:
              - name: uploads
                match: {server_port: 80, http: {method: POST, host: "api.example", path: "/upload*"}}
                action: {reset: both}
            """)
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        let get = "GET /upload/1 HTTP/1.1\r\nHost: api.example\r\n\r\n"
        #expect(driver.send(conversation.data(from: .client, payload: Array(get.utf8))).verdict == .accept)
        let otherHost = "POST /upload/1 HTTP/1.1\r\nHost: www.example\r\n\r\n"
        #expect(driver.send(conversation.data(from: .client, payload: Array(otherHost.utf8))).verdict == .accept)
        #expect(driver.send(conversation.data(from: .server, payload: Array("POST /upload HTTP/1.1\r\nHost: api.example\r\n\r\n".utf8))).verdict == .accept)
        let post = "POST /upload/1 HTTP/1.1\r\nHost: API.example:80\r\nContent-Length: 3\r\n\r\nabc"
        #expect(driver.send(conversation.data(from: .client, payload: Array(post.utf8))).verdict == .drop)
    }

    // MARK: DNS

    static func query(_ conversation: Conversation, name: String, type: UInt16, id: UInt16 = 7) -> [UInt8] {
        PacketBuilder.udp(source: conversation.client.address, destination: conversation.server.address,
                          sourcePort: conversation.client.port, destinationPort: 53, payload: DNSSamples.query(name: name, type: type, id: id))
    }

    @Test(arguments: ["198.18.1.2:40000|198.18.2.2:53", "[2001:db8:1::2]:40000|[2001:db8:2::2]:53"])
    func aMatchingQueryIsAnsweredInTheServersPlace(_ endpoints: String) throws {
        let parts = endpoints.split(separator: "|").map(String.init)
        let conversation = Conversation(client: parts[0], server: parts[1])
        var driver = try EngineDriver("""
            rules:
              - name: nx
                match: {dns: {name: "*.blocked.example", type: A}}
                action: {dns: nxdomain}
            """)
        #expect(driver.send(Self.query(conversation, name: "ok.example", type: 1)).verdict == .accept)
        #expect(driver.send(Self.query(conversation, name: "www.blocked.example", type: 28)).verdict == .accept)
        let decision = driver.send(Self.query(conversation, name: "www.BLOCKED.example", type: 1, id: 0x4242))
        #expect(decision.verdict == .drop && decision.injections.count == 1)
        let reply = try #require(decision.injections.first)
        #expect(reply.toward == .client)
        #expect(try transportChecksumVerifies(reply.bytes))
        try withParsedPacket(reply.bytes) { packet in
            #expect(packet.source == conversation.server.address && packet.destination == conversation.client.address)
            #expect(packet.sourcePort == 53 && packet.destinationPort == conversation.client.port)
            let payload = Array(packet.payload)
            #expect(payload[0...3] == [0x42, 0x42, 0x81, 0x83])
            #expect(Array(payload[12...]) == Array(DNSSamples.query(name: "www.BLOCKED.example", type: 1)[12...]))
        }
        let fault = try #require(driver.onlyFlow?.faults.first)
        #expect(driver.engine.knownRules[fault.rule].name == "nx")
    }

    @Test func anAnswerCarriesTheAddress() throws {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {dns: {name: x.example}}\n    action: {dns: {answer: 198.18.0.66}}\n")
        let decision = driver.send(Self.query(Conversation(), name: "x.example", type: 1))
        try withParsedPacket(try #require(decision.injections.first).bytes) { packet in
            #expect(Array(packet.payload.suffix(4)) == [198, 18, 0, 66])
        }
    }

    @Test func queriesOverTCPAreMatchedBehindTheirLength() throws {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {protocol: tcp, dns: {type: TXT}}\n    action: {reset: both}\n")
        var conversation = Conversation(server: "198.18.2.2:53")
        for packet in conversation.handshake() { driver.send(packet) }
        let message = DNSSamples.query(name: "t.example", type: 16)
        #expect(driver.send(conversation.data(from: .client, payload: TLSSamples.be16(message.count) + message)).verdict == .drop)
    }

    @Test func theyCountAsReadingPayloadAndAreExplained() throws {
        let file = try RuleFile.parse("""
            rules:
              - {name: t, match: {tls_sni: "*.b.example"}, action: drop}
              - {name: h, match: {http: {method: POST}}, action: drop}
              - {name: d, match: {dns: {name: "*.example", type: AAAA}}, action: drop}
            """, name: "r.yaml")
        #expect(file.ruleSet.needsWholePackets)
        for rule in file.ruleSet.rules {
            let single = RuleSet(rules: [rule])
            #expect(single.needsWholePackets, "\(rule.name)")
        }
        let text = CheckSummary(file: file).text
        #expect(text.contains("a TLS ClientHello for server name \"*.b.example\""))
        #expect(text.contains("an HTTP POST request"))
        #expect(text.contains("udp packets, server port 53, a DNS query of type AAAA for \"*.example\""), "\(text)")
    }

    @Test(arguments: [
        ("{protocol: udp, tls_sni: a.example}", "rules[0].match.tls_sni: a TLS ClientHello travels over TCP, and this rule matches udp"),
        ("{protocol: udp, http: {method: GET}}", "rules[0].match.http: an HTTP/1.x request travels over TCP, and this rule matches udp"),
        ("{protocol: icmp, dns: {name: a}}", "rules[0].match.dns: a DNS query travels over UDP or TCP"),
        ("{dns: {type: AAAAA}}", "rules[0].match.dns.type: AAAAA is not a query type"),
        ("{dns: {}}", "rules[0].match.dns: needs at least one of name, type"),
        ("{http: {method: \"PO ST\"}}", "rules[0].match.http.method: PO ST is not a method"),
        ("{http: {verb: GET}}", "rules[0].match.http.verb: unknown key"),
        ("{tls_sni: \"\"}", "rules[0].match.tls_sni: is empty"),
        ("{tls_sni: a, http: {method: GET}}", "a rule matches one of tls_sni, http or dns"),
        ("{from: server, tls_sni: a}", "rules[0].match.from: tls_sni matches what the client sends"),
    ])
    func badMatchesAreNamed(_ match: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: \(match)\n    action: drop\n", name: "r.yaml")
        }
        #expect(error.description.contains("r.yaml:3:"), "\(error)")
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func theDNSAnswerIsUDPOnly() throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {protocol: tcp, dns: {name: a}}\n    action: {dns: refused}\n", name: "r.yaml")
        }
        #expect(error.description.contains("r.yaml:4:19: rules[0].action.dns: netfault answers DNS over UDP only, and this rule matches tcp"), "\(error)")
        let bad = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {dns: {name: a}}\n    action: {dns: {answer: 300.1.1.1}}\n", name: "r.yaml")
        }
        #expect(bad.description.contains("rules[0].action.dns.answer: 300.1.1.1 is not an IPv4 or IPv6 address"), "\(bad)")
    }
}
