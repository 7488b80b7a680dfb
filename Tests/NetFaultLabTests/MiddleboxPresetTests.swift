import Foundation
import Testing

extension LabTests {
    /// The presets of narrow paths, option-mangling boxes and idle timeouts (issue 21), unedited on
    /// the middlebox, against real clients and servers: what each opening comment promises.
    @Suite struct MiddleboxPresets {
        let presets = Presets()

        /// A download of `bytes` from the lab's web server, with at most `seconds` to finish.
        func download(_ lab: Lab, _ family: Lab.Family, _ file: String, seconds: Int) throws -> (status: Int32, fields: [String]) {
            try lab.curl(family, file, ["--max-time", "\(seconds)"])
        }

        /// Segments over 1400 bytes vanish without a word: a small page loads, a large download
        /// hangs, and the server never learns of a smaller MTU.
        @Test(arguments: Lab.Family.allCases)
        func pmtuBlackholeHangsLargeTransfersOnly(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["small": .filled(600), "big": .filled(2_000_000)])
                let report = try presets.withPreset("pmtu-blackhole", in: lab) {
                    let small = try download(lab, family, "small", seconds: 10)
                    #expect(small.status == 0 && small.fields.first == "600", "curl \(small)")
                    let big = try download(lab, family, "big", seconds: 4)
                    #expect(big.status == 28, "the large download hangs: curl \(big)")
                }
                #expect(try #require(report.rule("drop-too-big")).fired > 0)
                let route = try lab.run(lab.server, ["ip", family == .v4 ? "-4" : "-6", "route", "get", Lab.clientAddress[family]!]).output
                #expect(!route.contains("mtu 1400"), "no ICMP told the server: \(route)")
            }
        }

        /// The size is that of each segment on the wire, not of the GSO super-packet (up to 64 KiB)
        /// the server's stack hands down: with the limit at the link's own 1500 bytes nothing is
        /// too big, and a large download completes with no packet dropped.
        @Test func aSizeLimitAtTheLinkMTUDropsNothing() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big": .filled(4_000_000)])
                let netfault = try lab.netfault(in: lab.middlebox, rulesFile: Lab.preset("pmtu-blackhole"), ["--report", "json", "--set", "mtu=1500"])
                let big = try download(lab, .v4, "big", seconds: 20)
                #expect(big.status == 0 && big.fields.first == "4000000", "curl \(big)")
                let report = try lab.stop(netfault).report
                #expect(try #require(report.rule("drop-too-big")).fired == 0)
                #expect(report.queue.packets > 2_000, "the download's segments went through the queue one by one: \(report.queue)")
            }
        }

        /// The same path with an honest router: the server is told the MTU, caches it, and the
        /// large download completes.
        @Test(arguments: Lab.Family.allCases)
        func pmtuHonestLetsTheSenderAdapt(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big": .filled(2_000_000)])
                let report = try presets.withPreset("pmtu-honest", in: lab) {
                    let big = try download(lab, family, "big", seconds: 30)
                    #expect(big.status == 0 && big.fields.first == "2000000", "curl \(big)")
                }
                #expect(try #require(report.rule("too-big")).fired > 0)
                let route = try lab.run(lab.server, ["ip", family == .v4 ? "-4" : "-6", "route", "get", Lab.clientAddress[family]!]).output
                #expect(route.contains("mtu 1400"), "the server cached the path MTU it was told: \(route)")
            }
        }

        /// The server's socket of a connection opened through `preset` (with `options`).
        func serverSocketInfo(_ lab: Lab, _ family: Lab.Family, preset: String, _ options: [String] = []) throws -> (info: String, report: Report) {
            var report: Report?
            let info = try TCPOptions.serverSocketInfo(lab, family, port: 8080) {
                try lab.netfault(in: lab.middlebox, rulesFile: Lab.preset(preset), ["--report", "json"] + options)
            } checking: { stopped in
                report = try stopped.report
            }
            return (info, try #require(report))
        }

        @Test(arguments: Lab.Family.allCases)
        func mssClampLowersWhatTheServerSends(_ family: Lab.Family) throws {
            try withLab { lab in
                let (info, report) = try serverSocketInfo(lab, family, preset: "mss-clamp")
                // 1200 less the 12 bytes of timestamps.
                #expect(TCPOptions.field("mss", in: info) == "1188", "\(info)")
                #expect(report.rule("clamp-syn")?.fired ?? 0 >= 1 && report.rule("clamp-syn-ack")?.fired ?? 0 >= 1)
            }
        }

        /// Stripped from the SYN, window scaling is off on both sides; stripped from the SYN-ACK,
        /// the server scales while the client does not (the asymmetric case of KB 934430).
        @Test(arguments: Lab.Family.allCases)
        func windowScaleBrokenTurnsScalingOff(_ family: Lab.Family) throws {
            try withLab { lab in
                let (info, report) = try serverSocketInfo(lab, family, preset: "window-scale-broken")
                #expect(TCPOptions.field("rcvmss", in: info) != nil && TCPOptions.field("wscale", in: info) == nil, "\(info)")
                #expect(report.rule("strip-wscale")?.fired ?? 0 >= 1)
                let (asymmetric, _) = try serverSocketInfo(lab, family, preset: "window-scale-broken", ["--set", "flags=[syn, ack]"])
                #expect(TCPOptions.field("wscale", in: asymmetric) != nil, "the server still scales: \(asymmetric)")
            }
        }

        /// A request on a connection idle past the timeout: silently lost (the default), or reset
        /// on both sides (Azure's TCP reset on idle).
        @Test(arguments: [("aws-nat-idle", "drop"), ("azure-lb-idle", "drop"), ("azure-lb-idle", "{reset: both}"), ("aws-nat-idle", "{reset: client}")])
        func anIdleConnectionIsForgotten(_ preset: String, _ onIdle: String) throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "8080"])
                let report = try presets.withPreset(preset, in: lab, options: ["--set", "idle=2s", "--set", "on_idle=\(onIdle)"]) {
                    let client = try presets.session(lab, .v4, ["--rounds", "2", "--interval", "3", "--user-timeout-ms", "2000"])
                    let expected = onIdle == "drop" ? "ETIMEDOUT" : "ECONNRESET"
                    #expect(client["errno"] as? String == expected && client["round"] as? Int == 2, "\(client)")
                }
                let connection = try #require(report.connections(toPort: 8080).first)
                switch onIdle {
                case "drop": #expect(connection.outcome == "aborted" && connection.winsock_code.client == 10053, "\(connection)")
                case "{reset: both}":
                    #expect(connection.outcome == "reset" && connection.winsock_code.client == 10054 && connection.errno.server == "ECONNRESET",
                            "\(connection)")
                default: #expect(connection.outcome == "reset" && connection.winsock_code.client == 10054, "\(connection)")
                }
            }
        }

        /// UDP to the port vanishes both ways while TCP to the same port works.
        @Test func udpBlockedDropsDatagramsOnly() throws {
            try withLab { lab in
                _ = try lab.peerServer(["udp-echo", "8080"])
                _ = try lab.httpServer(files: ["index.html": .filled(100)])
                let report = try presets.withPreset("udp-blocked", in: lab, options: ["--set", "server_port=8080"]) {
                    let udp = try lab.peer(lab.client, ["udp-client", Lab.serverAddress[.v4]!, "8080", "--count", "3", "--timeout", "0.5"])
                    #expect((udp["errors"] as? [String])?.count == 3, "\(udp)")
                    let tcp = try lab.curl(.v6, "index.html")
                    #expect(tcp.status == 0 && tcp.fields.first == "100", "curl \(tcp)")
                }
                #expect(report.rule("drop-udp")?.fired == 3)
            }
        }

        /// A reply right after the client's datagram arrives; the server's push after the mapping
        /// timed out is lost; once the client sends again, replies pass.
        @Test(arguments: Lab.Family.allCases)
        func natUDPForgetsAnIdleMapping(_ family: Lab.Family) throws {
            try withLab { lab in
                let server = try lab.start(lab.server, ["python3", "-c", """
                    import socket, time
                    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    s.bind(("::", 8080)); print("ready", flush=True)
                    data, peer = s.recvfrom(100); s.sendto(b"reply", peer)
                    time.sleep(3); s.sendto(b"push", peer)
                    data, peer = s.recvfrom(100); s.sendto(b"reply-again", peer)
                    """])
                #expect(server.waitFor("ready"))
                let report = try presets.withPreset("nat-udp-30s", in: lab, options: ["--set", "idle=2s", "--set", "server_port=8080"]) {
                    let client = try lab.run(lab.client, ["python3", "-c", """
                        import socket, sys
                        c = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
                        c.connect((sys.argv[1], 8080)); c.settimeout(5)
                        c.send(b"hello"); print(c.recv(100).decode(), flush=True)
                        try: print(c.recv(100).decode(), flush=True)
                        except socket.timeout: print("nothing", flush=True)
                        c.send(b"again"); print(c.recv(100).decode(), flush=True)
                        """, Lab.serverAddress[family]!], timeout: 20)
                    #expect(client.output.split(separator: "\n") == ["reply", "nothing", "reply-again"], "\(client.output) \(client.errors)")
                }
                #expect(report.rule("mapping-expired")?.fired == 1)
            }
        }
    }
}
