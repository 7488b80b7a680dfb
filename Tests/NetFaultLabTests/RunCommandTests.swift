import Foundation
import Testing

extension LabTests {
    /// `netfault run RULES -- COMMAND`: faults while the command runs, then the report, and the
    /// command's status as netfault's.
    @Suite struct RunCommand {
        static let refuseRules = """
            hooks: [output, input]
            rules:
              - name: refuse
                match: {server_port: 8080, flags: [syn]}
                action: {reject: tcp-reset}
                expect: {outcome: refused}
            """

        @Test func theCommandsStatusBecomesNetfaultsAndTheReportFollows() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--report", "json", "--",
                                                      "curl", "-s", "-o", "/dev/null", lab.url(.v4, "index.html")])
                #expect(result.status == 7, "curl's exit status: \(result.errors)")
                let report = try Report(json: result.output)
                #expect(report.stop_reason == "curl exited with status 7")
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused"])
                #expect(report.rule("refuse")?.passed == true)
                #expect(try lab.netfaultRules(in: lab.client).isEmpty)
            }
        }

        @Test func aSucceedingCommandWithAnUnprovenRuleExits3() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("unproven.yaml", """
                    hooks: [output, input]
                    rules:
                      - name: reset-downloads
                        match: {server_port: 8080, from: server, after_bytes: 1MB}
                        action: {reset: both}
                    """)
                let junit = lab.directory.appendingPathComponent("report.xml").path
                let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--report", "junit", "--report-file", junit, "--",
                                                      "curl", "-s", "-o", "/dev/null", lab.url(.v4, "index.html")])
                #expect(result.status == 3)
                #expect(result.errors.contains("reset-downloads (never fired)"), "\(result.errors)")
                let xml = try String(contentsOfFile: junit, encoding: .utf8)
                #expect(xml.contains(#"<failure message="never fired""#), "\(xml)")
            }
        }

        @Test func signalsArePassedOnToTheCommand() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                let netfault = try lab.start(lab.client, [Lab.netfaultPath, "run", rules, "--report", "json", "--", "sleep", "30"])
                #expect(netfault.waitFor("diverting", timeout: 15), "\(netfault.errors)")
                usleep(300_000)
                netfault.signal(SIGTERM)
                #expect(netfault.wait(timeout: 10), "netfault still runs 10 s after SIGTERM")
                #expect(netfault.status == 128 + SIGTERM, "sleep killed by SIGTERM: \(netfault.errors)")
                #expect(netfault.output.contains("sleep was killed by signal 15"), "\(netfault.output)")
                #expect(try lab.netfaultRules(in: lab.client).isEmpty)
            }
        }

        @Test func aCommandThatCannotStartLeavesNothingInstalled() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--", "no-such-command-\(lab.id)"])
                #expect(result.status == 127)
                #expect(result.errors.contains("no such command in PATH"), "\(result.errors)")
                #expect(!result.errors.contains("diverting"), "refused before anything was installed")
                #expect(try lab.netfaultRules(in: lab.client).isEmpty)
            }
        }

        /// The command's last connection closes as the command exits (its FIN and the last ACK
        /// follow the exit): `run` keeps watching until it has closed, so it is reported `closed`,
        /// not `open`. The file only observes: no rule, the connection diverted and reported.
        @Test func theLastConnectionIsReportedClosed() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("observe.yaml", "hooks: [output, input]\nobserve:\n  - {server_port: 8080}\n")
                for round in 1...8 {
                    let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--report", "json", "--",
                                                          "curl", "-s", "-o", "/dev/null", lab.url(.v4, "index.html")])
                    #expect(result.status == 0, "round \(round): \(result.errors)")
                    let report = try Report(json: result.output)
                    #expect(report.connections(toPort: 8080).map(\.outcome) == ["closed"], "round \(round): \(report.connections)")
                    #expect(report.rules.isEmpty)
                }
            }
        }

        /// `--exit expectations`: the status says whether the faults did what they should, whatever
        /// the command's (curl exits 7 by design here); the report keeps the command's status.
        @Test func exitExpectationsSeparatesTheFaultsFromTheCommand() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let curl = ["curl", "-s", "-o", "/dev/null", lab.url(.v4, "index.html")]
                // A preset by name, its parameters set on the command line.
                let met = try lab.run(lab.client, [Lab.netfaultPath, "run", "firewall-reject", "--set", "hooks=[output, input]",
                                                   "--set", "prohibited_port=9443", "--report", "json", "--exit", "expectations", "--"] + curl)
                #expect(met.status == 3, "reject-prohibited never fired: \(met.errors)")
                let refused = try lab.file("refuse.yaml", Self.refuseRules)
                let held = try lab.run(lab.client, [Lab.netfaultPath, "run", refused, "--report", "json", "--exit", "expectations", "--"] + curl)
                #expect(held.status == 0, "\(held.errors)")
                let report = try Report(json: held.output)
                #expect(report.command?.status == 7 && report.command?.argv.first == "curl", "\(String(describing: report.command))")
                let plain = try lab.run(lab.client, [Lab.netfaultPath, "run", refused, "--report", "json", "--"] + curl)
                #expect(plain.status == 7, "by default the command's status")
            }
        }
    }
}
