import Foundation
import Testing

extension LabTests {
    /// Link conditions (issue 26) on real TCP between the lab's namespaces, seen where they land:
    /// in the receiving stack's own counters (`nstat`).
    @Suite struct LinkConditions {
        /// A counter of the server namespace's stack (`nstat -az NAME`), absolute.
        static func serverCounter(_ lab: Lab, _ name: String) throws -> Int {
            let line = try lab.run(lab.server, ["nstat", "-az", name]).output.split(separator: "\n").last ?? ""
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }

        /// What a `udp-sink --seconds` server printed once it ended.
        static func sinkResult(_ sink: Background) throws -> [String: Any] {
            #expect(sink.wait(timeout: 20))
            return try #require(sink.output.split(separator: "\n").last.flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }, "\(sink.output)")
        }

        /// An upload of `bytes` from the client through netfault with `action` on the client's
        /// segments; how many segments the server's stack queued out of order meanwhile. The client
        /// keeps the connection a second after sending, so that everything has arrived before the
        /// stop (which lets later segments pass unheld while it releases the held ones).
        static func outOfOrderSegments(_ lab: Lab, _ family: Lab.Family, action: String, bytes: Int = 4_000_000) throws -> Int {
            let netfault = try lab.netfault(.forward, rules: """
                rules:
                  - name: link
                    match: {server_port: 8080, from: client}
                    action: \(action)
                """)
            let before = try serverCounter(lab, "TcpExtTCPOFOQueue")
            let upload = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080", "--upload", "\(bytes)", "--hold", "1", "--timeout", "30"])
            #expect(upload["errno"] == nil || upload["errno"] is NSNull, "\(upload)")
            let stopped = lab.stop(netfault)
            #expect(try stopped.report.rule("link")?.fired ?? 0 > 10)
            return try serverCounter(lab, "TcpExtTCPOFOQueue") - before
        }

        /// A delay with jitter wider than the gap between segments reorders them, as netem's does;
        /// with `keep_order: true` the server's stack never queues one out of order.
        @Test(arguments: Lab.Family.allCases)
        func keepOrderStopsJitterFromReordering(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "8080", "--sink"])
                let reordered = try Self.outOfOrderSegments(lab, family, action: "{delay: 4ms, jitter: 3ms, distribution: normal}")
                #expect(reordered > 0, "jitter reorders: \(reordered) segments out of order")
                let ordered = try Self.outOfOrderSegments(lab, family, action: "{delay: 4ms, jitter: 3ms, distribution: normal, keep_order: true}")
                #expect(ordered == 0, "\(ordered) segments out of order")
            }
        }

        /// A share of packets is a share of the segments on the wire, not of the GSO super-packets
        /// (up to 45 segments each) the client's stack hands down: 1% loss of a 4 MB upload is
        /// rolled for each of its 2 700-odd segments and loses about 1% of them.
        @Test func probabilityIsRolledForEachSegmentOnTheWire() throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "8080", "--sink"])
                let netfault = try lab.netfault(.forward, rules: """
                    seed: 7
                    rules:
                      - name: loss
                        match: {server_port: 8080, from: client, probability: 1%}
                        action: drop
                    """)
                let upload = try lab.peer(lab.client, ["connect", Lab.serverAddress[.v4]!, "8080", "--upload", "4000000", "--timeout", "30"])
                #expect(upload["errno"] == nil || upload["errno"] is NSNull, "\(upload)")
                let report = try lab.stop(netfault).report
                let segments = 4_000_000 / 1_448
                #expect(report.queue.packets > segments, "the upload's segments went through the queue one by one: \(report.queue)")
                let lost = try #require(report.rule("loss")).fired
                #expect((segments / 300...segments / 30).contains(lost), "1% of about \(segments) segments lost: \(lost)")
            }
        }

        /// Datagrams through a Gilbert-Elliott model: of those netfault saw, exactly the ones it
        /// counts as dropped never arrived, and they went missing in runs, not one by one.
        @Test(arguments: Lab.Family.allCases)
        func gilbertElliottLosesDatagramsInRuns(_ family: Lab.Family) throws {
            try withLab { lab in
                let sink = try lab.peerServer(["udp-sink", "7002", "--seconds", "10", "--expect", "5000"])
                let netfault = try lab.netfault(.forward, rules: """
                    seed: 5
                    rules:
                      - name: bursty
                        match: {protocol: udp, server_port: 7002}
                        action: {loss: {model: gilbert-elliott, p: 2%, r: 25%}}
                    """)
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[family]!, "7002", "--count", "5000", "--rate", "2000"])
                #expect(blast["sent"] as? Int == 5000, "\(blast)")
                let report = try lab.stop(netfault).report
                let result = try Self.sinkResult(sink)
                let runs = try #require(result["missing_runs"] as? [Int], "\(result)")
                let fired = try #require(report.rule("bursty")).fired
                // Every datagram netfault saw and spared arrived, and none it dropped did (a datagram
                // can go missing before it reaches the middlebox: over IPv6 the first one now and then).
                let seen = try #require(report.connections(toPort: 7002).first).packets.client
                #expect(result["received"] as? Int == seen - fired, "saw \(seen), dropped \(fired): \(result)")
                // p/(p+r) = 7.4% lost, in runs of 1/r = 4 on average; 5 000 datagrams make about 90 runs.
                let meanRun = Double(fired) / Double(max(1, runs.count))
                #expect(fired > 200 && fired < 560 && meanRun > 2.5 && meanRun < 6, "\(fired) lost in \(runs.count) runs")
            }
        }

        /// iperf3 through `{rate: 20Mbit}` gets what 20 Mbit/s of IP packets carry (within 15%
        /// below and 2% above: this checks the limit, the bench measures how closely), in each
        /// direction through a bucket of its own.
        @Test(arguments: Lab.Family.allCases)
        func iperf3GetsTheRateLimit(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.start(lab.server, ["iperf3", "-s", "-p", "5201"])
                usleep(500_000)
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: link
                        match: {server_port: 5201}
                        action: {rate: 20Mbit, burst: 32KiB, queue: 50ms, per: direction}
                    """)
                for reverse in [false, true] {
                    let run = try lab.run(lab.client, ["iperf3", "-c", Lab.serverAddress[family]!, "-p", "5201", "-t", "4", "-J"]
                                          + (reverse ? ["-R"] : []), timeout: 30)
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.errors)")
                    let received = (json["end"] as? [String: Any])?["sum_received"] as? [String: Any]
                    let megabits = (received?["bits_per_second"] as? Double ?? 0) / 1e6
                    // iperf3 counts TCP's payload: 1 448 of each 1 500 bytes at most, 19.3 Mbit/s.
                    let most = 20 * 1448.0 / 1500
                    #expect(megabits > most * 0.85 && megabits < most * 1.02, "\(reverse ? "download" : "upload"): \(megabits) Mbit/s")
                }
                let report = try lab.stop(netfault).report
                #expect(try #require(report.rule("link")).fired > 500)
            }
        }

        /// A 2 MB download through `corrupt`: with the checksum kept, the client's stack discards
        /// the corrupted segments (counted as checksum errors) and the file arrives intact after
        /// retransmissions; with it fixed, the corrupted bytes reach curl and the file differs.
        @Test(arguments: Lab.Family.allCases)
        func corruptionIsCaughtOrDeliveredAsTheChecksumSays(_ family: Lab.Family) throws {
            try withLab { lab in
                var generator = SystemRandomNumberGenerator()
                let original = Data((0..<2_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
                _ = try lab.httpServer(files: ["big": original])
                for checksum in ["keep", "fix"] {
                    let netfault = try lab.netfault(.forward, rules: """
                        seed: 4
                        rules:
                          - name: corrupt
                            match: {server_port: 8080, from: server}
                            action: {corrupt: {probability: 2%, bits: 1, checksum: \(checksum)}}
                        """)
                    let errorsBefore = try lab.checksumErrors(in: lab.client)
                    let target = lab.directory.appendingPathComponent("download-\(checksum)").path
                    let curl = try lab.run(lab.client, ["curl", "-s", "--max-time", "60", "-o", target, lab.url(family, "big")], timeout: 90)
                    let errors = try lab.checksumErrors(in: lab.client) - errorsBefore
                    let stopped = lab.stop(netfault)
                    let corrupted = try #require(try stopped.report.rule("corrupt")).fired
                    let received = try Data(contentsOf: URL(fileURLWithPath: target))
                    #expect(curl.status == 0 && received.count == original.count, "curl \(curl.status) \(received.count) bytes")
                    if checksum == "keep" {
                        #expect(received == original, "retransmitted intact")
                        #expect(errors >= corrupted && corrupted > 10, "\(errors) checksum errors, \(corrupted) corrupted")
                    } else {
                        #expect(received != original, "the corrupted bytes arrived")
                        #expect(errors == 0 && corrupted > 10, "\(errors) checksum errors, \(corrupted) corrupted")
                    }
                }
            }
        }

        /// Datagrams through `reorder`: every one arrives, about 5% of them after later ones; a TCP
        /// upload through it arrives whole with segments queued out of order at the server.
        @Test(arguments: Lab.Family.allCases)
        func reorderedPacketsArriveLateAndNoneIsLost(_ family: Lab.Family) throws {
            try withLab { lab in
                let sink = try lab.peerServer(["udp-sink", "7002", "--seconds", "8", "--expect", "3000"])
                let netfault = try lab.netfault(.forward, rules: """
                    seed: 2
                    rules:
                      - name: reorder
                        match: {protocol: udp, server_port: 7002}
                        action: {reorder: {probability: 5%, gap: 3}}
                      - name: upload
                        match: {server_port: 8080, from: client}
                        action: {reorder: {probability: 20%, gap: 3}}
                    """)
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[family]!, "7002", "--count", "3000", "--rate", "2000"])
                #expect(blast["sent"] as? Int == 3000, "\(blast)")
                _ = try lab.peerServer(["stream-server", "8080", "--sink"])
                let before = try Self.serverCounter(lab, "TcpExtTCPOFOQueue")
                let upload = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080", "--upload", "4000000", "--hold", "1", "--timeout", "30"])
                #expect(upload["errno"] == nil || upload["errno"] is NSNull, "\(upload)")
                let outOfOrder = try Self.serverCounter(lab, "TcpExtTCPOFOQueue") - before
                let report = try lab.stop(netfault).report
                let result = try Self.sinkResult(sink)
                let seen = try #require(report.connections(toPort: 7002).first).packets.client
                let taken = try #require(report.rule("reorder")).fired
                #expect(result["received"] as? Int == seen && taken > 100 && taken < 200, "\(taken) taken: \(result)")
                #expect(result["late"] as? Int ?? 0 >= taken * 9 / 10, "\(taken) taken: \(result)")
                let reorderedSegments = try #require(report.rule("upload")).fired
                #expect(outOfOrder > 0 && reorderedSegments > 0, "\(outOfOrder) out of order, \(reorderedSegments) reordered")
            }
        }
    }
}
