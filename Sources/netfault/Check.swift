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
            print(CheckSummary(file: file).text, terminator: "")
        }
    }
}
