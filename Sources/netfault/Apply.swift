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

        @Argument(help: "The rule file (YAML).")
        var rules: String

        @OptionGroup var options: RunOptions

        func run() throws {
            let result = try options.execute(rules)
            if result.failed { throw ExitCode.failure }
        }
    }
}

/// Loads and validates a rule file, printing warnings, or every error and exit status 2.
func loadRuleFile(_ path: String) throws -> RuleFile {
    let file: RuleFile
    do {
        file = try RuleFile.load(path: path)
    } catch {
        printError(error.description)
        let count = error.errors.count
        printError("\(path): \(count) error\(count == 1 ? "" : "s"); nothing would be installed")
        throw ExitStatus.invalidRules
    }
    for warning in file.warnings { printError(warning.description) }
    return file
}
