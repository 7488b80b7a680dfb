extension RunReport {
    /// JUnit XML for CI dashboards: one test case per rule, failed when the rule never fired or
    /// its `expect:` did not hold; the text report is attached as the suite's output.
    public func junit() -> String {
        let failures = failedRules.count
        let seconds = String(durationMilliseconds / 1000)
        var lines = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        lines.append(#"<testsuites name="netfault" tests="\#(rules.count)" failures="\#(failures)" time="\#(seconds)">"#)
        lines.append(#"  <testsuite name="netfault \#(Self.escaped(ruleFile))" tests="\#(rules.count)" failures="\#(failures)" errors="0" time="\#(seconds)" timestamp="\#(Self.escaped(startedAt))">"#)
        for rule in rules {
            let name = Self.escaped(rule.name)
            let summary = "fired \(Self.times(rule.fired)) on \(rule.connections) connection\(rule.connections == 1 ? "" : "s")"
            if let failure = rule.failure {
                lines.append(#"    <testcase classname="netfault.rules" name="\#(name)" time="0">"#)
                lines.append(#"      <failure message="\#(Self.escaped(failure))" type="expectation">\#(Self.escaped("\(rule.name) (\(rule.action)): \(summary)"))</failure>"#)
                lines.append("    </testcase>")
            } else {
                lines.append(#"    <testcase classname="netfault.rules" name="\#(name)" time="0"/>"#)
            }
        }
        lines.append("    <system-out>\(Self.escaped(text()))</system-out>")
        lines.append("  </testsuite>")
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// XML character escaping for text and attribute values; control characters XML forbids are dropped.
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
