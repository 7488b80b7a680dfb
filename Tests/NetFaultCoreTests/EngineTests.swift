import Testing
@testable import NetFaultCore

/// The engine driven packet by packet with a fake clock. No test sleeps.
struct EngineTests {
    @Test func theThirdConnectionGetsRefused() throws {
        var driver = try EngineDriver("""
            rules:
              - name: third
                match: {server_port: 80, connection: "3", flags: [syn]}
                action: {reject: tcp-reset}
            """)
        var verdicts: [Decision.Verdict] = []
        for index in 0..<4 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)", clientISN: 1000 * UInt32(index + 1))
            let decision = driver.send(conversation.syn(), at: Int64(index))
            verdicts.append(decision.verdict)
            if index == 2 {
                let rst = try #require(decision.injections.first)
                #expect(rst.toward == .client)
                parsed(rst.bytes) { packet in
                    #expect(packet.tcpFlags == [.rst, .ack])
                    #expect(packet.sequenceNumber == 0)
                    #expect(packet.acknowledgmentNumber == 3001)
                    #expect(packet.source.description == "198.18.2.2")
                    #expect(packet.destinationPort == 40002)
                }
            }
        }
        #expect(verdicts == [.accept, .accept, .drop, .accept])
        #expect(driver.engine.ruleStatistics[0] == .init(fired: 1, connections: 1))
    }

    /// Rules 0-63 are preselected per connection by their endpoint fields, the rest checked per
    /// packet: either way the first rule that matches acts, in rule-file order, past rule 64 too.
    @Test func firstMatchHoldsAcrossSeventyRules() throws {
        var yaml = "rules:\n"
        for index in 0..<70 {
            // Rule N drops ACKs to port 2000+N; rules 3 and 10 instead drop ACKs to port 80, rules 66
            // and 68 SYNs to port 80.
            let port = [3, 10, 66, 68].contains(index) ? 80 : 2000 + index
            yaml += "  - {name: r\(index), match: {server_port: \(port), flags: [\(index >= 66 && port == 80 ? "syn" : "ack")]}, action: drop}\n"
        }
        var driver = try EngineDriver(yaml)
        for port in [2005, 2063, 2064, 2069] {
            var conversation = Conversation(client: "198.18.1.2:\(30000 + port)", server: "198.18.2.2:\(port)")
            #expect(driver.send(conversation.syn()).rule == nil)
            #expect(driver.send(conversation.ack()).rule == port - 2000)
        }
        var web = Conversation(client: "198.18.1.2:40000", server: "198.18.2.2:80")
        #expect(driver.send(web.syn()).rule == 66, "rules 66 and 68 match a SYN to port 80: the first acts")
        #expect(driver.send(web.ack()).rule == 3, "rules 3 and 10 match an ACK to port 80: the first acts")
    }

    /// The side, flags and connection fields are checked by masks for rules 0-63 and field by
    /// field past them: a rule on connection 2 past rule 64, one on connection 3 among the first
    /// 64, and one on the server's packets of connection 4 each act on their connection only.
    @Test func connectionSideAndFlagsHoldInsideAndPastTheMasks() throws {
        var yaml = """
            rules:
              - {name: filler, match: {server_port: 9}, action: drop}
              - {name: third, match: {server_port: 80, connection: "3", flags: [syn]}, action: drop}
              - {name: fourth-server, match: {server_port: 80, connection: "4", from: server}, action: drop}

            """
        for index in 3..<65 { yaml += "  - {name: r\(index), match: {server_port: \(9000 + index)}, action: drop}\n" }
        yaml += "  - {name: second, match: {server_port: 80, connection: \"2\", flags: [syn]}, action: drop}\n"
        var driver = try EngineDriver(yaml)
        var dropped: [String] = []
        for index in 1...5 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)")
            for (name, packet) in [("syn", conversation.syn()), ("syn-ack", conversation.synAck()), ("ack", conversation.ack())]
            where driver.send(packet).verdict == .drop {
                dropped.append("\(index) \(name)")
            }
        }
        #expect(dropped == ["2 syn", "3 syn", "4 syn-ack"])
        #expect(driver.engine.ruleStatistics[65].fired == 1 && driver.engine.ruleStatistics[1].fired == 1)
    }

    /// The engine is a value: its flows (and their rule state) are stored by reference and changed
    /// in place, but a copy that goes on processing packets leaves the original's as they were.
    @Test func aCopiedEngineKeepsItsOwnFlows() throws {
        var original = try EngineDriver("rules: [{name: late, match: {server_port: 80, from: client, nth: 100}, action: drop}]")
        var conversation = Conversation(client: "198.18.1.2:40000")
        for packet in conversation.handshake() { original.send(packet) }
        var copy = original
        copy.send(conversation.data(from: .client, 500))
        copy.send(conversation.fin(from: .client))
        var other = Conversation(client: "198.18.1.3:40001")
        copy.send(other.syn())

        let before = try #require(original.onlyFlow)
        #expect(before.fromClient.payloadBytes == 0 && !before.fromClient.finSeen)
        let originalSlot = try #require(original.engine.table.slot(for: before.key))
        #expect(original.engine.table[originalSlot, rule: 0].matchingPackets == 2, "SYN and ACK")

        #expect(copy.engine.trackedFlowCount == 2)
        let copied = try #require(copy.engine.flows.first { $0.client.port == 40000 })
        #expect(copied.fromClient.payloadBytes == 500 && copied.fromClient.finSeen)
        let copiedSlot = try #require(copy.engine.table.slot(for: copied.key))
        #expect(copy.engine.table[copiedSlot, rule: 0].matchingPackets == 4, "SYN, ACK, data, FIN")
    }

    @Test func afterBytesFiresAtTheRightPacketAndResetsBothSides() throws {
        var driver = try EngineDriver("""
            rules:
              - name: crash
                match: {from: server, after_bytes: 3000B}
                action: {reset: both}
            """)
        var conversation = Conversation()
        for packet in conversation.handshake() { #expect(driver.send(packet).verdict == .accept) }
        for _ in 0..<3 { #expect(driver.send(conversation.data(from: .server)).verdict == .accept) }
        let serverSeq = conversation.serverNext
        let clientSeq = conversation.clientNext
        let decision = driver.send(conversation.data(from: .server), at: 10)
        #expect(decision.verdict == .drop)
        #expect(decision.rule == 0)
        #expect(decision.injections.map(\.toward) == [.server, .client])
        // Toward the sender (the server): seq = the packet's ack, which is what the server expects next.
        parsed(decision.injections[0].bytes) { rst in
            #expect(rst.tcpFlags == [.rst])
            #expect(rst.sequenceNumber == clientSeq)
            #expect(rst.source.description == "198.18.1.2")
            #expect(rst.destinationPort == 80)
        }
        // Toward the receiver (the client): seq = the packet's seq, the client's next expected byte.
        parsed(decision.injections[1].bytes) { rst in
            #expect(rst.tcpFlags == [.rst, .ack])
            #expect(rst.sequenceNumber == serverSeq)
            #expect(rst.source.description == "198.18.2.2")
            #expect(rst.destinationPort == 40000)
        }
        let flow = try #require(driver.onlyFlow)
        #expect(flow.injectedReset == InjectedReset(rule: 0, toward: .both, at: .milliseconds(10)))
        #expect(flow.isClosed)
    }

    @Test func resetTowardASYNsSenderAcknowledgesTheSYN() throws {
        var driver = try EngineDriver("rules:\n  - name: r\n    match: {flags: [syn]}\n    action: {reset: client}\n")
        var conversation = Conversation(clientISN: 0xFFFF_FFFF)
        let decision = driver.send(conversation.syn())
        #expect(decision.verdict == .drop)
        parsed(decision.injections[0].bytes) { rst in
            #expect(rst.tcpFlags == [.rst, .ack])
            #expect(rst.acknowledgmentNumber == 0)  // ISN + 1 wraps
        }
    }

    @Test func holdReleasesAtTheDeadline() throws {
        var driver = try EngineDriver("rules:\n  - name: slow\n    match: {flags: [syn, ack]}\n    action: {hold: 2s}\n")
        var conversation = Conversation()
        #expect(driver.send(conversation.syn(), at: 0).verdict == .accept)
        #expect(driver.send(conversation.synAck(), at: 5).verdict == .acceptAfter(.milliseconds(2005)))
        #expect(driver.send(conversation.ack(), at: 2010).verdict == .accept)
    }

    @Test func holdForeverLastsUntilTheRunEnds() throws {
        var driver = try EngineDriver("rules:\n  - name: av\n    match: {from: client, payload: scan}\n    action: {hold: forever}\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        #expect(driver.send(conversation.data(from: .client, payload: Array("please scan me".utf8))).verdict == .holdUntilEnd)
    }

    @Test func delayWithJitterStaysWithinBoundsAndRepeatsWithTheSeed() throws {
        let yaml = "rules:\n  - name: lag\n    match: {protocol: udp}\n    action: {delay: 100ms, jitter: 20ms}\n"
        func deadlines(seed: UInt64) throws -> [Int64] {
            var driver = try EngineDriver(yaml, seed: seed)
            let conversation = Conversation(server: "198.18.2.2:53")
            return (0..<50).map { index in
                guard case .acceptAfter(let deadline) = driver.send(conversation.datagram(from: .client), at: Int64(index)).verdict else { return -1 }
                return deadline.nanoseconds - Int64(index) * 1_000_000
            }
        }
        let first = try deadlines(seed: 7)
        #expect(first.allSatisfy { (80_000_000...120_000_000).contains($0) })
        #expect(Set(first).count > 10)
        #expect(try deadlines(seed: 7) == first)
        #expect(try deadlines(seed: 8) != first)
    }

    @Test func retransmissionsAreCountedWithTheLargestGap() throws {
        var driver = try EngineDriver("rules:\n  - name: unused\n    match: {server_port: 9}\n    action: drop\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        driver.send(conversation.data(from: .client), at: 0)
        for time in [200, 600, 1400] as [Int64] { driver.send(conversation.retransmit(from: .client), at: time) }
        driver.send(conversation.data(from: .server, 500), at: 1500)
        let flow = try #require(driver.onlyFlow)
        #expect(flow.fromClient.retransmissions == 3)
        #expect(flow.fromClient.payloadBytes == 1000)
        #expect(flow.fromClient.largestRetransmissionGap == 800_000_000)
        #expect(flow.fromServer.retransmissions == 0)
        #expect(flow.fromServer.payloadBytes == 500)
        #expect(flow.fromClient.packets == 6)
    }

    @Test func retransmittedSYNIsCountedAndStaysOneConnection() throws {
        var driver = try EngineDriver("rules:\n  - name: count\n    match: {connection: \"2\"}\n    action: drop\n")
        var conversation = Conversation()
        driver.send(conversation.syn(), at: 0)
        driver.send(conversation.synAgain(), at: 1000)
        driver.send(conversation.synAgain(), at: 3000)
        #expect(driver.send(conversation.synAck(), at: 3001).verdict == .accept)
        #expect(driver.send(conversation.ack(), at: 3002).verdict == .accept)
        let flow = try #require(driver.onlyFlow)
        #expect(flow.fromClient.retransmissions == 2)
        #expect(flow.fromClient.largestRetransmissionGap == 2_000_000_000)
        #expect(flow.established == .milliseconds(3002))
        #expect(driver.engine.statistics.flowsCreated == 1)
    }

    @Test func nthActsOnlyOnTheNthMatchingPacket() throws {
        var driver = try EngineDriver("rules:\n  - name: third-data\n    match: {from: client, flags: [ack, psh], nth: 3}\n    action: drop\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        let verdicts = (0..<5).map { _ in driver.send(conversation.data(from: .client)).verdict }
        #expect(verdicts == [.accept, .accept, .drop, .accept, .accept])
    }

    @Test func idleAndAfterMeasureTheFakeClock() throws {
        var driver = try EngineDriver("""
            rules:
              - name: forgotten
                match: {idle: 10s}
                action: drop
              - name: late
                match: {after: 2s, from: server}
                action: {reject: tcp-reset}
            """)
        var conversation = Conversation()
        driver.send(conversation.syn(), at: 0)
        driver.send(conversation.synAck(), at: 1)
        driver.send(conversation.ack(), at: 2)
        #expect(driver.send(conversation.data(from: .client), at: 9_000).verdict == .accept)
        #expect(driver.send(conversation.data(from: .client), at: 18_999).verdict == .accept)
        #expect(driver.send(conversation.data(from: .client), at: 29_000).rule == 0)
        #expect(driver.send(conversation.data(from: .server), at: 29_001).rule == 1)
    }

    @Test func firstMatchWinsAndLaterRulesAreNotConsulted() throws {
        var driver = try EngineDriver("""
            rules:
              - name: allow-health
                match: {payload: "GET /health"}
                action: pass
              - name: drop-rest
                match: {from: client, flags: [ack, psh]}
                action: drop
            """)
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        let health = driver.send(conversation.data(from: .client, payload: Array("GET /health HTTP/1.1\r\n".utf8)))
        #expect(health.verdict == .accept && health.rule == 0)
        #expect(driver.send(conversation.data(from: .client)).rule == 1)
        #expect(driver.engine.ruleStatistics.map(\.fired) == [1, 1])
    }

    @Test func probabilityZeroAndOneAndSeededFractions() throws {
        func fired(_ probability: String, seed: UInt64) throws -> Int {
            var driver = try EngineDriver("rules:\n  - name: p\n    match: {protocol: udp, probability: \(probability)}\n    action: drop\n", seed: seed)
            let conversation = Conversation(server: "198.18.2.2:53")
            for index in 0..<1000 { driver.send(conversation.datagram(from: .client), at: Int64(index)) }
            return driver.engine.ruleStatistics[0].fired
        }
        #expect(try fired("0", seed: 1) == 0)
        #expect(try fired("1", seed: 1) == 1000)
        let tenth = try fired("0.1", seed: 42)
        #expect((60...140).contains(tenth))
        #expect(try fired("0.1", seed: 42) == tenth)
    }

    @Test func payloadMatchResetsOnlyTheConnectionCarryingIt() throws {
        var driver = try EngineDriver("""
            rules:
              - name: antivirus
                match: {payload: "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"}
                action: {reset: both}
            """)
        var clean = Conversation(client: "198.18.1.2:40001")
        var infected = Conversation(client: "198.18.1.2:40002")
        for packet in clean.handshake() + infected.handshake() { driver.send(packet) }
        #expect(driver.send(clean.data(from: .server, 1400)).verdict == .accept)
        let eicar = Array(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8)
        #expect(driver.send(infected.data(from: .server, payload: eicar)).verdict == .drop)
        let flows = Array(driver.engine.flows).sorted { $0.client.port < $1.client.port }
        #expect(flows.map { $0.injectedReset != nil } == [false, true])
        #expect(driver.engine.ruleStatistics[0] == .init(fired: 1, connections: 1))
    }

    @Test func connectionLimitRefusesBeyondNAndRecoversWhenOneCloses() throws {
        var driver = try EngineDriver("""
            rules:
              - name: limit
                match: {server_port: 80, concurrent_over: 2, flags: [syn]}
                action: {reject: tcp-reset}
            """)
        var first = Conversation(client: "198.18.1.2:40001")
        var second = Conversation(client: "198.18.1.2:40002")
        var third = Conversation(client: "198.18.1.2:40003")
        var fourth = Conversation(client: "198.18.1.2:40004")
        for packet in first.handshake() + second.handshake() { #expect(driver.send(packet).verdict == .accept) }
        #expect(driver.send(third.syn()).verdict == .drop)
        driver.send(first.fin(from: .client))
        driver.send(first.fin(from: .server))
        #expect(driver.send(fourth.syn()).verdict == .accept)
    }

    @Test func connectionsOpenBeforeNetfaultStartedGetSidesFromTheRules() throws {
        var driver = try EngineDriver("rules:\n  - name: crash\n    match: {server_port: 8080, from: server}\n    action: drop\n")
        var conversation = Conversation(client: "198.18.1.2:9000", server: "198.18.2.2:8080")
        // First packet seen is the server's data: no SYN, sides come from server_port.
        #expect(driver.send(conversation.data(from: .server)).verdict == .drop)
        let flow = try #require(driver.onlyFlow)
        #expect(flow.server.port == 8080)
        #expect(!flow.sawOpening)
    }

    @Test func withoutAHintTheLowerPortIsTheServer() throws {
        var driver = try EngineDriver("rules:\n  - name: r\n    match: {protocol: udp}\n    action: pass\n  - name: t\n    match: {from: server}\n    action: drop\n")
        var conversation = Conversation(client: "198.18.1.2:51000", server: "198.18.2.2:443")
        #expect(driver.send(conversation.data(from: .client)).verdict == .accept)
        #expect(driver.send(conversation.data(from: .server)).verdict == .drop)
        #expect(driver.onlyFlow?.server.port == 443)
    }

    @Test func aNewSYNOnAClosedConnectionStartsTheNextConnection() throws {
        var driver = try EngineDriver("rules:\n  - name: second\n    match: {connection: \"2\", flags: [syn]}\n    action: drop\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        driver.send(conversation.rst(from: .client))
        var again = Conversation(clientISN: 77_777)
        #expect(driver.send(again.syn()).verdict == .drop)
        #expect(driver.engine.statistics.flowsCreated == 2)
    }

    @Test func duplicateInjectsCopiesTowardTheReceiver() throws {
        var driver = try EngineDriver("rules:\n  - name: dup\n    match: {protocol: udp}\n    action: {duplicate: 2}\n")
        let datagram = Conversation(server: "198.18.2.2:53").datagram(from: .client)
        let decision = driver.send(datagram)
        #expect(decision.verdict == .accept)
        #expect(decision.injections == Array(repeating: Injection(bytes: datagram, toward: .server), count: 2))
    }

    /// A packet the kernel queued before its checksum was computed (veth, GSO) carries only the
    /// pseudo-header sum; a copy sent as is would be discarded by the receiver.
    @Test func duplicatesOfAChecksumPartialPacketCarryTheCompleteChecksum() throws {
        var driver = try EngineDriver("rules:\n  - name: dup\n    match: {protocol: udp}\n    action: {duplicate: 1}\n")
        var datagram = Conversation(server: "198.18.2.2:53").datagram(from: .client)
        datagram[26] = 0x12  // UDP checksum (IPv4 header 20 + 6): no longer the complete one
        datagram[27] = 0x34
        #expect(try !transportChecksumVerifies(datagram))
        let decision = driver.send(datagram)
        #expect(decision.verdict == .accept)
        #expect(decision.injections.count == 1)
        #expect(try decision.injections.allSatisfy { try transportChecksumVerifies($0.bytes) })
    }

    @Test func rewriteReplacesThePacket() throws {
        var driver = try EngineDriver("rules:\n  - name: zero-window\n    match: {from: client}\n    action: {rewrite: {window: 0}}\n")
        var conversation = Conversation()
        guard case .replace(let bytes) = driver.send(conversation.syn()).verdict else {
            Issue.record("expected a replacement")
            return
        }
        parsed(bytes) { packet in
            #expect(packet.window == 0)
            #expect(packet.tcpFlags == [.syn])
        }
    }

    @Test func udpRejectAnswersWithICMPPortUnreachable() throws {
        var driver = try EngineDriver("rules:\n  - name: closed\n    match: {protocol: udp, server_port: 53}\n    action: {reject: icmp-port-unreachable}\n")
        let decision = driver.send(Conversation(server: "198.18.2.2:53").datagram(from: .client))
        #expect(decision.verdict == .drop)
        #expect(decision.injections.first?.toward == .client)
        parsed(decision.injections[0].bytes) { icmp in
            #expect(icmp.transport == .icmp)
            #expect(icmp.icmpType == 3 && icmp.icmpCode == 3)
            #expect(icmp.destination.description == "198.18.1.2")
        }
    }

    @Test func ipv6ConnectionsAreTrackedLikeIPv4() throws {
        var driver = try EngineDriver("rules:\n  - name: v6\n    match: {server: \"2001:db8:2::/64\", from: server, after_bytes: 1KB}\n    action: {reset: both}\n")
        var conversation = Conversation(client: "[2001:db8:1::2]:40000", server: "[2001:db8:2::2]:80")
        for packet in conversation.handshake() { driver.send(packet) }
        #expect(driver.send(conversation.data(from: .server)).verdict == .accept)
        let decision = driver.send(conversation.data(from: .server))
        #expect(decision.verdict == .drop)
        parsed(decision.injections[1].bytes) { #expect($0.family == .v6 && $0.tcpFlags.contains(.rst)) }
    }

    @Test func datagramFlowsExpireAfterThirtySecondsAndClosedConnectionsAfterTen() throws {
        var driver = try EngineDriver("rules:\n  - name: r\n    match: {server_port: 9}\n    action: drop\n")
        var tcp = Conversation()
        for packet in tcp.handshake() { driver.send(packet, at: 0) }
        driver.send(tcp.fin(from: .client), at: 1)
        driver.send(tcp.fin(from: .server), at: 2)
        driver.send(Conversation(server: "198.18.2.2:53").datagram(from: .client), at: 3)
        #expect(driver.engine.trackedFlowCount == 2)
        driver.engine.expire(at: .milliseconds(10_003))
        #expect(driver.engine.trackedFlowCount == 1)
        driver.engine.expire(at: .milliseconds(30_004))
        #expect(driver.engine.trackedFlowCount == 0)
        #expect(driver.engine.statistics.flowsExpired == 2)
    }

    @Test func idleRulesKeepConnectionsLongerThanTheirIdle() throws {
        var configuration = Engine.Configuration()
        configuration.datagramTimeout = .seconds(30)
        var driver = try EngineDriver("rules:\n  - name: nat\n    match: {protocol: udp, idle: 60s}\n    action: drop\n", configuration: configuration)
        let conversation = Conversation(server: "198.18.2.2:53")
        driver.send(conversation.datagram(from: .client), at: 0)
        #expect(driver.send(conversation.datagram(from: .client), at: 61_000).verdict == .drop)
    }

    @Test func aFullTableEvictsTheLeastRecentlyActive() throws {
        var configuration = Engine.Configuration()
        configuration.flowCapacity = 3
        var driver = try EngineDriver("rules:\n  - name: r\n    match: {server_port: 9}\n    action: drop\n", configuration: configuration)
        for index in 0..<3 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)")
            driver.send(conversation.syn(), at: Int64(index))
        }
        var oldest = Conversation(client: "198.18.1.2:40000", clientISN: 1001)
        driver.send(oldest.data(from: .client), at: 10)  // 40000 is now the most recent
        var newcomer = Conversation(client: "198.18.1.2:50000")
        driver.send(newcomer.syn(), at: 11)
        let ports = Set(driver.engine.flows.map(\.client.port))
        #expect(ports == [40000, 40002, 50000])
        #expect(driver.engine.statistics.flowsEvicted == 1)
    }

    /// A connection evicted from a full table is forgotten, not closed: the one that took its
    /// place began while it was still open, and `concurrent_over` counts it.
    @Test func anEvictedConnectionStillCountsAsOpenForTheOneReplacingIt() throws {
        var configuration = Engine.Configuration()
        configuration.flowCapacity = 3
        var driver = try EngineDriver("""
            rules:
              - {name: busy, match: {server_port: 80, concurrent_over: 3, flags: [syn]}, action: {reject: tcp-reset}}
            """, configuration: configuration)
        for index in 0..<3 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)")
            for packet in conversation.handshake() { driver.send(packet, at: Int64(index)) }
        }
        var fourth = Conversation(client: "198.18.1.2:40003")
        #expect(driver.send(fourth.syn(), at: 10).verdict == .drop, "three others open when it began")
        #expect(driver.engine.statistics.flowsEvicted == 1)
    }

    /// `flows:` in the rule file bounds the table and the report's list; the peak is recorded.
    @Test func theRuleFilesFlowLimitsBoundTheTableAndTheList() throws {
        var driver = try EngineDriver("flows: {max_tracked: 2, max_listed: 1}\nrules:\n  - name: r\n    match: {server_port: 9}\n    action: drop\n")
        for index in 0..<5 {
            var conversation = Conversation(client: "198.18.1.2:\(40000 + index)")
            driver.send(conversation.syn(), at: Int64(index))
        }
        #expect(driver.engine.trackedFlowCount == 2)
        #expect(driver.engine.statistics.flowsPeak == 2)
        #expect(driver.engine.statistics.flowsEvicted == 3)
        #expect(driver.engine.retiredFlows.count == 1, "one evicted connection listed, the others only counted")
    }

    /// A headers-only capture reaching a rule that rebuilds packets (which the queue never lets
    /// happen) is let through as it is, not cut short or read past its end.
    @Test(arguments: ["{rewrite: {window: 0}}", "{duplicate: 2}"])
    func aTruncatedCaptureIsNeverRebuilt(_ action: String) throws {
        var driver = try EngineDriver("rules:\n  - {name: r, match: {from: client}, action: \(action)}\n")
        var conversation = Conversation()
        for packet in conversation.handshake() { driver.send(packet) }
        let data = conversation.data(from: .client, 3000)
        let decision = try Array(data.prefix(200)).withUnsafeBytes { cut in
            driver.engine.process(try Packet(parsing: cut, originalLength: data.count), at: .milliseconds(5))
        }
        #expect(decision.verdict == .accept && decision.injections.isEmpty)
    }

    @Test func fragmentsWithoutATransportHeaderAreAcceptedUntracked() throws {
        var driver = try EngineDriver("rules:\n  - name: all\n    action: drop\n")
        var fragment = PacketBuilder.udp(source: IPAddress("198.18.1.2")!, destination: IPAddress("198.18.2.2")!,
                                         sourcePort: 1, destinationPort: 2, payload: Array(repeating: 0, count: 32))
        fragment[6] = 0x00
        fragment[7] = 0x10  // fragment offset 16 × 8 bytes: a non-initial fragment
        #expect(driver.send(fragment).verdict == .accept)
        #expect(driver.engine.statistics.untracked == 1)
    }
}

extension EngineTests {
    /// A firewall that forgot an idle connection keeps dropping it: the retransmissions that come
    /// soon after the first dropped packet are not idle any more, yet they are dropped too.
    @Test func aStickyRuleKeepsActingOnTheConnection() throws {
        var driver = try EngineDriver("rules:\n  - name: forgot\n    match: {idle: 10s}\n    action: drop\n    sticky: true\n")
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet, at: 0) }
        #expect(driver.send(c.data(from: .client), at: 1000).verdict == .accept)
        #expect(driver.send(c.data(from: .client), at: 20_000).verdict == .drop)
        #expect(driver.send(c.retransmit(from: .client), at: 20_300).verdict == .drop, "not idle, but the firewall forgot the connection")
        #expect(driver.send(c.ack(from: .server), at: 20_400).verdict == .drop)
        #expect(driver.engine.ruleStatistics[0] == Engine.RuleStatistics(fired: 3, connections: 1))
        var other = Conversation(client: "198.18.1.2:40001")
        #expect(driver.send(other.syn(), at: 20_500).verdict == .accept, "other connections are not affected")
    }

    @Test func withoutStickyOnlyTheFirstPacketAfterTheSilenceMatches() throws {
        var driver = try EngineDriver("rules:\n  - name: forgot\n    match: {idle: 10s}\n    action: drop\n")
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet, at: 0) }
        #expect(driver.send(c.data(from: .client), at: 20_000).verdict == .drop)
        #expect(driver.send(c.retransmit(from: .client), at: 20_300).verdict == .accept)
    }
}
