import Testing
@testable import NetFaultCore

/// `{close: client | server | both}` packet by packet: FINs with the numbers each side takes,
/// what netfault answers afterwards in the name of the proxy that closed, and the report.
struct CloseActionTests {
    static let limit = """
        rules:
          - name: limit
            match: {server_port: 80, from: server, after_bytes: 1000}
            action: {close: both}
        """

    /// A connection through `limit` that carried a 600-byte request and 1000 bytes of response;
    /// the next segment of the response is the one `close` takes.
    static func closing(_ client: String = "198.18.1.2:40000", _ server: String = "198.18.2.2:80")
        throws -> (driver: EngineDriver, conversation: Conversation, decision: Decision, trigger: [UInt8]) {
        var driver = try EngineDriver(limit)
        var conversation = Conversation(client: client, server: server)
        for packet in conversation.handshake() { driver.send(packet, at: 0) }
        driver.send(conversation.data(from: .client, 400), at: 1)
        driver.send(conversation.data(from: .server, 1000), at: 2)
        driver.send(conversation.ack(), at: 3)
        let trigger = conversation.data(from: .server, 1000)
        let decision = driver.send(trigger, at: 4)
        return (driver, conversation, decision, trigger)
    }

    /// Known answers, computed apart (Python's struct and RFC 1071 sum): the FIN|ACK to the
    /// client as from the server, at the dropped segment's seq and acknowledging what the server
    /// did; the FIN|ACK to the server as from the client, at the client's next byte and
    /// acknowledging the server's bytes up to the dropped segment. IPv4 and IPv6.
    @Test(arguments: [
        ("198.18.1.2:40000", "198.18.2.2:80",
         "45000028000040004006aba7c6120202c612010200509c40000dbf89000005795011ffffbf0a0000",
         "45000028000040004006aba7c6120102c61202029c40005000000579000dbf895011ffffbf0a0000"),
        ("[2001:db8:1::2]:40000", "[2001:db8:2::2]:80",
         "600000000014064020010db800020000000000000000000220010db800010000000000000000000200509c40000dbf89000005795011fffff2ba0000",
         "600000000014064020010db800010000000000000000000220010db80002000000000000000000029c40005000000579000dbf895011fffff2ba0000"),
    ])
    func theFINsCarryTheNumbersEachSideTakes(_ client: String, _ server: String, _ toClient: String, _ toServer: String) throws {
        let (_, _, decision, _) = try Self.closing(client, server)
        #expect(decision.verdict == .drop)
        #expect(decision.injections.map(\.toward) == [.server, .client])
        #expect(decision.injections.map { $0.bytes } == [hexBytes(toServer), hexBytes(toClient)])
        for injection in decision.injections { #expect(try transportChecksumVerifies(injection.bytes)) }
    }

    /// After the close nothing passes between the peers. The client's ACK of the FIN is taken in
    /// silence and its own FIN acknowledged; the server's data (the rest of its response, and the
    /// dropped segment again) is answered with an RST at the server's next expected byte, as a
    /// socket closed by its application answers; the server's FIN is acknowledged.
    @Test func theLaterPacketsAreAnsweredAsTheProxyThatClosed() throws {
        var (driver, conversation, _, trigger) = try Self.closing()
        let finSequence = parsed(trigger) { $0.sequenceNumber }
        // The client took the FIN: its ACK acknowledges it, then it closes too.
        let clientAck = conversation.tcp(from: .client, seq: conversation.clientNext, ack: finSequence &+ 1, flags: [.ack])
        let ackDecision = driver.send(clientAck, at: 5)
        #expect(ackDecision.verdict == .drop && !ackDecision.hasInjections)
        let clientFIN = conversation.tcp(from: .client, seq: conversation.clientNext, ack: finSequence &+ 1, flags: [.fin, .ack])
        let finDecision = driver.send(clientFIN, at: 6)
        #expect(finDecision.verdict == .drop && finDecision.injections.count == 1)
        let answer = try #require(finDecision.injections.first)
        #expect(answer.toward == .client)
        parsed(answer.bytes) { packet in
            #expect(packet.tcpFlags == [.ack])
            #expect(packet.sequenceNumber == finSequence &+ 1 && packet.acknowledgmentNumber == conversation.clientNext &+ 1)
        }
        // The server goes on writing after the client's FIN in its name arrived.
        let serverData = conversation.tcp(from: .server, seq: conversation.serverNext, ack: conversation.clientNext &+ 1, flags: [.ack, .psh],
                                          payload: Array(repeating: 0x79, count: 500))
        let dataDecision = driver.send(serverData, at: 7)
        #expect(dataDecision.verdict == .drop)
        let reset = try #require(dataDecision.injections.first)
        #expect(reset.toward == .server)
        parsed(reset.bytes) { #expect($0.tcpFlags == [.rst] && $0.sequenceNumber == conversation.clientNext &+ 1) }
        #expect(driver.send(conversation.retransmit(from: .server), at: 8).verdict == .drop)
        let flow = try #require(driver.onlyFlow)
        #expect(flow.outcome() == .closed)
        #expect(flow.closeOrigin == ResetOrigin(sender: .netfault(rule: 0), toward: .both))
        #expect(flow.resetOrigin == nil)
        // The server was in CLOSE-WAIT (the FIN had reached it) when the RST came: EPIPE on its
        // next send. The client only read to the end: no error.
        #expect(flow.socketErrors(for: .closed) == RunReport.PerSide(client: nil, server: .brokenPipe))
        #expect(flow.fromServer.payloadBytes == 1000, "the bytes that reached the client")
    }

    /// `close: client`: only the client gets a FIN; the server's later packets go nowhere.
    @Test func closingOneSideLeavesTheOtherUntold() throws {
        var driver = try EngineDriver("rules:\n  - name: lb\n    match: {server_port: 80, from: server, after_bytes: 1000}\n    action: {close: client}\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        driver.send(conversation.data(from: .server, 1000))
        let decision = driver.send(conversation.data(from: .server, 1000))
        #expect(decision.verdict == .drop && decision.injections.map(\.toward) == [.client])
        let later = driver.send(conversation.data(from: .server, 1000))
        #expect(later.verdict == .drop && !later.hasInjections)
    }

    /// A SYN has no connection to close: it goes no further, and nothing is sent.
    @Test func aSYNIsOnlyDropped() throws {
        var driver = try EngineDriver("rules:\n  - name: c\n    match: {server_port: 80, flags: [syn]}\n    action: {close: both}\n")
        var conversation = Conversation()
        let decision = driver.send(conversation.syn())
        #expect(decision.verdict == .drop && !decision.hasInjections)
        #expect(driver.onlyFlow?.closeOrigin == nil)
    }

    /// On a connection under `shift_seq`, the server's FIN carries the shifted numbers it expects.
    @Test func aCloseOnAShiftedConnectionUsesTheServersNumbers() throws {
        var driver = try EngineDriver("""
            rules:
              - name: limit
                match: {server_port: 80, payload: "stop"}
                action: {close: both}
              - name: asa
                match: {server_port: 80}
                action: {shift_seq: 100}
            """)
        var conversation = Conversation()
        driver.send(conversation.syn())
        let trigger = conversation.data(from: .client, payload: Array("stop".utf8))
        let decision = driver.send(trigger)
        let toServer = try #require(decision.injections.first { $0.toward == .server })
        #expect(parsed(toServer.bytes) { $0.sequenceNumber } == parsed(trigger) { $0.sequenceNumber } &+ 100)
    }

    /// The report: outcome `closed`, `closed_by` naming netfault's rule, the server's EPIPE.
    @Test func theReportSaysWhoClosed() throws {
        var (driver, conversation, _, _) = try Self.closing()
        driver.send(conversation.tcp(from: .server, seq: conversation.serverNext, ack: conversation.clientNext &+ 1, flags: [.ack, .psh],
                                     payload: [1, 2, 3]), at: 9)
        let report = RunReport(engine: driver.engine, ruleFile: "r.yaml", stopReason: "test", startedAt: "", start: .zero,
                               end: .milliseconds(20), queue: RunReport.QueueStatistics())
        let connection = try #require(report.connections.first)
        #expect(connection.outcome == .closed && connection.resetBy == nil)
        #expect(connection.closedBy == ResetOrigin(sender: .netfault(rule: 0), toward: .both) && connection.closedRule == "limit")
        let json = report.json()
        #expect(json.contains("\"closed_by\": {\n        \"sender\": \"netfault\",\n        \"rule\": \"limit\",\n        \"toward\": \"both\"\n      }"), "\(json)")
        #expect(json.contains("\"errno\": {\n        \"client\": null,\n        \"server\": \"EPIPE\""), "\(json)")
        let text = report.text()
        #expect(text.contains("ENDED BY") && text.contains("netfault (limit) FIN → both"), "\(text)")
        #expect(text.contains("server EPIPE / WSAECONNABORTED 10053"), "\(text)")
    }

    /// A connection closed by its peers has no `closed_by`.
    @Test func aPeersCloseNamesNoCloser() throws {
        var driver = try EngineDriver("rules:\n  - name: p\n    match: {server_port: 80}\n    action: pass\n")
        var conversation = Conversation()
        for packet in conversation.handshake() + [conversation.fin(from: .server), conversation.fin(from: .client)] { driver.send(packet) }
        let flow = try #require(driver.onlyFlow)
        #expect(flow.outcome() == .closed && flow.closeOrigin == nil)
    }

    @Test(arguments: [("{close: everyone}", "is not a side to close"), ("close", "close needs a side")])
    func badSettingsAreNamed(_ action: String, _ expected: String) throws {
        let error = try #require(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: a\n    match: {server_port: 80}\n    action: \(action)\n", name: "r.yaml")
        }
        #expect(error.description.contains(expected), "\(error)")
    }
}
