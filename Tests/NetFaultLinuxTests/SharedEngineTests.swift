import NetFaultCore
@testable import NetFaultLinux
import Testing

/// Packets are judged at the time their read returned, and queues read on threads of their own:
/// a packet from a read that returned earlier can reach the engine after one from a later read.
struct SharedEngineTests {
    static let datagram = PacketBuilder.udp(source: IPAddress("198.18.1.2")!, destination: IPAddress("198.18.2.2")!,
                                            sourcePort: 40000, destinationPort: 9999, payload: [1, 2, 3])

    static func decide(_ engine: SharedEngine, at time: Instant) throws {
        try datagram.withUnsafeBytes { bytes in
            _ = engine.decide(try Packet(parsing: bytes), bytes: bytes, at: time)
        }
    }

    /// A flow's packet judged at 100 s, then one stamped 1 s (a late reader's), then one at 100.001 s:
    /// the late one counts as 100 s, so the flow stays one connection, not one idle for 99 s and
    /// forgotten (datagram flows are forgotten after 30 s of silence).
    @Test func aLateStampedPacketDoesNotTurnTheEnginesClockBack() throws {
        let ruleSet = try RuleFile.parse("rules:\n  - {name: never, match: {protocol: udp, after: 1h}, action: drop}\n", name: "r.yaml").ruleSet
        let engine = SharedEngine(Engine(ruleSet: ruleSet, seed: 1), capture: nil)
        try Self.decide(engine, at: .seconds(100))
        try Self.decide(engine, at: .seconds(1))
        try Self.decide(engine, at: .seconds(100.001))
        let statistics = engine.withEngine { $0.statistics }
        #expect(statistics.flowsCreated == 1 && statistics.flowsExpired == 0,
                "\(statistics.flowsCreated) flows created, \(statistics.flowsExpired) expired")
        // The status tick, stamped before the last packet, does not turn it back either.
        _ = engine.tick(at: .seconds(2))
        #expect(engine.withEngine { $0.statistics.flowsExpired } == 0)
    }
}
