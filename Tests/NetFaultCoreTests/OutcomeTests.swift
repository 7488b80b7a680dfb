import Testing
@testable import NetFaultCore

/// How connections are classified at the end, from scripted packet sequences: every row of the
/// outcome table, and the hard cases.
struct OutcomeTests {
    static let noRules = "rules:\n  - name: none\n    match: {server_port: 1}\n    action: drop\n"

    typealias Errors = RunReport.PerSide<SocketError?>

    /// The only connection's outcome and each side's error after `packets` (sent 100 ms apart).
    func classify(_ packets: [[UInt8]]) throws -> (ConnectionOutcome, Errors, Flow) {
        try classify(Self.noRules, packets)
    }

    func classify(_ yaml: String, _ packets: [[UInt8]]) throws -> (ConnectionOutcome, Errors, Flow) {
        var driver = try EngineDriver(yaml)
        for (index, packet) in packets.enumerated() { driver.send(packet, at: Int64(index) * 100) }
        let flow = try #require(driver.onlyFlow)
        let outcome = flow.outcome()
        return (outcome, flow.socketErrors(for: outcome), flow)
    }

    /// The client got `error`, the server none.
    static func clientOnly(_ error: SocketError) -> Errors { Errors(client: error, server: nil) }

    @Test func aSYNAnsweredByTheServersRSTIsRefused() throws {
        var c = Conversation()
        let (outcome, errors, _) = try classify([c.syn(), c.refusal()])
        #expect(outcome == .refused)
        #expect(errors == Self.clientOnly(.connectionRefused))
        #expect(errors.client?.description == "ECONNREFUSED / WSAECONNREFUSED 10061")
    }

    @Test func aSYNRejectedByNetfaultIsRefusedByThatRule() throws {
        var c = Conversation()
        let (outcome, _, flow) = try classify("rules:\n  - name: fw\n    match: {flags: [syn]}\n    action: {reject: tcp-reset}\n", [c.syn()])
        #expect(outcome == .refused)
        #expect(flow.resetOrigin == ResetOrigin(sender: .netfault(rule: 0), toward: .client))
    }

    @Test func unansweredSYNsTimeOutAndTheirRetransmissionsAreCounted() throws {
        var c = Conversation()
        let (outcome, errors, flow) = try classify([c.syn(), c.synAgain(), c.synAgain()])
        #expect(outcome == .connectTimeout)
        #expect(errors == Self.clientOnly(.connectTimedOut))
        #expect(flow.fromClient.retransmissions == 2)
    }

    @Test func syNACKsNetfaultDroppedNeverReachedTheClient() throws {
        var c = Conversation()
        let yaml = "rules:\n  - name: drop-synack\n    match: {from: server, flags: [syn, ack]}\n    action: drop\n"
        let synAck = c.synAck()
        let (outcome, _, flow) = try classify(yaml, [c.synAgain(), synAck, c.synAgain(), synAck])
        #expect(outcome == .connectTimeout)
        #expect(flow.fromServer.dropped == 2)
    }

    @Test func aRetransmittedSYNThatFinallySucceedsIsNoTimeout() throws {
        var c = Conversation()
        let syn = c.syn()
        let (outcome, errors, flow) = try classify([syn, c.synAgain(), c.synAck(), c.ack()])
        #expect(outcome == .open)
        #expect(errors == Errors(client: nil, server: nil))
        #expect(flow.established.map { $0.since(flow.clientSYNAt!) } == 300_000_000, "handshake from the first SYN to the client's ACK")
    }

    @Test(arguments: [("icmp-host-unreachable", "198.18.2.2:80", SocketError.hostUnreachable),
                      ("icmp-admin-prohibited", "198.18.2.2:80", SocketError.hostUnreachable),
                      ("icmp-admin-prohibited", "[2001:db8:2::2]:80", SocketError.accessDenied)])
    func anICMPUnreachableAnsweringTheSYNIsUnreachable(_ kind: String, _ server: String, _ expected: SocketError) throws {
        var c = Conversation(client: server.hasPrefix("[") ? "[2001:db8:1::2]:40000" : "198.18.1.2:40000", server: server)
        let (outcome, errors, _) = try classify("rules:\n  - name: fw\n    match: {flags: [syn]}\n    action: {reject: \(kind)}\n", [c.syn()])
        #expect(outcome == .unreachable)
        #expect(errors == Self.clientOnly(expected))
    }

    @Test func aUDPDatagramAnsweredByPortUnreachableIsRefused() throws {
        let c = Conversation(server: "198.18.2.2:53")
        let (outcome, errors, _) = try classify("rules:\n  - name: fw\n    match: {protocol: udp}\n    action: {reject: icmp-port-unreachable}\n",
                                               [c.datagram(from: .client)])
        #expect(outcome == .refused)
        #expect(errors == Self.clientOnly(.connectionRefused))
    }

    @Test func theServersRSTResetsAnEstablishedConnection() throws {
        var c = Conversation()
        let (outcome, errors, flow) = try classify(c.handshake() + [c.data(from: .server), c.rst(from: .server)])
        #expect(outcome == .reset)
        #expect(errors == Self.clientOnly(.connectionReset), "the server sent the RST: its application got no error")
        #expect(flow.resetOrigin == ResetOrigin(sender: .server, toward: .client))
    }

    @Test func netfaultsResetIsAttributedToItsRuleAndBothSides() throws {
        var c = Conversation()
        let yaml = "rules:\n  - name: crash\n    match: {from: server, after_bytes: 2KB}\n    action: {reset: both}\n"
        var packets = c.handshake()
        for _ in 0..<3 { packets.append(c.data(from: .server)) }
        packets.append(c.rst(from: .client))  // the client answering a segment in flight after the reset
        let (outcome, errors, flow) = try classify(yaml, packets)
        #expect(outcome == .reset)
        #expect(errors == Errors(client: .connectionReset, server: .connectionReset))
        #expect(flow.resetOrigin == ResetOrigin(sender: .netfault(rule: 0), toward: .both))
    }

    @Test func dataRetransmittedWithoutAnACKIsAborted() throws {
        var c = Conversation()
        let (outcome, errors, flow) = try classify(c.handshake() + [c.data(from: .client), c.retransmit(from: .client), c.retransmit(from: .client)])
        #expect(outcome == .aborted)
        #expect(errors == Self.clientOnly(.connectionAborted), "the server waits to read and sees nothing")
        #expect(errors.client?.description == "ETIMEDOUT / WSAECONNABORTED 10053")
        #expect(flow.abortedSide == .client)
        #expect(flow.fromClient.largestRetransmissionGap == 100_000_000)
    }

    @Test func ACKsNetfaultDroppedDoNotCountAsAcknowledgments() throws {
        var c = Conversation()
        let yaml = "rules:\n  - name: ack-loss\n    match: {from: server, flags: [ack]}\n    action: drop\n"
        let packets = c.handshake() + [c.data(from: .client), c.ack(from: .server), c.retransmit(from: .client)]
        #expect(try classify(yaml, packets).0 == .aborted)
        #expect(try classify(Self.noRules, packets).0 == .open, "with the ACK delivered, the retransmission was spurious")
    }

    @Test func finBothWaysIsClosedAndALateRSTChangesNothing() throws {
        var c = Conversation()
        var packets = c.handshake() + [c.data(from: .server)]
        packets += [c.fin(from: .client), c.fin(from: .server), c.ack(), c.rst(from: .client)]
        #expect(try classify(packets).0 == .closed)
    }

    @Test func simultaneousCloseIsClosed() throws {
        var c = Conversation()
        var packets = c.handshake()
        let clientFIN = c.fin(from: .client)
        let serverFIN = c.fin(from: .server)
        packets += [clientFIN, serverFIN, c.ack(from: .client), c.ack(from: .server)]
        #expect(try classify(packets).0 == .closed)
    }

    @Test func anRSTAfterOnlyOneFINIsAReset() throws {
        var c = Conversation()
        let packets = c.handshake() + [c.fin(from: .server), c.rst(from: .client)]
        #expect(try classify(packets).0 == .reset)
    }

    @Test func aConnectionOpenBeforeNetfaultStartedIsNeverATimeout() throws {
        var c = Conversation()
        _ = c.handshake()  // before netfault
        let (open, _, flow) = try classify([c.data(from: .client), c.data(from: .server)])
        #expect(open == .open)
        #expect(!flow.sawOpening)
        #expect(try classify([c.data(from: .client), c.rst(from: .server)]).0 == .reset)
    }

    @Test func aSilentUDPFlowEndsIdleWhenForgotten() throws {
        var driver = try EngineDriver(Self.noRules)
        driver.send(Conversation(server: "198.18.2.2:53").datagram(from: .client), at: 0)
        driver.engine.expire(at: .milliseconds(31_000))
        #expect(driver.engine.retiredFlows.map(\.outcome) == [.idle])
    }

    @Test func retiredConnectionsBeyondTheRetentionAreCountedOnly() throws {
        var configuration = Engine.Configuration()
        configuration.retainedFlows = 1
        var driver = try EngineDriver(Self.noRules, configuration: configuration)
        for port in 0..<3 {
            driver.send(Conversation(client: "198.18.1.2:\(40000 + port)", server: "198.18.2.2:53").datagram(from: .client), at: 0)
        }
        driver.engine.expire(at: .milliseconds(31_000))
        #expect(driver.engine.retiredFlows.count == 1)
        #expect(driver.engine.unlistedOutcomes == [.idle: 2])
    }
}

extension OutcomeTests {
    /// A SYN-ACK held longer than the client waits never reached it: a connect timeout, even if
    /// netfault lets it go later and the client's stack answers it with an RST.
    @Test func aSYNACKHeldPastTheClientsPatienceIsAConnectTimeout() throws {
        let yaml = "rules:\n  - name: slow\n    match: {from: server, flags: [syn, ack]}\n    action: {hold: 3s}\n"
        var c = Conversation()
        let syn = c.syn()
        let synAck = c.synAck()
        let (outcome, errors, _) = try classify(yaml, [syn, synAck, c.synAgain(), synAck, c.rst(from: .client)])
        #expect(outcome == .connectTimeout)
        #expect(errors == Self.clientOnly(.connectTimedOut))
    }

    @Test func aHeldSYNACKTheClientAcknowledgesCompletesTheHandshake() throws {
        let yaml = "rules:\n  - name: slow\n    match: {from: server, flags: [syn, ack]}\n    action: {hold: 3s}\n"
        var c = Conversation()
        let (outcome, _, flow) = try classify(yaml, [c.syn(), c.synAck(), c.ack()])
        #expect(outcome == .open)
        #expect(flow.established != nil)
    }
}
