import Foundation
import Testing

extension LabTests {
    /// netfault on the middlebox (`hooks: [forward]`) between a client and a server.
    @Suite struct ForwardTCP {
        @Test(arguments: Lab.Family.allCases)
        func rejectedSYNsAreRefused(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["index.html": .filled(10)])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
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
            #expect(stopped.output.contains("refuse: fired 2 times on 2 connections"), "\(stopped.output)")
            #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            #expect(try lab.curl(family, "index.html").status == 0, "traffic flows again once netfault stopped")
        }

        @Test(arguments: Lab.Family.allCases)
        func droppedSYNACKsTimeTheConnectOut(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["index.html": .filled(10)])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                rules:
                  - name: black-hole
                    match: {server_port: 8080, from: server, flags: [syn, ack]}
                    action: drop
                """)
            #expect(try lab.curl(family, "index.html", ["--connect-timeout", "3"]).status == 28)
            _ = lab.stop(netfault)
        }

        @Test(arguments: Lab.Family.allCases)
        func heldSYNACKsSlowTheHandshake(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["index.html": .filled(10)])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                rules:
                  - name: slow-handshake
                    match: {server_port: 8080, from: server, flags: [syn, ack]}
                    action: {hold: 2s}
                """)
            let result = try lab.curl(family, "index.html")
            #expect(result.status == 0)
            let connect = Double(result.fields.last ?? "") ?? 0
            #expect(connect >= 1.9 && connect < 2.9, "time_connect \(connect) s, expected about 2 s")
            let stopped = lab.stop(netfault)
            #expect(!stopped.output.contains("held at peak 0"), "\(stopped.output)")
        }

        @Test(arguments: Lab.Family.allCases)
        func resetAfterBytesCutsADownload(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["big.bin": .filled(5_000_000)])
            let streamer = try lab.peerServer(["stream-server", "9000", "--bytes", "5000000"])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                rules:
                  - name: server-crash
                    match: {server_port: 8080-9000, from: server, after_bytes: 700KiB}
                    action: {reset: both}
                """)
            let curl = try lab.curl(family, "big.bin")
            #expect(curl.status == 56, "curl exit \(curl.status), expected 56 (connection reset by peer)")
            let received = Int(curl.fields.first ?? "") ?? -1
            #expect(received >= 700_000 && received <= 2_000_000, "curl received \(received) bytes")

            let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9000", "--read"])
            #expect(client["errno"] as? String == "ECONNRESET")
            #expect(streamer.waitFor("\"result\"", timeout: 10))
            let serverSaw = streamer.output
            #expect(serverSaw.contains("ECONNRESET") || serverSaw.contains("EPIPE"), "server saw: \(serverSaw)")
            let stopped = lab.stop(netfault)
            // In-flight segments of the reset connections are dropped and reset again: more firings than connections.
            #expect(stopped.output.contains("times on 2 connections"), "\(stopped.output)")
        }

        @Test(arguments: Lab.Family.allCases)
        func droppedACKsAbortAnUpload(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.peerServer(["stream-server", "9000", "--sink"])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                rules:
                  - name: ack-loss
                    match: {server_port: 9000, from: server, flags: [ack], after_bytes: 100KiB}
                    action: drop
                """)
            let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9000", "--upload", "20000000",
                                                  "--user-timeout-ms", "3000", "--timeout", "30"])
            #expect(client["errno"] as? String == "ETIMEDOUT", "\(client)")
            let stopped = lab.stop(netfault)
            let retransmissions = stopped.output.split(separator: "\n").first { $0.contains("retransmissions") } ?? ""
            #expect(retransmissions.contains("retransmissions client ") && !retransmissions.contains("retransmissions client 0/"),
                    "\(stopped.output)")
        }

        @Test(arguments: Lab.Family.allCases)
        func aSignatureResetsOnlyTheConnectionCarryingIt(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
            _ = try lab.httpServer(files: ["clean.txt": .filled(200_000), "eicar.txt": Data(eicar.utf8)])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                rules:
                  - name: antivirus
                    match: {server_port: 8080, from: server, payload: "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"}
                    action: {reset: both}
                """)
            let clean = try lab.curl(family, "clean.txt")
            #expect(clean.status == 0 && clean.fields.first == "200000", "\(clean)")
            #expect(try lab.curl(family, "eicar.txt").status == 56)
            #expect(try lab.curl(family, "clean.txt").status == 0)
            let stopped = lab.stop(netfault)
            #expect(stopped.output.contains("antivirus: fired 1 time on 1 connection"), "\(stopped.output)")
        }

        @Test(arguments: Lab.Family.allCases)
        func aZeroWindowStallsTheTransferUntilNetfaultStops(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.peerServer(["stream-server", "9000", "--bytes", "20000000"])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
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
}
