import Foundation
import Testing

extension LabTests {
    /// Every preset in Rules/, unedited, on the middlebox: a real client sees what the preset's
    /// opening comment promises, and netfault's report agrees, with every expectation held.
    @Suite struct Presets {
        /// Applies the preset, runs `body`, stops netfault and returns its report; checks that every
        /// rule's expectation held.
        func withPreset(_ name: String, in lab: Lab, options: [String] = [], _ body: () throws -> Void) throws -> Report {
            let netfault = try lab.netfault(in: lab.middlebox, rulesFile: Lab.preset(name), ["--report", "json"] + options)
            try body()
            let report = try lab.stop(netfault).report
            for rule in report.rules {
                #expect(rule.passed, "\(name): \(rule.name): \(rule.failure ?? "")")
            }
            return report
        }

        func session(_ lab: Lab, _ family: Lab.Family = .v4, _ options: [String]) throws -> [String: Any] {
            try lab.peer(lab.client, ["session", Lab.serverAddress[family]!, "8080"] + options)
        }

        @Test func firewallDropTimesTheConnectOut() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let report = try withPreset("firewall-drop", in: lab) {
                    let curl = try lab.curl(.v4, "index.html", ["--connect-timeout", "2"])
                    #expect(curl.status == 28)
                }
                #expect(report.connections(toPort: 8080).first?.winsock_code.client == 10060)
            }
        }

        @Test(arguments: [(Lab.Family.v4, "EHOSTUNREACH"), (.v6, "EACCES")])
        func firewallRejectRefusesAndProhibits(_ family: Lab.Family, _ prohibited: String) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let report = try withPreset("firewall-reject", in: lab) {
                    #expect(try lab.curl(family, "index.html").status == 7)
                    let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8443"])
                    #expect(client["errno"] as? String == prohibited, "\(client)")
                }
                #expect(report.connections(toPort: 8080).map(\.winsock_code.client) == [10061])
                #expect(report.connections(toPort: 8443).map(\.errno.client) == [prohibited])
            }
        }

        @Test func serverCrashResetsTheDownload() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(5_000_000)])
                let report = try withPreset("server-crash", in: lab) {
                    let curl = try lab.curl(.v4, "big.bin")
                    #expect(curl.status == 56)
                }
                #expect(report.connections(toPort: 8080).first?.winsock_code.client == 10054)
            }
        }

        @Test func serverRestartResetsOldConnectionsOnly() throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "8080"])
                let report = try withPreset("server-restart", in: lab) {
                    // A pooled connection: used at once, then again 6 s later, after the "restart".
                    let old = try session(lab, .v4, ["--rounds", "2", "--interval", "6"])
                    #expect(old["errno"] as? String == "ECONNRESET" && old["round"] as? Int == 2, "\(old)")
                    let fresh = try session(lab, .v4, ["--rounds", "2", "--interval", "1"])
                    #expect(fresh["result"] as? String == "ok", "a new connection works: \(fresh)")
                }
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["reset", "closed"])
            }
        }

        @Test func firewallIdleTimeoutAbortsTheNextSend() throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "8080"])
                let report = try withPreset("firewall-idle-timeout", in: lab) {
                    let client = try session(lab, .v4, ["--rounds", "2", "--interval", "6", "--user-timeout-ms", "2000"])
                    #expect(client["errno"] as? String == "ETIMEDOUT" && client["round"] as? Int == 2, "\(client)")
                }
                let connection = try #require(report.connections(toPort: 8080).first)
                #expect(connection.outcome == "aborted" && connection.winsock_code.client == 10053)
                #expect(connection.retransmissions.client >= 2)
            }
        }

        @Test func ackLossAbortsTheUpload() throws {
            try withLab { lab in
                // The server answers every 16 KiB, as SSH's window adjustments do: the ACKs ride on
                // its data too, and they must vanish as well.
                _ = try lab.peerServer(["stream-server", "8080", "--sink", "--answer-every", "16384"])
                let report = try withPreset("ack-loss", in: lab) {
                    let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[.v4]!, "8080", "--upload", "20000000",
                                                          "--user-timeout-ms", "3000", "--timeout", "30"])
                    #expect(client["errno"] as? String == "ETIMEDOUT", "\(client)")
                }
                let upload = try #require(report.connections(toPort: 8080).first)
                #expect(upload.outcome == "aborted" && upload.aborted_side == "client", "\(upload)")
                #expect(upload.errno.client == "ETIMEDOUT" && upload.winsock.client == "WSAECONNABORTED" && upload.errno.server == nil)
            }
        }

        @Test func slowHandshakeHoldsTheConnect() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let report = try withPreset("slow-handshake", in: lab) {
                    let slow = try lab.curl(.v4, "index.html")
                    let connect = Double(slow.fields.last ?? "") ?? 0
                    #expect(slow.status == 0 && connect >= 2.9 && connect < 4, "time_connect \(connect)")
                    #expect(try lab.curl(.v4, "index.html", ["--connect-timeout", "2"]).status == 28)
                }
                #expect(report.connections(toPort: 8080).map(\.outcome).first == "closed")
            }
        }

        @Test func antivirusResetsOnlyTheInfectedDownload() throws {
            try withLab { lab in
                let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
                _ = try lab.httpServer(files: ["clean.txt": .filled(100_000), "eicar.txt": Data(eicar.utf8)])
                let report = try withPreset("antivirus", in: lab) {
                    let clean = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                                                         lab.url(.v4, "clean.txt")])
                    let fields = clean.output.split(separator: " ")
                    #expect(clean.status == 0 && fields.first == "100000", "\(clean.output)")
                    #expect((Double(fields.last ?? "") ?? 0) >= 0.5, "held while scanned: \(clean.output)")
                    #expect(try lab.curl(.v4, "eicar.txt").status == 56)
                }
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["closed", "reset"])
            }
        }

        @Test func proxyEarlyCloseResetsTheUpload() throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "8080", "--sink"])
                let report = try withPreset("proxy-early-close", in: lab) {
                    let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[.v4]!, "8080", "--upload", "2000000"])
                    #expect(client["errno"] as? String == "ECONNRESET", "the first call after the RST: \(client)")
                }
                let upload = try #require(report.connections(toPort: 8080).first)
                #expect(upload.reset_by?.sender == "netfault" && upload.reset_by?.toward == "client")
                #expect(upload.errno.client == "ECONNRESET" && upload.errno.server == nil, "only the client got the RST: \(upload)")
            }
        }

        @Test func connectionLimitRefusesTheFourth() throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "8080"])
                let report = try withPreset("connection-limit", in: lab) {
                    let holders = try (0..<3).map { _ in
                        try lab.start(lab.client, ["python3", Lab.peerPath, "session", Lab.serverAddress[.v4]!, "8080", "--hold", "20"])
                    }
                    for holder in holders { #expect(holder.waitFor("connected", timeout: 10)) }
                    let fourth = try session(lab, .v4, [])
                    #expect(fourth["errno"] as? String == "ECONNREFUSED", "\(fourth)")
                    for holder in holders { holder.kill() }
                }
                #expect(report.connections(toPort: 8080).map(\.outcome).filter { $0 == "refused" }.count == 1)
            }
        }

        @Test func proxyLimitDataEndsTheResponseWithAFIN() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(2_000_000)])
                let report = try withPreset("proxy-limit-data", in: lab) {
                    let curl = try lab.curl(.v4, "big.bin", ["--max-time", "20"])
                    #expect(curl.status == 18 && (Int(curl.fields.first ?? "") ?? 0) < 2_000_000, "partial file, not reset: \(curl)")
                }
                let connection = try #require(report.connections(toPort: 8080).first)
                #expect(connection.outcome == "closed" && connection.closed_by?.rule == "limit-data" && connection.errno.client == nil,
                        "\(connection)")
            }
        }

        @Test func asaDefaultPassesConnectionsAndForgetsIdleOnes() throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "8080"])
                let report = try withPreset("asa-default", in: lab, options: ["--set", "idle=3s"]) {
                    let fresh = try session(lab, .v4, ["--rounds", "2", "--interval", "1"])
                    #expect(fresh["result"] as? String == "ok", "through the shifted sequence numbers: \(fresh)")
                    let idle = try session(lab, .v4, ["--rounds", "2", "--interval", "5", "--user-timeout-ms", "2000"])
                    #expect(idle["errno"] as? String == "ETIMEDOUT" && idle["round"] as? Int == 2, "\(idle)")
                }
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["closed", "aborted"])
                #expect(report.rule("normalizer")?.fired ?? 0 > 0)
            }
        }

        @Test func flakyLinkLosesDuplicatesAndDelays() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(2_000_000)])
                let report = try withPreset("flaky-link", in: lab, options: ["--seed", "1"]) {
                    let download = try lab.curl(.v4, "big.bin")
                    #expect(download.status == 0 && download.fields.first == "2000000", "\(download)")
                    let connect = Double(download.fields.last ?? "") ?? 0
                    #expect(connect >= 0.08, "SYN and SYN-ACK each delayed about 40 ms: \(connect)")
                }
                let connection = try #require(report.connections(toPort: 8080).first)
                #expect(connection.retransmissions.server > 0, "lost segments were retransmitted")
                #expect(report.queue.injected > 0 && report.queue.injection_failures == 0, "\(report.queue)")
            }
        }

        @Test(arguments: Lab.Family.allCases)
        func sniBlockResetsTheBlockedNameOnly(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.nginxTLS()
                let report = try withPreset("sni-block", in: lab) {
                    let blocked = try lab.httpsStatus(family, name: "www.blocked.example")
                    #expect([35, 56].contains(blocked), "curl exit \(blocked)")
                    let other = try lab.httpsStatus(family, name: "www.ok.example")
                    #expect(other == 0)
                }
                #expect(report.faulted.count == 1 && report.faulted.first?.errno.client == "ECONNRESET", "\(report.faulted)")
            }
        }

        @Test(arguments: Lab.Family.allCases)
        func dnsNXDomainAnswersInTheResolversPlace(_ family: Lab.Family) throws {
            try withLab { lab in
                let dnsmasq = try lab.dnsmasq()
                _ = try withPreset("dns-nxdomain", in: lab) {
                    let blocked = try lab.dig(family, "www.blocked.example")
                    #expect(blocked.output.contains("status: NXDOMAIN"), "\(blocked.output)")
                    let ok = try lab.dig(family, "www.ok.example")
                    #expect(ok.output.contains("198.18.2.50"), "\(ok.output)")
                }
                #expect(!dnsmasq.errors.contains("blocked.example") && dnsmasq.errors.contains("www.ok.example"), "\(dnsmasq.errors)")
            }
        }
}
}
