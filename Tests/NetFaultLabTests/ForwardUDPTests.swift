import Foundation
import Testing

extension LabTests {
    /// UDP through netfault on the middlebox: a Python client on a connected socket sends numbered
    /// datagrams to an echo server and reports replies, round-trip times and errno.
    @Suite struct ForwardUDP {
        static let echoPort = "7000"

        /// Starts the echo server and netfault with one rule acting on the echo flow.
        func lab(action: String, from side: String) throws -> (Lab, Background) {
            let lab = try Lab()
            do {
                _ = try lab.peerServer(["udp-echo", Self.echoPort])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: udp-fault
                        match: {protocol: udp, server_port: \(Self.echoPort), from: \(side)}
                        action: \(action)
                    """)
                return (lab, netfault)
            } catch {
                lab.close()
                throw error
            }
        }

        func udpClient(_ lab: Lab, _ family: Lab.Family, count: Int, timeout: Double) throws -> [String: Any] {
            try lab.peer(lab.client, ["udp-client", Lab.serverAddress[family]!, Self.echoPort,
                                      "--count", "\(count)", "--timeout", "\(timeout)"])
        }

        @Test(arguments: Lab.Family.allCases)
        func droppedDatagramsGetNoReply(_ family: Lab.Family) throws {
            let (lab, netfault) = try lab(action: "drop", from: "client")
            defer { lab.close() }
            let result = try udpClient(lab, family, count: 5, timeout: 0.3)
            #expect(result["replies"] as? Int == 0, "\(result)")
            #expect(result["errors"] as? [String] == Array(repeating: "timeout", count: 5), "\(result)")
            let report = try lab.stop(netfault).report
            #expect(report.rule("udp-fault")?.fired == 5 && report.rule("udp-fault")?.connections == 1)
            #expect(report.faulted.map(\.protocol) == ["udp"])
        }

        @Test(arguments: Lab.Family.allCases)
        func delayedRepliesArriveLate(_ family: Lab.Family) throws {
            let (lab, netfault) = try lab(action: "{delay: 300ms}", from: "server")
            defer { lab.close() }
            let result = try udpClient(lab, family, count: 5, timeout: 2)
            #expect(result["replies"] as? Int == 5, "\(result)")
            let median = result["median_rtt_ms"] as? Double ?? 0
            #expect(median >= 300 && median < 600, "median round trip \(median) ms, expected about 300 ms")
            _ = lab.stop(netfault)
        }

        @Test(arguments: Lab.Family.allCases)
        func duplicatedRepliesArriveThreeTimes(_ family: Lab.Family) throws {
            let (lab, netfault) = try lab(action: "{duplicate: 2}", from: "server")
            defer { lab.close() }
            let result = try udpClient(lab, family, count: 10, timeout: 1)
            #expect(result["replies"] as? Int == 30, "\(result)")
            #expect(result["distinct"] as? Int == 10, "\(result)")
            let report = try lab.stop(netfault).report
            #expect(report.queue.injected == 20 && report.queue.injection_failures == 0)
        }

        @Test(arguments: Lab.Family.allCases)
        func portUnreachableRefusesAConnectedSocket(_ family: Lab.Family) throws {
            let (lab, netfault) = try lab(action: "{reject: icmp-port-unreachable}", from: "client")
            defer { lab.close() }
            let result = try udpClient(lab, family, count: 3, timeout: 1)
            #expect(result["replies"] as? Int == 0, "\(result)")
            #expect((result["errors"] as? [String])?.contains("ECONNREFUSED") == true, "\(result)")
            let report = try lab.stop(netfault).report
            #expect(report.faulted.map(\.outcome) == ["refused"], "\(report.queue)")
            #expect(report.faulted.first?.errno.client == "ECONNREFUSED")
        }

        /// The server's own kernel answers a datagram to a closed port; netfault reads that answer.
        @Test(arguments: Lab.Family.allCases)
        func aClosedPortsOwnAnswerIsReportedRefused(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.resolveNeighbours()
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: slow
                        match: {protocol: udp, server_port: 7001}
                        action: {delay: 10ms}
                    """)
                let result = try lab.peer(lab.client, ["udp-client", Lab.serverAddress[family]!, "7001", "--count", "1", "--timeout", "1"])
                #expect(result["errors"] as? [String] == ["ECONNREFUSED"], "\(result)")
                let report = try lab.stop(netfault).report
                #expect(report.faulted.map(\.outcome) == ["refused"], "\(report.queue)")
                #expect(report.faulted.first?.errno.client == "ECONNREFUSED")
                #expect(report.connections.allSatisfy { $0.protocol == "udp" }, "the ICMP error forms no connection of its own: \(report.connections)")
            }
        }

        /// 100 000 datagrams, each held for a random time, at a rate netfault keeps up with: every
        /// packet gets exactly one verdict, none escapes unseen, the kernel drops none. (12 500 a
        /// second: in the test's debug build each held packet costs a move to the parking queue and
        /// a read back there; at 20 000 the debug build fell behind by a full queue.)
        @Test func aHundredThousandRandomHoldsEndWithOneVerdictEach() throws {
            try withLab { lab in
                _ = try lab.peerServer(["udp-sink", "7002"])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.randomHold)
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7002", "--count", "100000", "--rate", "12500"],
                                         timeout: 120)
                #expect(blast["sent"] as? Int == 100_000, "\(blast)")
                usleep(1_000_000)  // the last holds come due
                let report = try lab.stop(netfault).report
                #expect(report.rule("random-hold")?.fired == 100_000, "\(report.queue)")
                #expect(report.queue.verdicts == report.queue.packets, "\(report.queue)")
                #expect(report.queue.escaped_fail_open == 0 && report.queue.kernel_dropped == 0, "\(report.queue)")
                #expect(report.queue.held_released_early == 0, "\(report.queue)")
            }
        }

        /// Datagrams held for a minute when netfault stops are let go as the rule says (a delay
        /// ends in delivery): the server receives every one, none is lost with the hooks.
        @Test(arguments: Lifecycle.Backend.allCases)
        func stoppingDeliversHeldDatagrams(_ backend: Lifecycle.Backend) throws {
            try withLab { lab in
                let sink = try lab.peerServer(["udp-sink", "7002", "--seconds", "12"])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: hold-a-minute
                        match: {protocol: udp, server_port: 7002, from: client}
                        action: {delay: 60s}
                    """, backend.options)
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7002", "--count", "500", "--rate", "5000"])
                #expect(blast["sent"] as? Int == 500, "\(blast)")
                usleep(500_000)
                let report = try lab.stop(netfault).report
                #expect(report.queue.held_peak == 500, "\(report.queue)")
                #expect(report.queue.verdicts == report.queue.packets, "\(report.queue)")
                #expect(lab.datagramsReceived(by: sink) == 500, "the server: \(sink.output)")
            }
        }

        /// Held packets wait in the parking queue (queue 0's is 32768), not in the diverting queue;
        /// past `max_held` the earliest due leaves at once, and the report counts it.
        @Test func heldPacketsWaitInTheParkingQueueUpToMaxHeld() throws {
            try withLab { lab in
                let sink = try lab.peerServer(["udp-sink", "7002", "--seconds", "10"])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    max_held: 300
                    rules:
                      - name: hold-a-minute
                        match: {protocol: udp, server_port: 7002, from: client}
                        action: {hold: 60s}
                    """)
                #expect(netfault.errors.contains("held packets wait in queue 32768 (up to 300 each)"), "\(netfault.errors)")
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7002", "--count", "1000", "--rate", "5000"])
                #expect(blast["sent"] as? Int == 1000, "\(blast)")
                usleep(500_000)
                let waiting = try lab.packetsWaiting(in: lab.middlebox)
                #expect(waiting[0] == 0 && waiting[32768] == 300, "\(waiting)")
                let report = try lab.stop(netfault).report
                #expect(report.queue.held_peak == 300 && report.queue.held_released_early == 700, "\(report.queue)")
                #expect(report.queue.verdicts == report.queue.packets, "\(report.queue)")
                #expect(lab.datagramsReceived(by: sink) == 1000, "the server: \(sink.output)")
            }
        }

        /// Packets someone else queues to the parking queue are let go at once (the server gets
        /// them), and their arrival does not make netfault spin: it stays near idle.
        @Test func strangersInTheParkingQueueAreLetGo() throws {
            try withLab { lab in
                let sink = try lab.peerServer(["udp-sink", "7003", "--seconds", "6"])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: hold-other
                        match: {protocol: udp, server_port: 7002}
                        action: {hold: 60s}
                    """)
                _ = try lab.run(lab.middlebox, ["iptables", "-t", "mangle", "-A", "FORWARD", "-p", "udp", "--dport", "7003",
                                                "-j", "NFQUEUE", "--queue-num", "32768"])
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7003", "--count", "200", "--rate", "1000"])
                #expect(blast["sent"] as? Int == 200, "\(blast)")
                func cpuTicks() throws -> Int {
                    let fields = try String(contentsOfFile: "/proc/\(netfault.pid)/stat", encoding: .utf8).split(separator: " ")
                    return (Int(fields[13]) ?? 0) + (Int(fields[14]) ?? 0)
                }
                let before = try cpuTicks()
                usleep(1_000_000)
                let ticks = try cpuTicks() - before
                #expect(ticks < 30, "netfault used \(ticks) ticks of CPU in a quiet second")
                _ = lab.stop(netfault)
                #expect(lab.datagramsReceived(by: sink) == 200, "the server: \(sink.output)")
            }
        }

        /// Unpaced, faster than netfault (a debug build here) can take: nothing crashes, every packet
        /// netfault received gets its verdict, and the report accounts for every one of the 100 000:
        /// received, escaped through fail-open, or dropped by the kernel.
        @Test func overloadIsCountedExactly() throws {
            try withLab { lab in
                _ = try lab.peerServer(["udp-sink", "7002"])
                usleep(1_500_000)  // the warm-up's own ICMP errors, which NDP can delay, are through before netfault diverts
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.randomHold)
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7002", "--count", "100000"], timeout: 120)
                #expect(blast["sent"] as? Int == 100_000, "\(blast)")
                usleep(1_000_000)
                let report = try lab.stop(netfault).report
                #expect(report.queue.verdicts == report.queue.packets, "\(report.queue)")
                let accounted = report.queue.packets + (report.queue.escaped_fail_open ?? -1_000_000) + (report.queue.kernel_dropped ?? 0)
                #expect(accounted == 100_000, "\(report.queue)")
            }
        }

        static let randomHold = """
            hooks: [forward]
            seed: 7
            rules:
              - name: random-hold
                match: {protocol: udp, server_port: 7002, from: client}
                action: {delay: 300ms, jitter: 290ms}
            """
    }
}
