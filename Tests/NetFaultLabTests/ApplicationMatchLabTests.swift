import Foundation
import Testing

extension LabTests {
    /// `tls_sni:` at the middlebox against nginx over TLS: the blocked name is reset, another name
    /// on the same server works, also when the ClientHello comes in two segments.
    @Suite struct TLSServerName {
        static let rules = """
            rules:
              - name: block
                match: {server_port: 443, tls_sni: "*.blocked.example"}
                action: {reset: both}
            """

        @Test(arguments: Lab.Family.allCases)
        func curlToTheBlockedNameIsResetAndAnotherNameWorks(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.nginxTLS()
                let netfault = try lab.netfault(.forward, rules: Self.rules)
                let blocked = try lab.httpsStatus(family, name: "www.BLOCKED.example")
                let other = try lab.httpsStatus(family, name: "www.ok.example")
                let report = try lab.stop(netfault).report
                #expect([35, 56].contains(blocked), "curl exit \(blocked)")
                #expect(other == 0)
                let faulted = report.faulted
                #expect(faulted.count == 1 && faulted.first?.outcome == "reset" && faulted.first?.faults.first?.rule == "block",
                        "\(faulted)")
                #expect(report.rule("block")?.connections == 1)
            }
        }

        /// A real ClientHello (Python's ssl) sent in two segments, 50 bytes and the rest, with
        /// TCP_NODELAY and a pause between: the second segment is the one reset.
        @Test(arguments: Lab.Family.allCases)
        func aHelloInTwoSegmentsIsDecidedOnTheSecond(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.nginxTLS()
                let netfault = try lab.netfault(.forward, rules: Self.rules)
                func split(_ name: String) throws -> String {
                    try lab.run(lab.client, ["python3", "-c", """
                        import socket, ssl, sys, time
                        context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
                        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
                        tls = context.wrap_bio(incoming, outgoing, server_hostname=sys.argv[2])
                        try: tls.do_handshake()
                        except ssl.SSLWantReadError: pass
                        hello = outgoing.read()
                        s = socket.create_connection((sys.argv[1], 443), timeout=5)
                        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        s.sendall(hello[:50]); time.sleep(0.3); s.sendall(hello[50:])
                        try: print("answered" if s.recv(5) else "closed")
                        except ConnectionResetError: print("reset")
                        except socket.timeout: print("timeout")
                        """, Lab.serverAddress[family]!, name], timeout: 20).output.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                let blocked = try split("api.blocked.example")
                let other = try split("api.ok.example")
                let report = try lab.stop(netfault).report
                #expect(blocked == "reset")
                #expect(other == "answered")
                #expect(report.rule("block")?.fired == 1 && report.rule("block")?.connections == 1, "\(report.rules)")
            }
        }
    }

    /// `http:` against python's http.server: a POST to /upload is reset, a GET of the same path works.
    @Suite struct HTTPRequests {
        @Test(arguments: Lab.Family.allCases)
        func onlyThePostIsReset(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["upload": .filled(100)])
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: no-uploads
                        match: {server_port: 8080, http: {method: POST, path: "/upload*"}}
                        action: {reset: both}
                    """)
                let get = try lab.curl(family, "upload")
                let post = try lab.curl(family, "upload", ["--data", "x=1"])
                let report = try lab.stop(netfault).report
                #expect(get.status == 0 && get.fields.first == "100")
                #expect(post.status == 56, "curl exit \(post.status)")
                #expect(report.rule("no-uploads")?.connections == 1)
            }
        }
    }

    /// `dns:` and the `dns` action against dnsmasq: netfault answers in its place (dnsmasq's log
    /// shows it never got the query), other names resolve through dnsmasq.
    @Suite struct DNSAnswers {
        static let rules = """
            rules:
              - name: nx
                match: {dns: {name: "*.blocked.example"}}
                action: {dns: nxdomain}
              - name: redirect
                match: {dns: {name: "redirect.example", type: A}}
                action: {dns: {answer: 198.18.0.66}}
              - name: redirect6
                match: {dns: {name: "redirect.example", type: AAAA}}
                action: {dns: {answer: "2001:db8::66"}}
              - name: black-hole
                match: {dns: {name: "hole.example"}}
                action: drop
            """

        @Test(arguments: Lab.Family.allCases)
        func queriesAreAnsweredInTheServersPlace(_ family: Lab.Family) throws {
            try withLab { lab in
                let dnsmasq = try lab.dnsmasq()
                let netfault = try lab.netfault(.forward, rules: Self.rules)
                let blocked = try lab.dig(family, "www.blocked.example")
                let ok = try lab.dig(family, "www.ok.example")
                let redirected = try lab.dig(family, "redirect.example")
                let redirected6 = try lab.dig(family, "redirect.example", type: "AAAA")
                let stopped = lab.stop(netfault)
                let report = try stopped.report
                #expect(blocked.output.contains("status: NXDOMAIN"), "\(blocked.output)")
                #expect(ok.output.contains("status: NOERROR") && ok.output.contains("198.18.2.50"), "\(ok.output)")
                #expect(redirected.output.contains("198.18.0.66"), "\(redirected.output)")
                #expect(redirected6.output.contains("2001:db8::66"), "\(redirected6.output)")
                let log = dnsmasq.errors
                #expect(log.contains("query[A] www.ok.example"), "\(log)")
                for name in ["blocked.example", "redirect.example"] { #expect(!log.contains(name), "\(name): \(log)") }
                #expect(stopped.status == 0, "\(stopped.errors)")
                for rule in ["nx", "redirect", "redirect6"] { #expect(report.rule(rule)?.fired ?? 0 >= 1, "\(rule)") }
                #expect(report.connections.contains { $0.faults.contains { $0.rule == "nx" && $0.action == "dns" } })
            }
        }

        /// `drop` on a `dns:` match: a DNS black hole; dig gets no answer and dnsmasq no query.
        @Test func aDroppedQueryGetsNoAnswer() throws {
            try withLab { lab in
                let dnsmasq = try lab.dnsmasq()
                let netfault = try lab.netfault(.forward, rules: Self.rules)
                let hole = try lab.dig(.v4, "hole.example")
                let stopped = lab.stop(netfault)
                #expect(hole.output.contains("timed out") && !hole.output.contains("ANSWER SECTION"), "dig exit \(hole.status): \(hole.output)")
                #expect(!dnsmasq.errors.contains("hole.example"), "\(dnsmasq.errors)")
                #expect(try stopped.report.rule("black-hole")?.fired == 1)
            }
        }

        /// Over TCP the query is matched behind its length prefix (the answer is UDP only: a reset here).
        @Test func aQueryOverTCPIsMatched() throws {
            try withLab { lab in
                try lab.dnsmasq()
                let netfault = try lab.netfault(.forward, rules: """
                    rules:
                      - name: tcp-block
                        match: {protocol: tcp, dns: {name: "*.blocked.example"}}
                        action: {reset: client}
                    """)
                let blocked = try lab.dig(.v4, "www.blocked.example", tcp: true)
                let ok = try lab.dig(.v4, "www.ok.example", tcp: true)
                let report = try lab.stop(netfault).report
                #expect(blocked.status != 0 && !blocked.output.contains("198.18.2.50"), "\(blocked.output)")
                #expect(ok.status == 0 && ok.output.contains("198.18.2.50"), "\(ok.output)")
                #expect(report.rule("tcp-block")?.connections == 1)
            }
        }
    }
}
