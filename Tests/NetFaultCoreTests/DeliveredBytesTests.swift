import Testing
@testable import NetFaultCore

/// `bytes` counts what reached each side: new payload its acknowledgments took in, and what was
/// delivered after its last acknowledgment; never what netfault dropped.
struct DeliveredBytesTests {
    static let dropAfterTwo = "rules:\n  - name: crash\n    match: {from: server, nth: 4}\n    action: drop\n    sticky: true\n"

    /// Two segments delivered (one acknowledged), then everything of the server's dropped, as
    /// after a crash: 2000 bytes reached the client, whatever the server sent after.
    @Test func whatNetfaultDroppedNeverCounts() throws {
        var driver = try EngineDriver(Self.dropAfterTwo)
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet) }
        driver.send(c.data(from: .server, 1000))
        driver.send(c.ack())
        driver.send(c.data(from: .server, 1000))
        for _ in 0..<5 { driver.send(c.data(from: .server, 1000)) }
        driver.send(c.retransmit(from: .server, 1000))
        let flow = try #require(driver.onlyFlow)
        #expect(flow.fromServer.payloadBytes == 2000)
        #expect(flow.fromServer.dropped == 6)
    }

    /// A segment dropped once and retransmitted: once the client acknowledges past it, it counts
    /// once; a copy of what was acknowledged already never counts again.
    @Test func aDroppedSegmentCountsOnceItsRetransmissionGotThrough() throws {
        var driver = try EngineDriver("rules:\n  - name: lossy\n    match: {from: server, nth: 2}\n    action: drop\n")
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet) }
        let first = c.data(from: .server, 1000)
        let second = c.data(from: .server, 1000)
        let third = c.data(from: .server, 1000)
        driver.send(first)
        driver.send(second)  // dropped
        driver.send(third)
        driver.send(second)  // the retransmission, delivered
        driver.send(c.ack())
        driver.send(third)  // a spurious copy
        let flow = try #require(driver.onlyFlow)
        #expect(flow.fromServer.payloadBytes == 3000)
        #expect(flow.fromServer.dropped == 1)
    }

    /// An acknowledgment beyond anything the server sent (forged) counts nothing.
    @Test func anAcknowledgmentOfUnsentDataCountsNothing() throws {
        var driver = try EngineDriver(OutcomeTests.noRules)
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet) }
        driver.send(c.data(from: .server, 500))
        c.serverNext &+= 1_000_000
        driver.send(c.ack())
        #expect(try #require(driver.onlyFlow).fromServer.payloadBytes == 500)
    }

    /// The SYN and the FIN take sequence numbers but carry no payload.
    @Test func synAndFINAreNotPayload() throws {
        var driver = try EngineDriver(OutcomeTests.noRules)
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet) }
        driver.send(c.data(from: .client, 300))
        driver.send(c.fin(from: .client))
        driver.send(c.fin(from: .server))
        driver.send(c.ack())
        let flow = try #require(driver.onlyFlow)
        #expect(flow.fromClient.payloadBytes == 300 && flow.fromServer.payloadBytes == 0)
    }

    @Test func droppedDatagramsAreNotCounted() throws {
        var driver = try EngineDriver("rules:\n  - name: lossy\n    match: {protocol: udp, nth: 2}\n    action: drop\n")
        let c = Conversation(server: "198.18.2.2:53")
        for _ in 0..<3 { driver.send(c.datagram(from: .client, 100)) }
        #expect(try #require(driver.onlyFlow).fromClient.payloadBytes == 200)
    }
}
