import ArgumentParser
import Foundation
import NetFaultCore
import NetFaultLinux

extension Netfault {
    /// Wraps a command (a test suite, a client) in a rule set: faults on while it runs, a report after.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a rule file while a command runs, then report (needs root).",
            discussion: """
                Installs the rule set, runs the command, and once it has exited keeps watching until \
                every connection it opened has closed (or --linger passes); then removes everything, \
                writes the report, and exits with the command's status; 3 when the command succeeded \
                but a rule's `expect:` did not hold (a rule without one is expected to fire). With \
                --exit expectations: 0 when every expectation held, 3 when one did not, whatever the \
                command's status (the report gives it). SIGINT, SIGTERM and SIGHUP sent to netfault are \
                passed on to the command; a third one kills it. If the rule file's `duration` ends \
                first, the faults are lifted and the command runs on.
                """
        )

        /// What `run`'s exit status says.
        enum ExitMode: String, ExpressibleByArgument, CaseIterable {
            /// The command's status; 3 when it succeeded but an expectation did not hold.
            case command
            /// 0 when every expectation held, 3 when one did not, whatever the command's status.
            case expectations
        }

        @OptionGroup var source: RuleSource

        @OptionGroup var options: RunOptions

        @Option(help: ArgumentHelp("After the command exits, how long to keep watching for its connections to close (their last FIN and ACK) before stopping: 500ms, 1s, 5s; 0s stops at once.",
                                   valueName: "duration"))
        var linger = "1s"

        @Option(help: "What the exit status says: command (its status; 3 when it succeeded but an expectation did not hold) or expectations (0 all held, 3 not, whatever the command's status).")
        var exit: ExitMode = .command

        @Argument(parsing: .postTerminator, help: "The command to run, after `--`.")
        var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("name the command to run after `--`: netfault run rules.yaml -- ./test-suite") }
            if lingerDuration == nil { throw ValidationError("--linger \(linger): not a duration; write 0s, 500ms, 1s, 2m (at most 1h)") }
        }

        var lingerDuration: Duration? {
            guard linger == "0" || linger == "0s" || linger == "0ms" else {
                return Duration(ruleText: linger).flatMap { $0 > .zero && $0 <= Duration.seconds(3600) ? $0 : nil }
            }
            return .zero
        }

        func run() throws {
            guard Self.isRunnable(command[0]) else {
                printError("netfault: cannot run '\(command[0])': no such command in PATH, or not an executable file; nothing was installed")
                throw ExitCode(127)
            }
            let file = try source.load()
            let result = try options.execute(file, name: source.name, command: command, linger: lingerDuration ?? .zero)
            if result.failed { throw ExitCode.failure }
            let status = result.commandExit?.shellStatus ?? 1
            if exit == .command, status != 0 { throw ExitCode(status) }
            let failed = result.report.failedRules
            if !failed.isEmpty {
                let names = failed.map { "\($0.name) (\($0.failure ?? ""))" }.joined(separator: "; ")
                let ended = status == 0 ? "succeeded" : "exited with status \(status)"
                printError("netfault: \(command[0]) \(ended), but \(failed.count == 1 ? "a rule's expectation" : "\(failed.count) rules' expectations") did not hold: \(names)")
                throw ExitStatus.expectationFailed
            }
        }

        /// Whether `name` (a path, or a command looked up in PATH) is an executable regular file:
        /// not empty, not a directory (whose search bit reads as executable).
        static func isRunnable(_ name: String) -> Bool {
            func runnable(_ path: String) -> Bool {
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                    && FileManager.default.isExecutableFile(atPath: path)
            }
            guard !name.isEmpty else { return false }
            if name.contains("/") { return runnable(name) }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            return path.split(separator: ":").contains { runnable("\($0)/\(name)") }
        }
    }
}
