import Foundation
import Testing

extension LabTests {
    /// netfault under an address-space limit (`ulimit -v`, netfault's alone: set in the shell
    /// that execs it). Too low a limit is refused with the figures before anything is installed;
    /// under the limit netfault names, a SYN flood is reported whole, every connection listed:
    /// the report is written with bounded memory, when the hooks are gone and a crash would
    /// lose the only record of the run.
    @Suite struct MemoryLimit {
        static let rules = """
            hooks: [forward]
            rules:
              - name: blackhole
                match: {server_port: 8080, flags: [syn]}
                action: drop
            """
        /// Enough for the program and its libraries to load, not for the run (about 270 MB).
        static let tooLow = 150_000
        static let synCount = 50_000

        /// `netfault apply` on the middlebox under `ulimit -v kib`, in the background, its control
        /// socket in the lab's directory.
        func netfault(_ lab: Lab, limit kib: Int, _ options: [String]) throws -> Background {
            let rules = try lab.file("flood.yaml", Self.rules)
            let control = lab.directory.appendingPathComponent("control.sock").path
            let command = ([Lab.netfaultPath, "apply", rules, "--control", control] + options).joined(separator: " ")
            return try lab.start(lab.middlebox, ["bash", "-c", "ulimit -v \(kib) && exec \(command)"])
        }

        /// The limit netfault asks for when refusing, in KiB: "(ulimit -v N or more)".
        func limitAskedFor(in errors: String) -> Int? {
            guard let range = errors.range(of: "(ulimit -v ") else { return nil }
            return Int(errors[range.upperBound...].prefix { $0.isNumber })
        }

        @Test func tooLowALimitIsRefusedWithTheFiguresBeforeAnythingIsInstalled() throws {
            try withLab { lab in
                let netfault = try netfault(lab, limit: Self.tooLow, ["--report", "json"])
                #expect(netfault.wait(timeout: 20), "netfault still ran: \(netfault.errors)")
                #expect(netfault.status == 64, "\(netfault.status): \(netfault.errors)")
                let errors = netfault.errors
                #expect(errors.contains("the address-space limit (ulimit -v) is \(Self.tooLow) KiB"), "\(errors)")
                #expect(errors.contains("for the flow table (flows.max_tracked 262144)") && errors.contains("nothing was installed"), "\(errors)")
                #expect((limitAskedFor(in: errors) ?? 0) > Self.tooLow, "\(errors)")
                #expect(!errors.contains("diverting") && !errors.contains("Fatal error"), "\(errors)")
                #expect(netfault.output.isEmpty, "no report: \(netfault.output)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// 50 000 SYNs, each a connection of its own, dropped by a rule; SIGINT; the JSON report
        /// lists every one, under the limit netfault asked for and 40 MiB more: far below what
        /// building the report whole took (about 250 MB more for these connections).
        @Test func aFloodIsReportedWholeUnderAMemoryLimit() throws {
            try withLab { lab in
                let refused = try netfault(lab, limit: Self.tooLow, [])
                #expect(refused.wait(timeout: 20))
                let limit = try #require(limitAskedFor(in: refused.errors), "no limit asked for: \(refused.errors)") + 40 * 1024
                let reportFile = lab.directory.appendingPathComponent("flood.json").path
                let netfault = try netfault(lab, limit: limit, ["--report", "json", "--report-file", reportFile])
                #expect(netfault.waitFor("diverting", timeout: 20), "netfault did not start under ulimit -v \(limit): \(netfault.errors)")
                let sent = try lab.peer(lab.client, ["syn-flood", Lab.serverAddress[.v4]!, "8080", "--count", "\(Self.synCount)", "--rate", "10000"])
                #expect(sent["sent"] as? Int == Self.synCount, "\(sent)")
                usleep(500_000)
                netfault.signal(SIGINT)
                #expect(netfault.wait(timeout: 60), "netfault still ran 60 s after SIGINT")
                #expect(netfault.status == 0, "\(netfault.status): \(netfault.errors.suffix(2000))")
                #expect(!netfault.errors.contains("Fatal error"), "\(netfault.errors.suffix(2000))")
                let report = try Report(json: try String(contentsOfFile: reportFile, encoding: .utf8))
                #expect(report.stop_reason == "SIGINT received")
                #expect(report.flows.created >= Self.synCount * 95 / 100, "most SYNs reached netfault: \(report.flows) \(report.queue)")
                #expect(report.connections.count == report.flows.created, "every connection listed: \(report.flows)")
                #expect(report.rule("blackhole")?.fired == report.flows.created)
                #expect(report.connections.allSatisfy { $0.outcome == "connect-timeout" && $0.faults.first?.rule == "blackhole" })
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }
    }
}
