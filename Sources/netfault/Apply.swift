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
                hooks, gives each queued or held packet its verdict, and prints a summary. If netfault is \
                killed (SIGKILL), traffic still flows (--queue-bypass); `netfault cleanup` removes the hooks.
                """
        )

        @Argument(help: "The rule file (YAML).")
        var rules: String

        @Option(help: "Seed for every probability and jitter (overrides the file's `seed`).")
        var seed: UInt64?

        func run() throws {
            let file = try loadRuleFile(rules)
            let seed = seed ?? file.ruleSet.seed ?? UInt64.random(in: 0...UInt64.max)
            let controller = Controller(ruleSet: file.ruleSet, seed: seed, log: printError)
            let summary: Controller.Summary
            do {
                summary = try controller.run()
            } catch {
                printError("netfault: \(error)")
                throw ExitCode.failure
            }
            print(RunSummaryText(summary, ruleSet: file.ruleSet).text, terminator: "")
            if summary.stopReason.hasPrefix("error") || summary.stopReason.contains("removing the hooks failed") {
                throw ExitCode.failure
            }
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
