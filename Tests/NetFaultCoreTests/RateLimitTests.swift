import Testing
@testable import NetFaultCore

/// `{rate: …}` on the engine with a fake clock: departures at the rate after the burst, drops
/// past the queue, buckets shared as `per` says.
struct RateLimitTests {
    static let client = "198.18.1.2:40000"

    /// The departure (ms after 0, nil: dropped) of each of `count` 1 500-byte datagrams sent at 0 ms.
    func departures(_ action: String, count: Int, client: String = client, driver: inout EngineDriver) -> [Double?] {
        let datagram = Conversation(client: client, server: "198.18.2.2:53").datagram(from: .client, 1500 - 28)
        return (0..<count).map { _ in
            switch driver.send(datagram, at: 0).verdict {
            case .accept: return 0
            case .acceptAfter(let due): return Double(due.nanoseconds) / 1e6
            default: return nil
            }
        }
    }

    func driver(_ action: String) throws -> EngineDriver {
        try EngineDriver("rules:\n  - name: r\n    match: {protocol: udp}\n    action: \(action)\n")
    }

    /// 12 Mbit/s is 1.5 MB/s: after a burst of three packets, one 1 500-byte packet a millisecond.
    @Test func packetsLeaveAtTheRateAfterTheBurst() throws {
        var engine = try driver("{rate: 12Mbit, burst: 4500B, queue: 1s}")
        let times = departures("", count: 13, driver: &engine).map { $0! }
        #expect(times.prefix(3) == [0, 0, 0])
        for (index, time) in times.enumerated().dropFirst(3) {
            #expect(abs(time - Double(index - 2)) < 0.001, "packet \(index) at \(time) ms")
        }
    }

    /// 100 packets at 12 Mbit/s take 100 ms less the burst; a queue of 50 ms drops the rest.
    @Test func aFullQueueDrops() throws {
        var engine = try driver("{rate: 12Mbit, burst: 1500B, queue: 50ms}")
        let times = departures("", count: 100, driver: &engine)
        #expect(times.prefix(51).allSatisfy { $0 != nil } && times.dropFirst(51).allSatisfy { $0 == nil }, "\(times.map { $0 ?? -1 })")
        var packets = try driver("{rate: 12Mbit, burst: 1500B, queue: 10 packets}")
        #expect(departures("", count: 30, driver: &packets).count { $0 != nil } == 11, "one through the burst, ten queued")
        var bytes = try driver("{rate: 12Mbit, burst: 1500B, queue: 15000B}")
        #expect(departures("", count: 30, driver: &bytes).count { $0 != nil } == 11)
    }

    /// The bucket refills while idle: later packets go at once again.
    @Test func anIdleBucketRefills() throws {
        var engine = try driver("{rate: 12Mbit, burst: 3000B}")
        let datagram = Conversation(client: Self.client, server: "198.18.2.2:53").datagram(from: .client, 1472)
        #expect(engine.send(datagram, at: 0).verdict == .accept)
        #expect(engine.send(datagram, at: 0).verdict == .accept)
        #expect(engine.send(datagram, at: 0).verdict == .acceptAfter(.milliseconds(1)))
        #expect(engine.send(datagram, at: 10).verdict == .accept)
    }

    @Test func rateZeroDropsEverything() throws {
        var engine = try driver("{rate: 0}")
        #expect(departures("", count: 10, driver: &engine).allSatisfy { $0 == nil })
    }

    /// `per: connection`: two connections each get the whole rate; `per: rule` they share it.
    @Test func bucketsAreSharedAsPerSays() throws {
        for (per, secondStarts) in [("rule", 3.0), ("connection", 0.0)] {
            var engine = try driver("{rate: 12Mbit, burst: 3000B, queue: 1s, per: \(per)}")
            _ = departures("", count: 4, driver: &engine)
            let other = departures("", count: 1, client: "198.18.1.3:40000", driver: &engine)
            #expect(other == [secondStarts], "per \(per)")
        }
        var directions = try driver("{rate: 12Mbit, burst: 1500B, queue: 1s, per: direction}")
        let conversation = Conversation(client: Self.client, server: "198.18.2.2:53")
        #expect(directions.send(conversation.datagram(from: .client, 1472), at: 0).verdict == .accept)
        #expect(directions.send(conversation.datagram(from: .server, 1472), at: 0).verdict == .accept, "the other direction's own bucket")
        #expect(directions.send(conversation.datagram(from: .client, 1472), at: 0).verdict == .acceptAfter(.milliseconds(1)))
    }

    /// A GSO super-packet costs what its segments put on the wire, headers and overhead each.
    @Test func aSuperPacketCostsItsSegments() throws {
        var conversation = Conversation()
        _ = conversation.handshake()
        let superPacket = conversation.data(from: .client, 14_600)   // ten 1 460-byte segments
        let cost = superPacket.withUnsafeBytes { Action.Rate.wireBytes(of: try! Packet(parsing: $0), overhead: 14) }
        #expect(cost == 14_600 + 10 * (40 + 14))
        let small = conversation.data(from: .client, 100)
        #expect(small.withUnsafeBytes { Action.Rate.wireBytes(of: try! Packet(parsing: $0), overhead: 14) } == 140 + 14)
    }

    @Test func checkSaysWhatTheLimitIs() throws {
        let file = try RuleFile.parse("rules:\n  - name: r\n    match: {server_port: 80}\n    action: {rate: 1.5Mbit, burst: 32KiB, queue: 1000 packets, per: direction, overhead: 24}\n", name: "t")
        #expect(file.ruleSet.rules[0].action.summary
            == "limit to 1.5Mbit (burst 32KiB, queue 1000 packets, a bucket per connection and direction, 24 bytes of overhead a packet), dropping past the queue")
        #expect(Units.bitRate("100kbit") == 100_000 && Units.bitRate("1Gbit") == 1_000_000_000 && Units.bitRate("10 Mbit") == 10_000_000)
    }

    @Test(arguments: [
        ("{rate: fast}", "rules[0].action.rate: fast is not a rate: a number and bit, Kbit, Mbit or Gbit (10Mbit), or 0"),
        ("{rate: 10Mbps}", "10Mbps is not a rate"),
        ("{rate: 10Mbit, queue: lots}", "rules[0].action.queue: lots is not a queue limit"),
        ("{rate: 10Mbit, per: host}", "rules[0].action.per: 'host' is not what shares a bucket; use one of rule, connection, direction"),
        ("{rate: 10Mbit, burst: 0B}", "rules[0].action.burst: must be at least 1 byte"),
    ])
    func badLimitsAreRefusedWhereTheyStand(_ action: String, _ message: String) throws {
        do {
            _ = try driver(action)
            Issue.record("\(action) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
