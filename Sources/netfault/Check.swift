import ArgumentParser
import NetFaultCore

extension Netfault {
    /// Validates a rule file and says, in plain words, what `apply` would do. Needs no root.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a rule file and show what `apply` would divert and do.",
            discussion: "Runs without root. Exits 0 when the file is valid, 2 with every error otherwise."
        )

        @OptionGroup var source: RuleSource

        func run() throws {
            print(CheckSummary(file: try source.load()).text, terminator: "")
        }
    }
}
