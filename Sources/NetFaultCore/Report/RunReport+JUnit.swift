extension RunReport {
    /// JUnit XML for CI dashboards: one test case per rule, failed when the rule never fired or
    /// its `expect:` did not hold; the text report is attached as the suite's output.
    public func junit() -> String {
        ReportWriter.text { writeJUnit(to: &$0) }
    }

    /// Writes the JUnit XML to `writer` as it goes, the text report streamed into `<system-out>`.
    public func writeJUnit<Failure>(to writer: inout ReportWriter<Failure>) throws(Failure) {
        func line(_ text: String) throws(Failure) { try writer.write(text + "\n") }
        let failures = failedRules.count
        let seconds = String(durationMilliseconds / 1000)
        try line(#"<?xml version="1.0" encoding="UTF-8"?>"#)
        try line(#"<testsuites name="netfault" tests="\#(rules.count)" failures="\#(failures)" time="\#(seconds)">"#)
        try line(#"  <testsuite name="netfault \#(Self.escaped(ruleFile))" tests="\#(rules.count)" failures="\#(failures)" errors="0" time="\#(seconds)" timestamp="\#(Self.escaped(startedAt))">"#)
        for rule in rules {
            let name = Self.escaped(rule.name)
            let summary = "fired \(Self.times(rule.fired)) on \(rule.connections) connection\(rule.connections == 1 ? "" : "s")"
            if let failure = rule.failure {
                try line(#"    <testcase classname="netfault.rules" name="\#(name)" time="0">"#)
                try line(#"      <failure message="\#(Self.escaped(failure))" type="expectation">\#(Self.escaped("\(rule.name) (\(rule.action)): \(summary)"))</failure>"#)
                try line("    </testcase>")
            } else {
                try line(#"    <testcase classname="netfault.rules" name="\#(name)" time="0"/>"#)
            }
        }
        try writer.write("    <system-out>")
        writer.escapingXML = true
        try writeText(to: &writer)
        writer.escapingXML = false
        try line("</system-out>")
        try line("  </testsuite>")
        try line("</testsuites>")
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
