import ArgumentParser
import NetFaultCore

extension Netfault {
    /// Validates a rule file and says, in plain words, what `apply` would do. Needs no root.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a rule file and show what `apply` would divert and do.",
            discussion: "Runs without root. Exits 0 when the file is valid, 2 with every error otherwise."
        )

        @Argument(help: "The rule file (YAML).")
        var rules: String

        func run() throws {
            let file: RuleFile
            do {
                file = try RuleFile.load(path: rules)
            } catch {
                printError(error.description)
                let count = error.errors.count
                printError("\(rules): \(count) error\(count == 1 ? "" : "s"); nothing would be installed")
                throw ExitStatus.invalidRules
            }
            for warning in file.warnings { printError(warning.description) }
            print(CheckReport(file: file).text, terminator: "")
        }
    }
}

/// The text `netfault check` prints for a valid file.
struct CheckReport {
    let file: RuleFile

    var text: String {
        let ruleSet = file.ruleSet
        let plan = DiversionPlan(ruleSet)
        var lines: [String] = []
        let count = ruleSet.rules.count
        lines.append("\(file.name): valid, \(count) rule\(count == 1 ? "" : "s").")
        lines.append("")
        lines.append("Diverted to NFQUEUE \(plan.queue) (passes untouched whenever netfault is not running):")
        for hook in plan.hooks {
            for filter in plan.filters {
                lines.append("  \(hook.rawValue.padding(to: 7))\(filter)")
            }
        }
        lines.append("")
        lines.append("Rules, first match wins:")
        for (index, rule) in ruleSet.rules.enumerated() {
            lines.append("  \(index + 1). \(rule.name): \(rule.summary)")
        }
        lines.append("")
        lines.append(ruleSet.duration.map { "Faults are lifted after \($0.ruleText)." } ?? "Faults stay until netfault is stopped.")
        lines.append(ruleSet.seed.map { "Random choices use seed \($0)." } ?? "Random choices use a fresh seed, printed in the report.")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
