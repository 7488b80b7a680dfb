import ArgumentParser
import Foundation
import NetFaultControl
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

    @OptionGroup var target: NamespaceOption

    @OptionGroup var control: ControlOptions

    /// Runs the controller on `file` (named `name` in the report), with the status line on a
    /// terminal, and writes the report. Exits 64 when an option cannot be used (a user that does
    /// not exist, an output file that cannot be written), 1 when nothing could be installed.
    func execute(_ file: RuleFile, name: String, command: [String]? = nil, linger: Duration = .zero) throws -> Controller.Result {
        do {
            try OpenFileBudget.check(queues: file.ruleSet.queues)
        } catch {
            printError("netfault: \(error); nothing was installed")
            throw ExitStatus.usage
        }
        try fitAddressSpace(file.ruleSet)
        let outputs = try openOutputs(ruleFile: name)
        let namespace = try target.resolve()
        // A file-size limit (`ulimit -f`) makes a write fail (EFBIG, reported) instead of killing
        // netfault mid-run with its hooks in place.
        signal(SIGXFSZ, SIG_IGN)
        let seed = seed ?? file.ruleSet.seed ?? UInt64.random(in: 0...UInt64.max)
        let status = isatty(2) == 1 ? StatusLine() : nil
        let controller = Controller(ruleSet: file.ruleSet, ruleFile: name, seed: seed, captureFile: outputs.capture,
                                    log: { status?.clear(); printError($0) }, progress: status.map { line in { line.show($0) } })
        controller.user = user
        controller.hookBackend = hooks
        controller.namespace = namespace
        controller.capabilities = control.anyRules || name == RuleSource.noRulesName ? .anyRule : nil
        // Before any other thread starts: none may take a Ctrl-C meant for the controller.
        try StopSignals.block()
        let place = try control.prepare(queue: file.ruleSet.queue, namespace: namespace)
        let mailbox = try ControlMailbox(resumingOn: ControlServer.apiThread)
        controller.mailbox = mailbox
        // The controller runs on a thread of its own, started now with every privilege (it enters
        // a `--netns` target, binds the queue, installs the hooks, then keeps only CAP_NET_ADMIN
        // and CAP_NET_RAW). This thread then gives up every capability and starts the API, whose
        // threads, started from it, hold none and stay in the caller's namespace.
        let controllerThread = ControllerThread { () throws -> Controller.Result in
            try place.socket.secure()
            return try controller.run(command: command, linger: linger)
        }
        try Privileges.giveUpAllInThisThread(keepingUserSwitch: user != nil)
        let server: ControlServer
        do {
            server = try ControlOptions.serve(mailbox, on: place)
        } catch {
            controllerThread.abandon()
            throw error
        }
        defer {
            // Requests still waiting (a start that failed never ran the loop) get their answer first.
            mailbox.close()
            server.stop()
            place.claim.release()
        }
        printError("netfault: control API on \(place.socket.path)\(control.listen.map { " and http://\($0)" } ?? "")")
        let result: Controller.Result
        do {
            result = try controllerThread.release()
        } catch {
            printError("netfault: \(error)")
            throw ExitCode.failure
        }
        status?.clear()
        if result.failed { printError("netfault: stopped on \(result.report.stopReason)") }
        try write(result.report, to: outputs.report)
        return result
    }

    /// Under an address-space limit (`ulimit -v`): economizes before any thread starts, and
    /// refuses a run that would not fit, with the figures, before anything is installed (it
    /// would die of an allocation that failed, perhaps with its hooks in place). Exits 64.
    private func fitAddressSpace(_ ruleSet: RuleSet) throws {
        AddressSpace.economize()
        do {
            try AddressSpace.check(AddressSpace.Need(ruleSet), flowLimits: ruleSet.flows)
        } catch {
            printError("netfault: \(error); nothing was installed")
            throw ExitStatus.usage
        }
    }

    /// Everything checked before anything is installed: the user, and the report and capture
    /// files, opened now (never through a link, never a FIFO or a device, owner-only, as
    /// `--user` when given) so that a path that cannot be written fails the start, not the end.
    private func openOutputs(ruleFile: String) throws -> (report: OutputFile?, capture: OutputFile?) {
        func refuse(_ message: String) -> ExitCode {
            printError("netfault: \(message); nothing was installed")
            return ExitStatus.usage
        }
        if let user, !Privileges.userExists(user) { throw refuse("--user \(user): no such user") }
        do {
            let report = try reportFile.map { try OutputFile(path: $0, role: "the report file", user: user) }
            if let pcap, let reportFile, let report, report.isSameFile(as: pcap) || pcap == reportFile {
                throw refuse("--pcap \(pcap) is the --report-file \(reportFile): name two files")
            }
            if let pcap, FileManager.default.fileExists(atPath: ruleFile),
               URL(fileURLWithPath: pcap).standardizedFileURL == URL(fileURLWithPath: ruleFile).standardizedFileURL {
                throw refuse("--pcap \(pcap) is the rule file: name another file")
            }
            let capture = try pcap.map { try OutputFile(path: $0, role: "the capture file", user: user) }
            if let capture, FileManager.default.fileExists(atPath: ruleFile), capture.isSameFile(as: ruleFile) {
                throw refuse("--pcap \(capture.path) is the rule file: name another file")
            }
            return (report, capture)
        } catch let error as OutputFileError {
            throw refuse("\(error)")
        }
    }

    /// Writes the report to its file, or to standard output; when the file cannot take it, the
    /// report goes to standard output after the error, and the exit status says so. Either way it
    /// is written as it is made, in chunks of `ReportWriter.defaultCapacity`: the report of
    /// 100 000 connections needs no more memory than the run did.
    private func write(_ report: RunReport, to file: OutputFile?) throws {
        func render(_ flush: @escaping (UnsafeRawBufferPointer) throws(OutputFileError) -> Void) throws(OutputFileError) {
            var writer = ReportWriter(flush: flush)
            switch self.report {
            case .text: try report.writeText(all: all, to: &writer)
            case .json: try report.writeJSON(to: &writer)
            case .junit: try report.writeJUnit(to: &writer)
            }
            try writer.finish()
        }
        do {
            guard let file else { return try render(StandardOutput.write) }
            do {
                try render(file.write)
                try file.close()
            } catch {
                printError("netfault: \(error); the report follows")
                try render(StandardOutput.write)
                throw ExitCode.failure
            }
        } catch let error as OutputFileError {
            printError("netfault: \(error)")
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
