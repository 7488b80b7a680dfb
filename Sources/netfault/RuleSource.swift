import ArgumentParser
import Foundation
import NetFaultCore

/// Where a command's rules come from: a rule file, or a preset by name, with `--set` values for
/// the file's parameters. Shared by `check`, `apply` and `run`.
struct RuleSource: ParsableArguments {
    @Argument(help: "A rule file (YAML), or the name of a preset: \(EmbeddedPresets.all.map(\.name).joined(separator: ", ")). apply and run without one start with no rules and wait for them on the control API.")
    var rules: String?

    /// The name the report gives the rules: the file or preset, or that none was given.
    static let noRulesName = "(no rule file: rules from the control API)"
    var name: String { rules ?? Self.noRulesName }

    @OptionGroup var parameters: ParameterSettings

    /// Whether `rules` names a preset rather than a file: no file of that name exists, and a preset does.
    var presetText: String? {
        guard let rules else { return nil }
        return FileManager.default.fileExists(atPath: rules) ? nil : EmbeddedPresets.text(of: rules)
    }

    /// The rule file, loaded and validated; every error printed and exit status 2 otherwise.
    func load() throws -> RuleFile {
        let settings = parameters.settings
        guard let rules else {
            // No rule file: an empty rule set, queue 0, hooks output and input; rules come later.
            return try! RuleFile.parse("rules: []", name: Self.noRulesName, requiresRules: false)
        }
        do {
            if let presetText { return Self.loaded(try RuleFile.parse(presetText, name: rules, settings: settings)) }
            if !rules.contains("/"), !rules.hasSuffix(".yaml"), !rules.hasSuffix(".yml"), !FileManager.default.fileExists(atPath: rules) {
                let hint = EmbeddedPresets.closest(to: rules).map { "; did you mean '\($0)'?" } ?? ""
                throw RuleFileError(diagnostics: [.init(file: rules, line: 0, column: 0, path: "",
                                                        message: "no such rule file, and no preset of that name\(hint) (presets: \(EmbeddedPresets.all.map(\.name).joined(separator: ", ")))")])
            }
            return Self.loaded(try RuleFile.load(path: rules, settings: settings))
        } catch let error as RuleFileError {
            printError(error.description)
            let count = error.errorCount
            printError("\(rules): \(count) error\(count == 1 ? "" : "s"); nothing would be installed")
            throw ExitStatus.invalidRules
        }
    }

    private static func loaded(_ file: RuleFile) -> RuleFile {
        for line in file.warningLines { printError(line) }
        return file
    }
}

/// `--set NAME=VALUE`, repeatable: values for a rule file's `parameters`.
struct ParameterSettings: ParsableArguments {
    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("A value for one of the rule file's `parameters` (repeatable): --set server_port=5432.",
                               valueName: "name=value"))
    var values: [String] = []

    func validate() throws {
        for value in values where Self.split(value) == nil {
            throw ValidationError("--set \(value): write NAME=VALUE, such as --set server_port=5432")
        }
    }

    var settings: [RuleFile.Setting] { values.compactMap(Self.split) }

    static func split(_ setting: String) -> RuleFile.Setting? {
        guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else { return nil }
        return (String(setting[..<equals]), String(setting[setting.index(after: equals)...]))
    }
}
