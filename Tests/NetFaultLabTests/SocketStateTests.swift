import Foundation
import Testing

extension LabTests {
    /// The report's error per side is what each application really got, on real stacks.
    @Suite struct SocketState {
        /// Python's http.server answers a POST it does not implement (501) and closes while the
        /// client still uploads: FIN, then an RST for the data that follows. The client's send fails
        /// with EPIPE (the socket had the server's FIN already), and the report says so; the server
        /// sent the RST and got no error.
        @Test(arguments: Lab.Family.allCases)
        func aServerThatClosesDuringAnUploadBreaksTheClientsPipe(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: watch
                        match: {server_port: 8080}
                        action: pass
                    """)
                let request = "POST /upload HTTP/1.1\r\nHost: lab\r\nContent-Length: 8000000\r\n\r\n"
                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080", "--send", request, "--upload", "8000000"])
                #expect(client["errno"] as? String == "EPIPE", "\(client)")
                let report = try lab.stop(netfault).report
                let upload = try #require(report.connections(toPort: 8080).first)
                #expect(upload.outcome == "reset" && upload.reset_by?.sender == "server", "\(upload)")
                #expect(upload.errno.client == client["errno"] as? String && upload.winsock_code.client == 10053, "\(upload)")
                #expect(upload.errno.server == nil, "\(upload)")
            }
        }

        /// 50 RSTs with guessed sequence numbers at each side of a live connection: both stacks
        /// ignore them (RFC 5961), both applications finish normally, and the report agrees.
        @Test(arguments: Lab.Family.allCases)
        func forgedOutOfWindowRSTsResetNothing(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.peerServer(["echo-server", "9004"])
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: watch
                        match: {server_port: 9004}
                        action: pass
                    """)
                let (client, server) = (Lab.clientAddress[family]!, Lab.serverAddress[family]!)
                let session = try lab.start(lab.client, ["python3", Lab.peerPath, "session", server, "9004", "--rounds", "3", "--interval", "1.5"])
                #expect(session.waitFor("connected", timeout: 10))
                let listed = try lab.run(lab.client, ["ss", "-Htn", "state", "established", "( dport = :9004 )"]).output
                let local = try #require(listed.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first, "ss: \(listed)")
                let port = try #require(local.split(separator: ":").last.map(String.init), "ss: \(listed)")
                let towardClient = try lab.peer(lab.server, ["forge-rst", server, "9004", client, port, "--count", "50", "--seed", "1"])
                let towardServer = try lab.peer(lab.client, ["forge-rst", client, port, server, "9004", "--count", "50", "--seed", "2"])
                #expect(towardClient["sent"] as? Int == 50 && towardServer["sent"] as? Int == 50)
                #expect(session.wait(timeout: 15))
                #expect(session.output.contains("\"result\": \"ok\""), "the session saw: \(session.output)")
                let report = try lab.stop(netfault).report
                let connection = try #require(report.connections(toPort: 9004).first)
                #expect(connection.packets.client >= 50 && connection.packets.server >= 50, "the forged RSTs went through netfault: \(connection)")
                #expect(connection.outcome == "closed" && connection.reset_by == nil, "\(connection)")
                #expect(connection.errno.client == nil && connection.errno.server == nil)
            }
        }
    }
}
