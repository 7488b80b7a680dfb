import Foundation
import Testing

extension LabTests {
    /// Faults on real third-party servers and clients — nginx and curl, PostgreSQL and psql, Redis
    /// and redis-cli, vsftpd in passive mode and curl, OpenSSH, an SMTP server (aiosmtpd) and curl
    /// — IPv4 and IPv6, and the report checked against what each client really got. Presets are
    /// named, and their parameters set, as a user does.
    @Suite struct ThirdPartyServers {
        /// A rewrite on every packet of a psql session (the client's offloaded checksums included)
        /// arrives: the query answers and PostgreSQL's stack counts no checksum error.
        @Test(arguments: Lab.Family.allCases)
        func psqlThroughARewriteOfEveryPacket(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.postgres()
                let errorsBefore = try lab.checksumErrors(in: lab.server)
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: mark
                        match: {server_port: 5432}
                        action: {rewrite: {tos: 8}}
                    """)
                let query = try lab.psql(family, "select count(*) from generate_series(1, 50000)")
                #expect(query.status == 0 && query.output == "50000\n", "psql: \(query.output) \(query.errors)")
                #expect(try lab.checksumErrors(in: lab.server) == errorsBefore)
                let report = try lab.stop(netfault).report
                let session = try #require(report.connections(toPort: 5432).first)
                #expect(session.outcome == "closed" && (report.rule("mark")?.fired ?? 0) >= 10, "\(session)")
            }
        }

        /// `netfault run` around a one-shot `redis-cli PING`, observing only: the connection is
        /// reported closed, every time (without the linger after the command's exit, a third of
        /// these were reported open).
        @Test(arguments: Lab.Family.allCases)
        func aOneShotRedisCLIIsReportedClosed(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.redis()
                let rules = try lab.file("observe.yaml", "hooks: [output, input]\nobserve:\n  - {server_port: 6379}\n")
                for round in 1...6 {
                    let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--report", "json", "--",
                                                          "redis-cli", "-h", lab.host(family, bracketed: false), "PING"])
                    #expect(result.status == 0 && result.output.hasPrefix("PONG"), "round \(round): \(result.errors)")
                    let json = String(result.output.drop { $0 != "{" })
                    let report = try Report(json: json)
                    #expect(report.connections(toPort: 6379).map(\.outcome) == ["closed"], "round \(round): \(report.connections)")
                }
            }
        }

        /// The server-crash preset, its port set to nginx's: curl gets ECONNRESET mid-download, the
        /// report gives both sides' errors and what it let through toward curl: at least its body and header.
        @Test(arguments: Lab.Family.allCases)
        func nginxCrashingMidDownload(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.nginx(port: 8081, files: ["big.bin": try Data(contentsOf: URL(fileURLWithPath: lab.payloadFile("big.bin", bytes: 3_000_000)))])
                let netfault = try lab.netfault(in: lab.middlebox, rulesFile: "server-crash",
                                                ["--set", "server_port=8081", "--set", "after_bytes=500KiB", "--report", "json"])
                let curl = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{size_header}",
                                                    "http://\(lab.host(family)):8081/big.bin"])
                #expect(curl.status == 56, "curl: \(curl.status) \(curl.errors)")
                let fields = curl.output.split(separator: " ").compactMap { Int($0) } + [-1, -1]
                let wget = try lab.run(lab.client, ["wget", "-q", "-O", "/dev/null", "--tries=1", "http://\(lab.host(family)):8081/big.bin"])
                #expect(wget.status == 4, "wget's network failure: \(wget.status) \(wget.errors)")
                let report = try lab.stop(netfault).report
                let download = try #require(report.connections(toPort: 8081).first)
                #expect(download.outcome == "reset" && download.errno.client == "ECONNRESET" && download.errno.server == "ECONNRESET", "\(download)")
                // At least what curl read; segments let through just before the RST may reach a closed socket.
                #expect(download.bytes.server >= fields[0] + fields[1] && download.bytes.server <= fields[0] + fields[1] + 2 * 65_536,
                        "report \(download.bytes.server), curl \(fields)")
                #expect(report.connections(toPort: 8081).count == 2 && report.rule("crash-mid-transfer")?.passed == true)
            }
        }

        /// The ack-loss preset on ssh: an upload to `cat > /dev/null`, while sshd answers with
        /// window adjustments (its ACKs ride on them). Everything of the server's vanishes, the
        /// client's stack gives up (tcp_retries2 lowered in its namespace, so in seconds), and the
        /// report says aborted, ETIMEDOUT / WSAECONNABORTED 10053, on the client's side.
        @Test(arguments: Lab.Family.allCases)
        func sshUploadWhoseAcknowledgmentsVanish(_ family: Lab.Family) throws {
            try withLab { lab in
                let sshd = try lab.sshd()
                let upload = try lab.payloadFile("upload.bin", bytes: 20_000_000)
                _ = try lab.run(lab.client, ["sysctl", "-qw", "net.ipv4.tcp_retries2=3"])
                let netfault = try lab.netfault(in: lab.middlebox, rulesFile: "ack-loss",
                                                ["--set", "server_port=2222", "--set", "after_bytes=200KiB", "--report", "json"])
                let ssh = try lab.run(lab.client, ["sh", "-c", (lab.sshCommand(family, key: sshd.key) + ["'cat > /dev/null'"]).joined(separator: " ") + " < \(upload)"],
                                      timeout: 90)
                #expect(ssh.status == 255, "ssh: \(ssh.status) \(ssh.errors)")
                let report = try lab.stop(netfault).report
                let connection = try #require(report.connections(toPort: 2222).first)
                #expect(connection.outcome == "aborted" && connection.aborted_side == "client", "\(connection)")
                #expect(connection.errno.client == "ETIMEDOUT" && connection.winsock_code.client == 10053 && connection.errno.server == nil)
            }
        }

        /// The proxy-early-close preset on SMTP: curl's mail upload meets an RST after 64 KiB; curl
        /// says "Send failure: Connection reset by peer" (55), the report ECONNRESET for the
        /// client alone.
        @Test(arguments: Lab.Family.allCases)
        func smtpUploadResetByAProxy(_ family: Lab.Family) throws {
            try withLab { lab in
                try lab.smtpServer()
                let mail = try lab.file("mail.txt", "Subject: lab\r\n\r\n" + String(repeating: "0123456789abcdef\r\n", count: 60_000))
                let netfault = try lab.netfault(in: lab.middlebox, rulesFile: "proxy-early-close", ["--set", "server_port=8025", "--report", "json"])
                let curl = try lab.sendMail(family, file: mail)
                #expect(curl.status == 55, "curl: \(curl.status) \(curl.errors)")
                let report = try lab.stop(netfault).report
                let connection = try #require(report.connections(toPort: 8025).first)
                #expect(connection.outcome == "reset" && connection.errno.client == "ECONNRESET" && connection.errno.server == nil, "\(connection)")
                #expect(connection.reset_by?.sender == "netfault" && connection.reset_by?.toward == "client")
            }
        }

        /// FTP in passive mode: the control connection is only observed, the data connection
        /// crashes after 300 KiB. curl fails the transfer; the report lists the control connection
        /// (closed, never faulted) and the data connection (reset, the bytes curl got).
        @Test(arguments: Lab.Family.allCases)
        func ftpPassiveDataConnectionCrashes(_ family: Lab.Family) throws {
            try withLab { lab in
                let payload = try Data(contentsOf: URL(fileURLWithPath: lab.payloadFile("file.bin", bytes: 2_000_000)))
                try lab.vsftpd(files: ["file.bin": payload])
                let data = Lab.ftpDataPorts
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    observe:
                      - {server_port: 2121}
                    rules:
                      - name: data-crash
                        match: {server_port: \(data.lowerBound)-\(data.upperBound), from: server, after_bytes: 300KiB}
                        action: {reset: both}
                        expect: {outcome: reset}
                    """)
                let curl = try lab.run(lab.client, ["curl", "-s", "--ftp-pasv", "-o", "/dev/null", "-w", "%{size_download}",
                                                    "ftp://\(lab.host(family)):2121/file.bin"])
                #expect([18, 56].contains(curl.status), "curl: \(curl.status) \(curl.errors)")
                let received = Int(curl.output) ?? -1
                let report = try lab.stop(netfault).report
                let control = try #require(report.connections(toPort: 2121).first)
                #expect(control.faults.isEmpty && ["closed", "reset"].contains(control.outcome), "\(control)")
                let transfer = try #require(report.connections.first { $0.server.hasSuffix(":\(data.lowerBound)") || data.contains(Int($0.server.split(separator: ":").last ?? "") ?? 0) })
                #expect(transfer.outcome == "reset" && transfer.errno.client == "ECONNRESET", "\(transfer)")
                // At least what curl read; segments let through just before the RST may reach a closed socket.
                #expect(transfer.bytes.server >= received && transfer.bytes.server <= received + 2 * 65_536,
                        "report \(transfer.bytes.server), curl \(received)")
            }
        }
    }
}
