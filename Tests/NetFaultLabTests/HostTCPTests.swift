import Foundation
import Testing

extension LabTests {
    /// netfault on the client itself (`hooks: [output, input]`): the faults act on this host's own
    /// connections, and the RSTs it injects toward the local stack reach it over loopback routing.
    @Suite struct HostTCP {
        @Test(arguments: Lab.Family.allCases)
        func rejectedSYNsAreRefused(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["index.html": .filled(10)])
            let netfault = try lab.netfault(in: lab.client, rules: """
                hooks: [output, input]
                rules:
                  - name: refuse
                    match: {server_port: 8080, flags: [syn]}
                    action: {reject: tcp-reset}
                """)
            #expect(try lab.curl(family, "index.html").status == 7)
            let socket = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080"])
            #expect(socket["errno"] as? String == "ECONNREFUSED", "\(socket)")
            let stopped = lab.stop(netfault)
            let report = try stopped.report
            #expect(report.rule("refuse")?.fired == 2 && report.rule("refuse")?.connections == 2)
            #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused", "refused"])
            #expect(try lab.netfaultRules(in: lab.client).isEmpty)
            #expect(try lab.curl(family, "index.html").status == 0)
        }

        @Test(arguments: Lab.Family.allCases)
        func resetAfterBytesCutsADownload(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["big.bin": .filled(5_000_000)])
            let netfault = try lab.netfault(in: lab.client, rules: """
                hooks: [output, input]
                rules:
                  - name: server-crash
                    match: {server_port: 8080, from: server, after_bytes: 700KiB}
                    action: {reset: both}
                """)
            let curl = try lab.curl(family, "big.bin")
            #expect(curl.status == 56, "curl exit \(curl.status), expected 56 (connection reset by peer)")
            let received = Int(curl.fields.first ?? "") ?? -1
            #expect(received >= 700_000 && received <= 2_000_000, "curl received \(received) bytes")
            _ = lab.stop(netfault)
        }

        /// Loopback packets pass both hooks; each must be queued once, so a 0.7 s hold stays 0.7 s
        /// (queued twice it would be 1.4). Not 1 s: the server retransmits its SYN-ACK after 1 s,
        /// and a release any later than that (a busy machine) held the retransmission too.
        @Test(arguments: Lab.Family.allCases)
        func loopbackConnectionsAreFaultedOnce(_ family: Lab.Family) throws {
            let lab = try Lab()
            defer { lab.close() }
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

        /// Rules/localhost.yaml, run as its opening comment says, does what the comment promises.
        @Test func theLocalhostExampleDoesWhatItsCommentSays() throws {
            let lab = try Lab()
            defer { lab.close() }
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
