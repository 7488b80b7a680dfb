import ArgumentParser
import NetFaultCore

/// The root command: configuration only; each subcommand lives in its own file.
@main
struct Netfault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netfault",
        abstract: "Inject TCP/UDP faults through an NFQUEUE and report what they did to each connection.",
        discussion: """
            Exit codes: 0 success; 1 a runtime failure (a syscall, the firewall); 2 an invalid rule file; \
            3 `run`: the command succeeded but a rule's expectation did not hold; 64 a usage error; \
            127 `run`: no such command. `run` otherwise exits with the command's status.
            """,
        version: "0.1.0",
        subcommands: [Check.self, Apply.self, Run.self, Ctl.self, Demo.self, Lab.self, Cleanup.self, Watchdog.self]
    )
}

/// Exit statuses shared by every subcommand; documented in the README.
enum ExitStatus {
    static let invalidRules = ExitCode(2)
    static let expectationFailed = ExitCode(3)
    /// A usage error: an option that cannot be used (an unknown user, an output file that cannot be written).
    static let usage = ExitCode(64)
}
