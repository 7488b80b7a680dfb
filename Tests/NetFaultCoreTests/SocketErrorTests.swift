import Testing
@testable import NetFaultCore

/// Each side's error follows its socket's state when an RST reached it (Linux `tcp_reset()`), and
/// only RSTs the receiver's stack takes count (RFC 5961 §3.2).
struct SocketErrorTests {
    typealias Errors = RunReport.PerSide<SocketError?>

    func classify(_ packets: [[UInt8]], rules: String = OutcomeTests.noRules) throws -> (ConnectionOutcome, Errors) {
        var driver = try EngineDriver(rules)
        for (index, packet) in packets.enumerated() { driver.send(packet, at: Int64(index) * 100) }
        let flow = try #require(driver.onlyFlow)
        let outcome = flow.outcome()
        return (outcome, flow.socketErrors(for: outcome))
    }

    /// A server that answers early and closes while the client still uploads: its FIN reaches the
    /// client, the client's next data meets a closed socket, whose RST finds the client in
    /// CLOSE-WAIT. The client's send fails with EPIPE (Windows: WSAECONNABORTED 10053).
    @Test func anRSTAfterThePeersFINIsABrokenPipe() throws {
        var c = Conversation()
        let packets = c.handshake() + [c.data(from: .client), c.data(from: .server, 200), c.fin(from: .server),
                                       c.data(from: .client), c.rst(from: .server)]
        let (outcome, errors) = try classify(packets)
        #expect(outcome == .reset)
        #expect(errors == Errors(client: .brokenPipe, server: nil))
        #expect(errors.client?.description == "EPIPE / WSAECONNABORTED 10053")
    }

    /// In CLOSE-WAIT Linux also takes an RST one below RCV.NXT (`tcp_reset_check()`).
    @Test func inCloseWaitAnRSTOneBelowTheExpectedSequenceCounts() throws {
        var c = Conversation()
        var packets = c.handshake() + [c.fin(from: .server)]
        packets.append(c.rst(from: .server, seq: c.serverNext &- 1))
        #expect(try classify(packets) == (.reset, Errors(client: .brokenPipe, server: nil)))
    }

    /// The client shut down its writing (FIN) and still reads; the server's RST resets it.
    @Test func anRSTAfterOurOwnFINIsAReset() throws {
        var c = Conversation()
        let packets = c.handshake() + [c.data(from: .client), c.fin(from: .client), c.data(from: .server), c.rst(from: .server)]
        #expect(try classify(packets) == (.reset, Errors(client: .connectionReset, server: nil)))
    }

    /// "Reset by client → server": the server's application gets ECONNRESET, the client's (which
    /// aborted) none.
    @Test func theClientsRSTResetsTheServerOnly() throws {
        var c = Conversation()
        let packets = c.handshake() + [c.data(from: .client), c.data(from: .server), c.rst(from: .client)]
        #expect(try classify(packets) == (.reset, Errors(client: nil, server: .connectionReset)))
    }

    @Test(arguments: [("server", Errors(client: nil, server: .connectionReset)),
                      ("client", Errors(client: .connectionReset, server: nil)),
                      ("both", Errors(client: .connectionReset, server: .connectionReset))])
    func netfaultsRSTsResetTheSidesTheyGoTo(_ target: String, _ expected: Errors) throws {
        var c = Conversation()
        let rules = "rules:\n  - name: cut\n    match: {from: client, payload: \"CUT\"}\n    action: {reset: \(target)}\n"
        let packets = c.handshake() + [c.data(from: .server), c.data(from: .client, payload: Array("CUT".utf8))]
        #expect(try classify(packets, rules: rules) == (.reset, expected))
    }

    /// netfault resets both sides after the server's FIN reached the client: the client is in
    /// CLOSE-WAIT (EPIPE), the server in FIN-WAIT (ECONNRESET).
    @Test func netfaultsRSTsFollowEachSidesState() throws {
        var c = Conversation()
        let rules = "rules:\n  - name: cut\n    match: {from: client, payload: \"CUT\"}\n    action: {reset: both}\n"
        let packets = c.handshake() + [c.fin(from: .server), c.data(from: .client, payload: Array("CUT".utf8))]
        #expect(try classify(packets, rules: rules) == (.reset, Errors(client: .brokenPipe, server: .connectionReset)))
    }

    /// 50 forged RSTs with sequence numbers outside the window, and one inside it but not the
    /// expected one (answered by a challenge ACK), change nothing: both applications finish normally.
    @Test func rstsTheReceiverDoesNotTakeResetNothing() throws {
        var c = Conversation()
        var packets = c.handshake() + [c.data(from: .client), c.data(from: .server)]
        var generator = SeededGenerator(seed: 5)
        for index in 0..<50 {
            let side: Side = index % 2 == 0 ? .client : .server
            let next = side == .client ? c.clientNext : c.serverNext
            packets.append(c.rst(from: side, seq: next &+ 1_000_000 &+ UInt32.random(in: 0...1_000_000_000, using: &generator)))
        }
        packets.append(c.rst(from: .server, seq: c.serverNext &+ 10))
        packets += [c.data(from: .client), c.data(from: .server)]
        #expect(try classify(packets) == (.open, Errors(client: nil, server: nil)))
        packets += [c.fin(from: .client), c.fin(from: .server), c.ack()]
        #expect(try classify(packets) == (.closed, Errors(client: nil, server: nil)))
    }

    /// In SYN-SENT only an RST that acknowledges the SYN is taken (RFC 9293 §3.10.7.3): a bare
    /// one is ignored, and the connect times out.
    @Test func inSYNSentAnRSTWithoutTheRightACKIsIgnored() throws {
        var c = Conversation()
        let syn = c.syn()
        let packets = [syn, c.rst(from: .server), c.synAgain(), c.rst(from: .server, seq: 0)]
        #expect(try classify(packets) == (.connectTimeout, Errors(client: .connectTimedOut, server: nil)))
        #expect(try classify([syn, c.refusal()]).0 == .refused)
    }
}
