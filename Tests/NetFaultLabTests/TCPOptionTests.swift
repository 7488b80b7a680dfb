import Foundation
import Testing

extension LabTests {
    /// `strip_options` and `clamp_mss` at the middlebox, seen where it matters: in the server's
    /// own socket (`ss -tin`), IPv4 and IPv6.
    @Suite struct TCPOptions {
        /// The server's `ss -tin` line for a connection the client holds open on port 9000, with
        /// `action` on the client's SYN (nil: no netfault).
        func serverSocketInfo(_ lab: Lab, _ family: Lab.Family, action: String?) throws -> String {
            try Self.serverSocketInfo(lab, family, port: 9000) {
                try action.map { action in
                    try lab.netfault(.forward, rules: "rules:\n  - name: syn\n    match: {server_port: 9000, flags: [syn]}\n    action: \(action)\n")
                }
            } checking: { stopped in
                let fired = try stopped.report.rule("syn")?.fired
                #expect(fired == 1, "\(stopped.output)")
            }
        }

        /// The server's `ss -tin` line for a connection the client holds open on `port`, with the
        /// netfault `start` starts (nil: none) in place from before the connection opens; `checking`
        /// gets its stop.
        static func serverSocketInfo(_ lab: Lab, _ family: Lab.Family, port: Int, start: () throws -> Background?,
                                     checking: (Lab.Stopped) throws -> Void) throws -> String {
            let server = try lab.start(lab.server, ["python3", "-c", """
                import socket, sys, time
                s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(("::", int(sys.argv[1]))); s.listen(); print("ready", flush=True)
                c, _ = s.accept(); time.sleep(30)
                """, "\(port)"])
            #expect(server.waitFor("ready"))
            let netfault = try start()
            let client = try lab.start(lab.client, ["python3", "-c", """
                import socket, sys, time
                c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5); c.sendall(b"x" * 100000); print("connected", flush=True); time.sleep(30)
                """, Lab.serverAddress[family]!, "\(port)"])
            #expect(client.waitFor("connected", timeout: 10), "\(client.errors)")
            let info = try lab.run(lab.server, ["ss", "-tinH", "state", "established", "( sport = :\(port) )"]).output
            if let netfault { try checking(lab.stop(netfault)) }
            client.kill()
            server.kill()
            return info
        }

        /// A field of `ss -i`'s output: `mss:1448` → "1448", `wscale:7,7` → "7,7".
        static func field(_ name: String, in info: String) -> String? {
            info.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                .first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
        }

        /// Window scaling stripped from the SYN is off for the connection: the server's socket has
        /// no `wscale` (it never answers with one).
        @Test(arguments: Lab.Family.allCases)
        func windowScalingStrippedFromTheSYNIsOffForTheConnection(_ family: Lab.Family) throws {
            try withLab { lab in
                let plain = try serverSocketInfo(lab, family, action: nil)
                #expect(Self.field("wscale", in: plain) != nil, "without netfault: \(plain)")
                let stripped = try serverSocketInfo(lab, family, action: "{strip_options: [wscale]}")
                #expect(Self.field("rcvmss", in: stripped) != nil && Self.field("wscale", in: stripped) == nil, "\(stripped)")
            }
        }

        /// An MSS clamped to 1200 in the client's SYN: the server sends no segment above it
        /// (1200 less the 12 bytes of timestamps), where it would send 1448 or 1428 otherwise.
        @Test(arguments: Lab.Family.allCases)
        func aClampedMSSIsWhatTheServerSends(_ family: Lab.Family) throws {
            try withLab { lab in
                let plain = try serverSocketInfo(lab, family, action: nil)
                #expect(Int(Self.field("mss", in: plain) ?? "") ?? 0 > 1400, "without netfault: \(plain)")
                let clamped = try serverSocketInfo(lab, family, action: "{clamp_mss: 1200}")
                #expect(Self.field("mss", in: clamped) == "1188", "\(clamped)")
            }
        }
    }
}

extension LabTests {
    /// `{reject: icmp-frag-needed | icmp6-packet-too-big, mtu: 1300}` on one segment of a
    /// download: the server's own stack takes the message, caches the lower path MTU (`ip route
    /// get`) and finishes the download in smaller segments, IPv4 and IPv6.
    @Suite struct PathMTU {
        @Test(arguments: Lab.Family.allCases)
        func aSenderToldThePacketWasTooBigAdaptsAndCompletes(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big": .filled(2_000_000)])
                let kind = family == .v4 ? "icmp-frag-needed" : "icmp6-packet-too-big"
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: too-big
                        match: {server_port: 8080, from: server, nth: 5}
                        action: {reject: \(kind), mtu: 1300}
                    """)
                let download = try lab.curl(family, "big", ["--max-time", "30"])
                #expect(download.status == 0 && download.fields.first == "2000000", "curl \(download)")
                let route = try lab.run(lab.server, ["ip", family == .v4 ? "-4" : "-6", "route", "get", Lab.clientAddress[family]!]).output
                #expect(route.contains("mtu 1300"), "the server cached the path MTU it was told: \(route)")
                let stopped = lab.stop(netfault)
                #expect(try stopped.report.rule("too-big")?.fired == 1, "\(stopped.output)")
            }
        }
    }
}

extension LabTests {
    /// `{slice: {size: 64}}` at the middlebox: a 64 KiB write reaches the server intact (its
    /// SHA-256 the same) in at least a thousand segments, IPv4 and IPv6.
    @Suite struct Slicing {
        @Test(arguments: Lab.Family.allCases)
        func aSlicedStreamArrivesWholeInSmallSegments(_ family: Lab.Family) throws {
            try withLab { lab in
                let server = try lab.start(lab.server, ["python3", "-c", """
                    import hashlib, socket
                    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    s.bind(("::", 9000)); s.listen(); print("ready", flush=True)
                    c, _ = s.accept(); data = b""
                    while len(data) < 65536:
                        chunk = c.recv(65536)
                        if not chunk: break
                        data += chunk
                    print("got", len(data), hashlib.sha256(data).hexdigest(), flush=True)
                    """])
                #expect(server.waitFor("ready"))
                func segmentsIn() throws -> Int {
                    let line = try lab.run(lab.server, ["nstat", "-az", "TcpInSegs"]).output
                    return Int(line.split(separator: "\n").last?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
                }
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: slice
                        match: {server_port: 9000, from: client}
                        action: {slice: {size: 64}}
                    """)
                let before = try segmentsIn()
                let client = try lab.run(lab.client, ["python3", "-c", """
                    import hashlib, socket, sys, time
                    data = bytes(range(256)) * 256
                    c = socket.create_connection((sys.argv[1], 9000), timeout=10); c.sendall(data); time.sleep(1)
                    print(hashlib.sha256(data).hexdigest())
                    """, Lab.serverAddress[family]!], timeout: 30)
                #expect(server.wait(timeout: 10))
                let sent = client.output.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(!sent.isEmpty && server.output.contains("got 65536 \(sent)"), "\(server.output) \(client.errors)")
                #expect(try segmentsIn() - before >= 1024, "64 KiB in segments of at most 64 bytes")
                let stopped = lab.stop(netfault)
                #expect(try stopped.report.rule("slice")?.fired ?? 0 > 0)
            }
        }
    }
}

extension LabTests {
    /// A firewall that refuses ECN-setup SYNs (RFC 3360 §2.1): `flags: [syn, ece, cwr]` refuses
    /// a client that asks for ECN (net.ipv4.tcp_ecn=1) and lets one that does not through.
    @Suite struct ECNSetup {
        @Test(arguments: Lab.Family.allCases)
        func onlyTheECNSetupSYNIsRefused(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: ecn-syn
                        match: {server_port: 8080, flags: [syn, ece, cwr]}
                        action: {reject: tcp-reset}
                    """)
                #expect(try lab.curl(family, "index.html").status == 0, "no ECN asked: through")
                try lab.run(lab.client, ["sysctl", "-qw", "net.ipv4.tcp_ecn=1"])
                #expect(try lab.curl(family, "index.html").status == 7, "ECN asked: refused")
                let stopped = lab.stop(netfault)
                #expect(try stopped.report.rule("ecn-syn")?.fired == 1)
            }
        }
    }
}
