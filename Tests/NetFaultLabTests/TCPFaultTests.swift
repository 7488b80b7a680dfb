import Foundation
import Testing

extension LabTests {
    /// TCP faults on real clients and servers, with netfault in either place it runs: on the
    /// middlebox between them (`hooks: [forward]`), or on the client itself (`hooks: [output,
    /// input]`, where the RSTs it injects toward the local stack reach it over loopback routing).
    @Suite struct TCPFaults {
        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func rejectedSYNsAreRefused(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: refuse
                        match: {server_port: 8080, flags: [syn]}
                        action: {reject: tcp-reset}
                    """)
                #expect(try lab.curl(family, "index.html").status == 7)
                let socket = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080"])
                #expect(socket["errno"] as? String == "ECONNREFUSED")
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0)
                let report = try stopped.report
                #expect(report.rule("refuse")?.fired == 2 && report.rule("refuse")?.connections == 2)
                for connection in report.connections(toPort: 8080) {
                    #expect(connection.outcome == "refused" && connection.errno.client == "ECONNREFUSED" && connection.winsock_code.client == 10061)
                    #expect(connection.reset_by?.sender == "netfault" && connection.reset_by?.rule == "refuse" && connection.reset_by?.toward == "client")
                }
                #expect(report.connections(toPort: 8080).count == 2)
                #expect(try lab.netfaultRules(in: placement.namespace(of: lab)).isEmpty)
                #expect(try lab.curl(family, "index.html").status == 0, "traffic flows again once netfault stopped")
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func droppedSYNACKsTimeTheConnectOut(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: black-hole
                        match: {server_port: 8080, from: server, flags: [syn, ack]}
                        action: drop
                    """)
                #expect(try lab.curl(family, "index.html", ["--connect-timeout", "3"]).status == 28)
                let report = try lab.stop(netfault).report
                let connection = try #require(report.connections(toPort: 8080).first)
                #expect(connection.outcome == "connect-timeout" && connection.errno.client == "ETIMEDOUT" && connection.winsock_code.client == 10060)
                #expect(connection.retransmissions.client >= 1, "the client's SYN retransmissions are counted")
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func heldSYNACKsSlowTheHandshake(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: slow-handshake
                        match: {server_port: 8080, from: server, flags: [syn, ack]}
                        action: {hold: 2s}
                    """)
                let result = try lab.curl(family, "index.html")
                #expect(result.status == 0)
                let connect = Double(result.fields.last ?? "") ?? 0
                #expect(connect >= 1.9 && connect < 2.9, "time_connect \(connect) s, expected about 2 s")
                let report = try lab.stop(netfault).report
                #expect(report.queue.held_peak >= 1)
                let connection = try #require(report.connections(toPort: 8080).first)
                let handshake = connection.handshake_ms ?? 0
                #expect(handshake >= 1900 && handshake < 2900, "handshake \(handshake) ms")
                #expect(connection.outcome == "closed")
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func resetAfterBytesCutsADownload(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(5_000_000)])
                let streamer = try lab.peerServer(["stream-server", "9000", "--bytes", "5000000"])
                let capture = lab.directory.appendingPathComponent("faults.pcap").path
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: server-crash
                        match: {server_port: 8080-9000, from: server, after_bytes: 700KiB}
                        action: {reset: both}
                    """, ["--report", "json", "--pcap", capture])
                let curl = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{size_header} %{size_request}",
                                                    lab.url(family, "big.bin")])
                #expect(curl.status == 56, "curl exit \(curl.status), expected 56 (connection reset by peer)")
                let fields = curl.output.split(separator: " ").map { Int($0) ?? -1 } + [-1, -1, -1]
                let (received, header, request) = (fields[0], fields[1], fields[2])
                #expect(received >= 500_000 && received <= 2_000_000, "curl received \(received) bytes")

                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9000", "--read"])
                #expect(client["errno"] as? String == "ECONNRESET")
                #expect(streamer.waitFor("\"result\"", timeout: 10))
                let serverSaw = streamer.output
                #expect(serverSaw.contains("ECONNRESET") || serverSaw.contains("EPIPE"), "server saw: \(serverSaw)")
                let report = try lab.stop(netfault).report
                // In-flight segments of the reset connections are dropped and reset again: more firings than connections.
                #expect(report.rule("server-crash")?.connections == 2)
                let download = try #require(report.connections(toPort: 8080).first)
                #expect(download.outcome == "reset" && download.errno.client == "ECONNRESET" && download.winsock_code.client == 10054)
                #expect(download.reset_by?.sender == "netfault" && download.reset_by?.rule == "server-crash" && download.reset_by?.toward == "both")
                // What netfault let through toward curl: at least the header and the body curl read,
                // and the segments netfault dropped in place of the crash count for nothing. It can
                // be more: segments let through just before the RST, still on their way (up to
                // two 64 KiB GSO segments were seen), reach a socket the RST already closed.
                #expect(download.bytes.server >= received + header && download.bytes.server <= received + header + 2 * 65_536,
                        "report \(download.bytes.server), curl \(received) + header \(header)")
                #expect(download.bytes.client == request)
                // The capture holds both faulted connections from their SYN to netfault's RSTs, and tcpdump reads it.
                let dump = try lab.run(nil, ["tcpdump", "-nn", "-r", capture])
                #expect(dump.status == 0, "\(dump.errors)")
                let lines = dump.output.split(separator: "\n")
                #expect(lines.filter { $0.contains("Flags [S]") }.count == 2, "\(dump.output.prefix(2000))")
                #expect(lines.contains { $0.contains(".8080: Flags [R") } && lines.contains { $0.contains(".9000: Flags [R") })
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func droppedACKsAbortAnUpload(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "9000", "--sink"])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: ack-loss
                        match: {server_port: 9000, from: server, flags: [ack], after_bytes: 100KiB}
                        action: drop
                    """)
                // Long enough for two retransmission timeouts: after a tail-loss probe the first RTO
                // can come 1.5 s late, and the second doubles it.
                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9000", "--upload", "20000000",
                                                      "--user-timeout-ms", "7000", "--timeout", "30"])
                #expect(client["errno"] as? String == "ETIMEDOUT", "\(client)")
                let report = try lab.stop(netfault).report
                let upload = try #require(report.connections(toPort: 9000).first)
                #expect(upload.outcome == "aborted" && upload.aborted_side == "client", "\(upload)")
                #expect(upload.errno.client == "ETIMEDOUT" && upload.winsock.client == "WSAECONNABORTED" && upload.winsock_code.client == 10053)
                #expect(upload.retransmissions.client >= 2, "\(upload.retransmissions)")
                // The RTO doubles with each retransmission: the largest gap exceeds the minimum RTO (200 ms).
                #expect(upload.largest_retransmission_gap_ms.client > 200, "\(upload.largest_retransmission_gap_ms)")
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func aSignatureResetsOnlyTheConnectionCarryingIt(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
                _ = try lab.httpServer(files: ["clean.txt": .filled(200_000), "eicar.txt": Data(eicar.utf8)])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: antivirus
                        match: {server_port: 8080, from: server, payload: "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"}
                        action: {reset: both}
                    """)
                let clean = try lab.curl(family, "clean.txt")
                #expect(clean.status == 0 && clean.fields.first == "200000", "\(clean)")
                #expect(try lab.curl(family, "eicar.txt").status == 56)
                #expect(try lab.curl(family, "clean.txt").status == 0)
                let report = try lab.stop(netfault).report
                #expect(report.rule("antivirus")?.fired == 1 && report.rule("antivirus")?.connections == 1)
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["closed", "reset", "closed"])
            }
        }

        @Test(arguments: Lab.Placement.allCases, Lab.Family.allCases)
        func aZeroWindowStallsTheTransferUntilNetfaultStops(_ placement: Lab.Placement, _ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "9000", "--bytes", "20000000"])
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: zero-window
                        match: {server_port: 9000, from: client}
                        action: {rewrite: {window: 0}}
                    """)
                let client = try lab.start(lab.client, ["python3", Lab.peerPath, "connect", Lab.serverAddress[family]!, "9000",
                                                        "--read", "--timeout", "60"])
                #expect(!client.wait(timeout: 3), "the transfer finished although every window was 0: \(client.output)")
                _ = lab.stop(netfault)
                #expect(client.wait(timeout: 40), "the transfer did not resume after netfault stopped")
                #expect(client.output.contains("\"received\": 20000000"), "\(client.output)")
            }
        }

        /// A real firewall in front of the server (REJECT in the server's namespace) answers with
        /// an ICMP unreachable; the report names the error the client got.
        @Test(arguments: Lab.Placement.allCases, [(Lab.Family.v4, "iptables", "icmp-host-prohibited", "EHOSTUNREACH"),
                                                   (Lab.Family.v6, "ip6tables", "icmp6-adm-prohibited", "EACCES")])
        func aFirewallsICMPRejectIsReportedUnreachable(_ placement: Lab.Placement, _ firewall: (Lab.Family, String, String, String)) throws {
            let (family, tool, reject, errno) = firewall
            try withLab { lab in
                try lab.resolveNeighbours()
                // The lab's own server namespace: never the namespace the tests run in.
                let firewall = try lab.run(lab.server, [tool, "-A", "INPUT", "-p", "tcp", "--dport", "8081", "-j", "REJECT", "--reject-with", reject])
                #expect(firewall.status == 0, "\(firewall.errors)")
                let netfault = try lab.netfault(placement, rules: """
                    rules:
                      - name: slow-syn
                        match: {server_port: 8081, flags: [syn]}
                        action: {delay: 10ms}
                    """)
                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8081"])
                #expect(client["errno"] as? String == errno, "\(client)")
                let report = try lab.stop(netfault).report
                let connection = try #require(report.connections(toPort: 8081).first)
                #expect(connection.outcome == "unreachable" && connection.errno.client == errno, "\(connection)")
            }
        }

        /// Loopback packets pass both hooks; each must be queued once, so a 0.7 s hold stays 0.7 s
        /// (queued twice it would be 1.4). Not 1 s: the server retransmits its SYN-ACK after 1 s,
        /// and a release any later than that (a busy machine) held the retransmission too.
        @Test(arguments: Lab.Family.allCases)
        func loopbackConnectionsAreFaultedOnce(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(5_000_000)], loopback: true)
                let netfault = try lab.netfault(in: lab.client, rules: """
                    hooks: [output, input]
                    rules:
                      - name: slow-handshake
                        match: {server_port: 8080, from: server, flags: [syn, ack]}
                        action: {hold: 700ms}
                      - name: server-crash
                        match: {server_port: 8080, from: server, after_bytes: 700KiB}
                        action: {reset: both}
                    """)
                let curl = try lab.curl(family, "big.bin", loopback: true)
                #expect(curl.status == 56, "curl exit \(curl.status), expected 56 (connection reset by peer)")
                let connect = Double(curl.fields.last ?? "") ?? 0
                #expect(connect >= 0.65 && connect < 1.0, "time_connect \(connect) s, expected about 0.7 s (held once)")
                let report = try lab.stop(netfault).report
                #expect(report.rule("slow-handshake")?.fired == 1 && report.rule("slow-handshake")?.connections == 1)
                #expect(report.connections.map(\.outcome) == ["reset"], "one connection, seen once")
            }
        }

        /// Rules/localhost.yaml, run as its opening comment says, does what the comment promises.
        @Test func theLocalhostExampleDoesWhatItsCommentSays() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(1_000_000)], loopback: true)
                let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("Rules/localhost.yaml").path
                let netfault = try lab.start(lab.client, [Lab.netfaultPath, "apply", example])
                #expect(netfault.waitFor("diverting", timeout: 15), "\(netfault.errors)")
                #expect(try lab.curl(.v4, "big.bin", loopback: true).status == 56)
                let refused = try lab.run(lab.client, ["curl", "-s", "http://127.0.0.1:8081/"])
                #expect(refused.status == 7)
                #expect(try lab.curl(.v6, "big.bin", loopback: true).status == 0, "the example touches 127.0.0.1 only")
                let stopped = lab.stop(netfault)
                #expect(stopped.output.contains("refuse-8081 (reject): fired 1 time on 1 connection"), "\(stopped.output)")
            }
        }
    }
}
