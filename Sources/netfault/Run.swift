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
                Installs the rule set, runs the command, removes everything when the command exits, \
                writes the report, and exits with the command's status; 3 when the command succeeded \
                but a rule's `expect:` did not hold (a rule without one is expected to fire). SIGINT, \
                SIGTERM and SIGHUP sent to netfault are passed on to the command; a third one kills it. \
                If the rule file's `duration` ends first, the faults are lifted and the command runs on.
                """
        )

        @Argument(help: "The rule file (YAML).")
        var rules: String

        @OptionGroup var options: RunOptions

        @Argument(parsing: .postTerminator, help: "The command to run, after `--`.")
        var command: [String] = []

        func validate() throws {
            if command.isEmpty { throw ValidationError("name the command to run after `--`: netfault run rules.yaml -- ./test-suite") }
        }

        func run() throws {
            guard Self.isRunnable(command[0]) else {
                printError("netfault: cannot run \(command[0]): no such command in PATH, or not executable; nothing was installed")
                throw ExitCode(127)
            }
            let result = try options.execute(rules, command: command)
            if result.failed { throw ExitCode.failure }
            let status = result.commandExit?.shellStatus ?? 1
            if status != 0 { throw ExitCode(status) }
            let failed = result.report.failedRules
            if !failed.isEmpty {
                let names = failed.map { "\($0.name) (\($0.failure ?? ""))" }.joined(separator: "; ")
                printError("netfault: \(command[0]) succeeded, but \(failed.count == 1 ? "a rule's expectation" : "\(failed.count) rules' expectations") did not hold: \(names)")
                throw ExitStatus.expectationFailed
            }
        }

        /// Whether `name` (a path, or a command looked up in PATH) is an executable file.
        static func isRunnable(_ name: String) -> Bool {
            if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
    }
}
