import Foundation
import Testing

extension LabTests {
    /// `{close: both}` at the middlebox after 100 KiB of a 2 MB download: curl reads end of file
    /// and exits 18 (the body shorter than its Content-Length), not 56 as after an RST; the
    /// report says `closed`, closed by netfault's rule, IPv4 and IPv6.
    @Suite struct GracefulClose {
        @Test(arguments: Lab.Family.allCases)
        func aResponseCutByAFINEndsCurlWithAPartialFile(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(2_000_000)])
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: limit
                        match: {server_port: 8080, from: server, after_bytes: 100KiB}
                        action: {close: both}
                    """)
                let download = try lab.curl(family, "big.bin", ["--max-time", "20"])
                let received = Int(download.fields.first ?? "") ?? -1
                #expect(download.status == 18, "curl \(download)")
                #expect(received >= 100 * 1024 - 1000 && received < 2_000_000, "curl \(download)")
                let stopped = lab.stop(netfault)
                let connection = try #require(try stopped.report.connections(toPort: 8080).first, "\(stopped.output)")
                #expect(connection.outcome == "closed" && connection.reset_by == nil, "\(connection)")
                #expect(connection.closed_by?.sender == "netfault" && connection.closed_by?.rule == "limit"
                    && connection.closed_by?.toward == "both", "\(connection)")
                #expect(connection.errno.client == nil, "the client only read to the end: \(connection)")
                #expect(connection.bytes.server >= received - 1000 && connection.bytes.server <= received + 200_000, "\(connection)")
            }
        }
    }

    /// `shift_seq` at the middlebox: connections work, the server's stack sees the client's ISN
    /// shifted, and with SACK blocks left unshifted a lossy upload recovers by timeouts.
    @Suite struct SequenceShift {
        /// An upload of `bytes` to port 9000 through the middlebox: the seconds until the server
        /// confirmed receiving all of it.
        func upload(_ lab: Lab, _ family: Lab.Family, bytes: Int) throws -> Double {
            let server = try lab.start(lab.server, ["python3", "-c", """
                import hashlib, socket, sys
                s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("::", 9000)); s.listen(); print("ready", flush=True)
                c, _ = s.accept(); got = 0; digest = hashlib.sha256()
                while got < \(bytes):
                    chunk = c.recv(262144)
                    if not chunk: break
                    got += len(chunk); digest.update(chunk)
                c.sendall(b"done"); print("got", got, digest.hexdigest(), flush=True)
                """])
            #expect(server.waitFor("ready"))
            let client = try lab.run(lab.client, ["python3", "-c", """
                import hashlib, socket, sys, time
                data = bytes(range(256)) * (\(bytes) // 256) + bytes(\(bytes) % 256)
                started = time.monotonic()
                c = socket.create_connection((sys.argv[1], 9000), timeout=60); c.sendall(data)
                assert c.recv(4) == b"done"
                print(round(time.monotonic() - started, 3), hashlib.sha256(data).hexdigest())
                """, Lab.serverAddress[family]!], timeout: 90)
            #expect(server.wait(timeout: 10))
            let fields = client.output.split(separator: " ")
            #expect(fields.count == 2 && server.output.contains("got \(bytes) \(fields[1].trimmingCharacters(in: .whitespacesAndNewlines))"),
                    "\(client.output) \(client.errors) \(server.output) \(server.errors)")
            return Double(fields.first ?? "") ?? .infinity
        }

        /// Counters of `namespace`'s stack (`nstat -az`), by name.
        func counters(_ lab: Lab, _ namespace: String, _ names: [String]) throws -> [String: Int] {
            let output = try lab.run(namespace, ["nstat", "-az"] + names).output
            var values: [String: Int] = [:]
            for line in output.split(separator: "\n") {
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                if words.count >= 2, let value = Int(words[1]) { values[String(words[0])] = value }
            }
            return values
        }

        /// The client's SYN as tcpdump shows it in `namespace`: its sequence number.
        func synSequence(_ capture: String) -> UInt32? {
            guard let range = capture.range(of: #"seq (\d+)"#, options: .regularExpression) else { return nil }
            return UInt32(capture[range].dropFirst(4))
        }

        @Test(arguments: Lab.Family.allCases)
        func aShiftedConnectionWorksAndTheServerSeesTheShiftedISN(_ family: Lab.Family) throws {
            try withLab { lab in
                let filter = ["tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst port 9000"]
                let filter6 = ["ip6 and tcp dst port 9000 and ip6[53] & 0x12 == 0x02"]
                let captureArguments = ["tcpdump", "-n", "-S", "-l", "-c", "1", "-i", "eth0"] + (family == .v4 ? filter : filter6)
                let atClient = try lab.start(lab.client, captureArguments)
                let atServer = try lab.start(lab.server, captureArguments)
                #expect(atClient.waitFor("listening") && atServer.waitFor("listening"))
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: asa
                        match: {server_port: 9000}
                        action: {shift_seq: 1000000}
                    """)
                _ = try upload(lab, family, bytes: 1_000_000)
                #expect(atClient.wait(timeout: 5) && atServer.wait(timeout: 5))
                let sent = try #require(synSequence(atClient.output), "\(atClient.output) \(atClient.errors)")
                let received = try #require(synSequence(atServer.output), "\(atServer.output) \(atServer.errors)")
                #expect(received &- sent == 1_000_000, "client ISN \(sent), server saw \(received)")
                let stopped = lab.stop(netfault)
                let connection = try #require(try stopped.report.connections(toPort: 9000).first, "\(stopped.output)")
                #expect(connection.outcome == "closed" && connection.bytes.client == 1_000_000, "counted in the client's numbers: \(connection)")
            }
        }

        /// The same seeded loss of the client's data segments, with and without `shift_seq`,
        /// interleaved: without it SACK recovers fast; with it the server's SACK blocks reach the
        /// client off by the offset, its stack discards them (TcpExtTCPSACKDiscard) and recovers
        /// by retransmission timeouts (TcpExtTCPTimeouts): the upload takes longer, with more
        /// retransmissions in the report.
        @Test func brokenSACKSlowsTheRecoveryOfALossyUpload() throws {
            try withLab { lab in
                let loss = """
                      - name: loss
                        match: {server_port: 9000, from: client, after_bytes: 64KiB, probability: 0.02}
                        action: drop
                    """
                let shift = """
                      - name: asa
                        match: {server_port: 9000}
                        action: {shift_seq: random}
                    """
                let names = ["TcpExtTCPSACKDiscard", "TcpExtTCPDSACKIgnoredOld", "TcpExtTCPDSACKIgnoredNoUndo", "TcpExtTCPSACKRecovery",
                             "TcpExtTCPTimeouts", "TcpRetransSegs"]
                var seconds: [Bool: [Double]] = [true: [], false: []]
                var retransmissions: [Bool: [Int]] = [true: [], false: []]
                var discarded: [Bool: Int] = [true: 0, false: 0]
                var timeouts: [Bool: Int] = [true: 0, false: 0]
                for round in 0..<4 {
                    let shifted = round % 2 == 0
                    let before = try counters(lab, lab.client, names)
                    let netfault = try lab.netfault(.forward, rules: "seed: \(11 + round / 2)\nrules:\n" + loss + "\n" + (shifted ? shift : ""))
                    seconds[shifted]!.append(try upload(lab, .v4, bytes: 4_000_000))
                    let stopped = lab.stop(netfault)
                    let after = try counters(lab, lab.client, names)
                    let connection = try #require(try stopped.report.connections(toPort: 9000).first, "\(stopped.output)")
                    retransmissions[shifted]!.append(connection.retransmissions.client)
                    discarded[shifted]! += (after["TcpExtTCPSACKDiscard"] ?? 0) - (before["TcpExtTCPSACKDiscard"] ?? 0)
                    timeouts[shifted]! += (after["TcpExtTCPTimeouts"] ?? 0) - (before["TcpExtTCPTimeouts"] ?? 0)
                    print("shift_seq \(shifted): \(seconds[shifted]!.last!) s, report retransmissions \(connection.retransmissions.client), "
                        + "client stack \(names.map { "\($0) +\((after[$0] ?? 0) - (before[$0] ?? 0))" }.joined(separator: ", "))")
                }
                let summary = "seconds \(seconds), retransmissions \(retransmissions), SACK blocks discarded \(discarded), retransmission timeouts \(timeouts)"
                #expect(discarded[true]! > 0 && discarded[false]! == 0, "\(summary)")
                #expect(timeouts[true]! > 0 && timeouts[false]! == 0, "recovered by timeouts only without SACK: \(summary)")
                #expect(seconds[true]!.reduce(0, +) > 1.5 * seconds[false]!.reduce(0, +), "\(summary)")
                #expect(retransmissions[false]!.allSatisfy { $0 > 0 }, "the loss happened without shift_seq too: \(summary)")
                #expect(retransmissions[true]!.reduce(0, +) > retransmissions[false]!.reduce(0, +), "\(summary)")
            }
        }
    }
}
