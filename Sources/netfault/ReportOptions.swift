import ArgumentParser
import Foundation
import NetFaultCore
import NetFaultLinux

/// The formats `apply` and `run` write their report in.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, junit
}

/// Options shared by `apply` and `run`: the seed and where the report goes.
struct RunOptions: ParsableArguments {
    @Option(help: "Seed for every probability and jitter (overrides the file's `seed`).")
    var seed: UInt64?

    @Option(help: "The report's format: text, json or junit.")
    var report: ReportFormat = .text

    @Option(help: "Write the report to this file instead of standard output.")
    var reportFile: String?

    @Flag(help: "List every connection in the text report, not only those a fault touched.")
    var all = false

    @Option(help: "Write the packets of the connections a fault touched, as netfault saw and sent them, to this pcap file.")
    var pcap: String?

    @Option(help: "Once the hooks are in place, run as this user, keeping only CAP_NET_ADMIN and CAP_NET_RAW (the --report-file must be writable by it).")
    var user: String?

    @Option(help: "Where the hooks go: auto (nftables owner tables, which the kernel removes if netfault is killed; iptables where the kernel lacks them), nftables, or iptables.")
    var hooks: HookBackend = .auto

    /// Runs the controller on `file` (named `name` in the report), with the status line on a
    /// terminal, and writes the report. Exits 1 when nothing could be installed.
    func execute(_ file: RuleFile, name: String, command: [String]? = nil, linger: Duration = .zero) throws -> Controller.Result {
        let seed = seed ?? file.ruleSet.seed ?? UInt64.random(in: 0...UInt64.max)
        let status = isatty(2) == 1 ? StatusLine() : nil
        let controller = Controller(ruleSet: file.ruleSet, ruleFile: name, seed: seed, capturePath: pcap,
                                    log: { status?.clear(); printError($0) }, progress: status.map { line in { line.show($0) } })
        controller.user = user
        controller.hookBackend = hooks
        let result: Controller.Result
        do {
            result = try controller.run(command: command, linger: linger)
        } catch {
            printError("netfault: \(error)")
            throw ExitCode.failure
        }
        status?.clear()
        if result.failed { printError("netfault: stopped on \(result.report.stopReason)") }
        try write(result.report)
        return result
    }

    private func write(_ report: RunReport) throws {
        let text: String
        switch self.report {
        case .text: text = report.text(all: all)
        case .json: text = report.json()
        case .junit: text = report.junit()
        }
        guard let reportFile else {
            print(text, terminator: "")
            return
        }
        do {
            try text.write(toFile: reportFile, atomically: true, encoding: .utf8)
        } catch {
            printError("netfault: writing the report to \(reportFile): \(error.localizedDescription); the report follows")
            print(text, terminator: "")
            throw ExitCode.failure
        }
    }
}

/// The one line that refreshes on the terminal while a run lasts (standard error).
final class StatusLine {
    private var shown = false

    func show(_ progress: Controller.Progress) {
        printError("\r\u{1B}[Knetfault: \(Int(progress.elapsedSeconds))s, \(progress.packetsPerSecond) packets/s, "
                   + "\(progress.connections) connections tracked, \(progress.faults) faults fired", newline: false)
        shown = true
    }

    func clear() {
        guard shown else { return }
        printError("\r\u{1B}[K", newline: false)
        shown = false
    }
}

extension HookBackend: ExpressibleByArgument {}
