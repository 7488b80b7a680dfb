import Foundation
import Testing
@testable import NetFaultCore

/// `delay` with a distribution, a correlation and `keep_order`, on the engine with a fake clock:
/// seeded draws checked against each distribution's analytic figures (netem's tables), with the
/// tolerances stated beside each check.
struct DelayDistributionTests {
    /// The delays (ms) the rule `action` gives `count` datagrams of one flow sent 1 ms apart.
    func delays(_ action: String, count: Int = 20_000, seed: UInt64 = 7) throws -> [Double] {
        var driver = try EngineDriver("rules:\n  - name: d\n    match: {protocol: udp, server_port: 53}\n    action: \(action)\n", seed: seed)
        let conversation = Conversation(client: "198.18.1.2:5000", server: "198.18.2.2:53")
        let datagram = conversation.datagram(from: .client)
        return (0..<count).map { index in
            let sent = Int64(index)
            guard case .acceptAfter(let due) = driver.send(datagram, at: sent).verdict else { return .nan }
            return Double(due.nanoseconds - sent * 1_000_000) / 1e6
        }
    }

    func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    func standardDeviation(_ values: [Double]) -> Double {
        let average = mean(values)
        return (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Pearson correlation of each delay with the next.
    func lagOneCorrelation(_ values: [Double]) -> Double {
        let average = mean(values)
        let pairs = zip(values, values.dropFirst()).map { ($0 - average) * ($1 - average) }.reduce(0, +)
        let variance = values.map { ($0 - average) * ($0 - average) }.reduce(0, +)
        return pairs / variance
    }

    @Test func uniformSpreadsEvenlyWithinTheJitter() throws {
        let values = try delays("{delay: 100ms, jitter: 10ms}")
        #expect(values.allSatisfy { $0 >= 90 && $0 < 110 })
        #expect(abs(mean(values) - 100) < 0.15)                        // standard error 0.04 ms
        #expect(abs(standardDeviation(values) - 10 / 3.0.squareRoot()) < 0.1)  // 5.77 ms
    }

    @Test func normalHasTheJitterAsItsStandardDeviation() throws {
        let values = try delays("{delay: 100ms, jitter: 10ms, distribution: normal}")
        #expect(abs(mean(values) - 100) < 0.25)                        // standard error 0.07 ms
        #expect(abs(standardDeviation(values) - 10) < 0.2)
        let withinOne = Double(values.count { abs($0 - 100) <= 10 }) / Double(values.count)
        #expect(abs(withinOne - 0.6827) < 0.012, "\(withinOne)")
    }

    /// netem's Pareto table: t = (X - 1.5) × 4/3 with X = min(u^(-1/3), 4.5) (the table's cut at
    /// t = 4): its mean and standard deviation from E[X] = 1.5(1 - 4.5⁻²) + 4.5 × 4.5⁻³ and
    /// E[X²] = 3(1 - 4.5⁻¹) + 4.5² × 4.5⁻³.
    static let cutX: Double = 4.5
    static let meanX: Double = 1.5 * (1 - pow(cutX, -2)) + cutX * pow(cutX, -3)
    static let meanSquareX: Double = 3 * (1 - pow(cutX, -1)) + cutX * cutX * pow(cutX, -3)
    static let paretoMean: Double = (meanX - 1.5) * 4 / 3  // -0.033
    static let paretoDeviation: Double = (meanSquareX - meanX * meanX).squareRoot() * 4 / 3  // 0.82

    /// A median of -0.32, at least -2/3, a long tail to 4.
    @Test func paretoHasALongTail() throws {
        let values = try delays("{delay: 100ms, jitter: 10ms, distribution: pareto}")
        #expect(abs(mean(values) - (100 + 10 * Self.paretoMean)) < 0.15)      // standard error 0.06 ms
        #expect(abs(standardDeviation(values) - 10 * Self.paretoDeviation) < 0.3)
        #expect(abs(median(values) - (100 + 10 * (pow(0.5, -1.0 / 3) - 1.5) * 4 / 3)) < 0.15)  // 96.80 ms
        #expect(values.min()! >= 100 - 10 * 2.0 / 3 && values.max()! <= 140)
        #expect(Double(values.count { $0 > 120 }) / Double(values.count) > 0.03, "the tail: P(t > 2) = 0.037")
    }

    /// 1/4 of a normal draw plus 3/4 of a Pareto one: standard deviation √(0.25² + 0.75² σₚ²).
    @Test func paretonormalMixesTheTwo() throws {
        let values = try delays("{delay: 100ms, jitter: 10ms, distribution: paretonormal}")
        #expect(abs(mean(values) - (100 + 10 * 0.75 * Self.paretoMean)) < 0.15)
        let expected = (0.25 * 0.25 + 0.75 * 0.75 * Self.paretoDeviation * Self.paretoDeviation).squareRoot() * 10  // 6.64 ms
        #expect(abs(standardDeviation(values) - expected) / expected < 0.04, "\(standardDeviation(values)) against \(expected)")
    }

    /// Correlated draws follow each other, and keep the spread asked for (netem's narrow it).
    @Test(arguments: [("normal", 10.0), ("uniform", 10 / 3.0.squareRoot())])
    func correlationKeepsTheSpread(_ distribution: String, _ spread: Double) throws {
        let values = try delays("{delay: 100ms, jitter: 10ms, distribution: \(distribution), correlation: 50%}")
        #expect(abs(lagOneCorrelation(values) - 0.5) < 0.05, "\(lagOneCorrelation(values))")
        #expect(abs(standardDeviation(values) - spread) / spread < 0.05)
        let independent = try delays("{delay: 100ms, jitter: 10ms, distribution: \(distribution)}")
        #expect(abs(lagOneCorrelation(independent)) < 0.03)
    }

    @Test func theSameSeedDrawsTheSameDelays() throws {
        let action = "{delay: 20ms, jitter: 5ms, distribution: paretonormal, correlation: 25%}"
        #expect(try delays(action, count: 100, seed: 3) == delays(action, count: 100, seed: 3))
        #expect(try delays(action, count: 100, seed: 3) != delays(action, count: 100, seed: 4))
    }

    /// Jitter wider than the gap between packets reorders them; `keep_order` does not.
    @Test func keepOrderReleasesAConnectionInArrivalOrder() throws {
        func overtaken(_ values: [Double]) -> Int {
            zip(values.enumerated(), values.enumerated().dropFirst()).count { Double($1.offset) + $1.element < Double($0.offset) + $0.element }
        }
        #expect(try overtaken(delays("{delay: 50ms, jitter: 50ms}", count: 1000)) > 100)
        let ordered = try delays("{delay: 50ms, jitter: 50ms, keep_order: true}", count: 1000)
        #expect(overtaken(ordered) == 0)
        #expect(ordered.allSatisfy { $0 >= 0 })
    }

    @Test func checkSaysWhatTheDelayIs() throws {
        let file = try RuleFile.parse("""
            rules:
              - name: d
                match: {server_port: 80}
                action: {delay: 20ms, jitter: 5ms, distribution: normal, correlation: 25%, keep_order: true}
            """, name: "t")
        #expect(file.ruleSet.rules[0].action.summary == "delay 20ms ± 5ms (normal, 25% correlated, in order)")
    }

    @Test(arguments: [
        ("{delay: 20ms, distribution: normal}", "rules[0].action.distribution: shapes the jitter, and this delay has none: add jitter"),
        ("{delay: 20ms, jitter: 5ms, distribution: gamma}", "rules[0].action.distribution: 'gamma' is not a distribution; use one of uniform, normal, pareto, paretonormal"),
        ("{delay: 20ms, jitter: 5ms, correlation: 120%}", "rules[0].action.correlation: 120% is not a percentage from 0% to 100%"),
        ("{delay: 20ms, jitter: 30ms}", "rules[0].action.jitter: 30ms exceeds the delay 20ms"),
        ("{delay: 20ms, keep_order: yes}", "rules[0].action.keep_order: 'yes' is not true or false"),
    ])
    func badSettingsAreRefusedWhereTheyStand(_ action: String, _ message: String) throws {
        do {
            _ = try RuleFile.parse("rules:\n  - name: d\n    match: {server_port: 80}\n    action: \(action)\n", name: "t")
            Issue.record("\(action) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    /// Past the uniform, the jitter may exceed the delay: draws below zero leave at once.
    @Test func aNormalSpreadWiderThanTheDelayIsCutAtZero() throws {
        let values = try delays("{delay: 5ms, jitter: 20ms, distribution: normal}", count: 2000)
        #expect(values.allSatisfy { $0 >= 0 } && values.count { $0 == 0 } > 500)
    }
}
