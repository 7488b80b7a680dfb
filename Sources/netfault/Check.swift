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

        @OptionGroup var target: NamespaceOption

        func validate() throws {
            if source.rules == nil { throw ValidationError("name the rule file (or preset) to check") }
        }

        func run() throws {
            let file = try source.load()
            let namespace = try target.resolve()
            print(CheckSummary(file: file).text, terminator: "")
            if let namespace { print("Target: the network namespace of \(namespace.description)") }
        }
    }
}
