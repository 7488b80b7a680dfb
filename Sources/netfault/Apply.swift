import ArgumentParser
import NetFaultCore
import NetFaultLinux

extension Netfault {
    /// Applies a rule set to live traffic until interrupted or its `duration` elapses.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Divert traffic to an NFQUEUE and apply the rule file's faults to it (needs root).",
            discussion: """
                Runs until Ctrl-C, SIGTERM or the rule file's `duration`. Every stop removes the firewall \
                hooks, gives each queued or held packet its verdict, and writes the report: what each \
                fault did to each connection. If netfault is killed or hangs for 2 s, its watchdog \
                removes the hooks; traffic passes meanwhile (--queue-bypass).
                """
        )

        @OptionGroup var source: RuleSource

        @OptionGroup var options: RunOptions

        func run() throws {
            let result = try options.execute(try source.load(), name: source.name)
            if result.failed { throw ExitCode.failure }
        }
    }
}
