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
            let lab = try Lab()
            defer { lab.close() }
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

        @Test func aSucceedingCommandWithAnUnprovenRuleExits3() throws {
            let lab = try Lab()
            defer { lab.close() }
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

        @Test func signalsArePassedOnToTheCommand() throws {
            let lab = try Lab()
            defer { lab.close() }
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

        @Test func aCommandThatCannotStartLeavesNothingInstalled() throws {
            let lab = try Lab()
            defer { lab.close() }
            let rules = try lab.file("refuse.yaml", Self.refuseRules)
            let result = try lab.run(lab.client, [Lab.netfaultPath, "run", rules, "--", "no-such-command-\(lab.id)"])
            #expect(result.status == 127)
            #expect(result.errors.contains("no such command in PATH"), "\(result.errors)")
            #expect(!result.errors.contains("diverting"), "refused before anything was installed")
            #expect(try lab.netfaultRules(in: lab.client).isEmpty)
        }
    }
}
