import Foundation
import Testing
@testable import NetFaultCore

/// The presets carried in the binary are exactly the files in Rules/.
struct EmbeddedPresetsTests {
    @Test func theBinaryCarriesEveryRuleFileAsItIs() throws {
        let names = CheckSummaryTests.shippedRuleFiles
        #expect(EmbeddedPresets.all.map { "\($0.name).yaml" } == names, "run Scripts/embed-presets")
        for name in names {
            let text = try String(contentsOf: CheckSummaryTests.rulesDirectory.appendingPathComponent(name), encoding: .utf8)
            // The generator drops the file's last newline into the closing delimiter.
            #expect(EmbeddedPresets.text(of: String(name.dropLast(5))).map { $0 + "\n" } == text, "\(name): run Scripts/embed-presets")
        }
    }

    @Test func everyPresetSaysWhatItEmulatesWhatTheClientSeesAndWhatToSet() throws {
        for (name, text) in EmbeddedPresets.all where !["example", "localhost"].contains(name) {
            #expect(text.hasPrefix("# Emulates: "), "\(name)")
            #expect(text.contains("# The client sees: "), "\(name)")
            #expect(text.contains("netfault apply \(name) --set NAME=VALUE"), "\(name)")
            // Every parameter has a default and says what it is; the hooks are one of them.
            let file = try RuleFile.parse(text, name: name)
            #expect(file.parameters.contains { $0.name == "hooks" && $0.value == "[forward]" }, "\(name)")
            let block = text.components(separatedBy: "\nparameters:")[1].components(separatedBy: "\nhooks:")[0]
            let lines = block.split(separator: "\n").dropFirst()
            #expect(lines.count == file.parameters.count && lines.allSatisfy { $0.contains("# ") }, "\(name): \(lines)")
            #expect(text.range(of: #"(WSA[A-Z_]+ \d{5})"#, options: .regularExpression) != nil || text.contains("# The client sees: no error"),
                    "\(name): the Winsock code")
        }
    }
}
