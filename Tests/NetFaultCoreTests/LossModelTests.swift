import Testing
@testable import NetFaultCore

/// Bursty loss (`{loss: {model: …}}`) and correlated `probability` rolls, on the engine: seeded
/// runs of 300 000 datagrams against each model's analytic figures, tolerances stated beside.
struct LossModelTests {
    /// Whether each of `count` datagrams of one flow was dropped by `rules`.
    func losses(_ rules: String, count: Int = 300_000, seed: UInt64 = 11) throws -> [Bool] {
        var driver = try EngineDriver("rules:\n" + rules, seed: seed)
        let datagram = Conversation(client: "198.18.1.2:5000", server: "198.18.2.2:53").datagram(from: .client)
        return (0..<count).map { driver.send(datagram, at: Int64($0 / 100)).verdict == .drop }
    }

    func lossRule(_ model: String) -> String {
        "  - name: l\n    match: {protocol: udp}\n    action: {loss: {\(model)}}\n"
    }

    /// The lengths of the runs of consecutive losses.
    func bursts(_ lost: [Bool]) -> [Int] {
        var runs: [Int] = []
        var current = 0
        for isLost in lost {
            if isLost { current += 1 } else if current > 0 { runs.append(current); current = 0 }
        }
        return runs
    }

    func share(_ lost: [Bool]) -> Double { Double(lost.count { $0 }) / Double(lost.count) }

    /// h = 0, k = 1: every packet in the bad state is lost, none in the good one. Loss p/(p+r),
    /// bursts geometric with mean 1/r.
    @Test func gilbertElliottLosesInBurstsOfTheModelsMean() throws {
        let lost = try losses(lossRule("model: gilbert-elliott, p: 1%, r: 30%, h: 0%, k: 100%"))
        let expected = 0.01 / 0.31                                         // 3.23%
        #expect(abs(share(lost) - expected) / expected < 0.05, "\(share(lost))")
        let runs = bursts(lost)
        let meanBurst = Double(runs.reduce(0, +)) / Double(runs.count)
        #expect(abs(meanBurst - 1 / 0.3) / (1 / 0.3) < 0.05, "mean burst \(meanBurst)")  // 3.33
        #expect(abs(Double(runs.count { $0 == 1 }) / Double(runs.count) - 0.3) < 0.02, "P(burst of 1) = r")
    }

    /// Losses in both states: (1 - π_bad)(1 - k) + π_bad (1 - h).
    @Test func gilbertElliottLosesInBothStates() throws {
        let lost = try losses(lossRule("model: gilbert-elliott, p: 5%, r: 20%, h: 50%, k: 99%"))
        let bad = 0.05 / 0.25
        let expected = (1 - bad) * 0.01 + bad * 0.5                        // 10.8%
        #expect(abs(share(lost) - expected) / expected < 0.04, "\(share(lost))")
    }

    /// netem's `gemodel p` alone: r = 1 - p, h = 0, k = 1, which is independent loss with probability p.
    @Test func gilbertElliottWithPAloneIsBernoulli() throws {
        let lost = try losses(lossRule("model: gilbert-elliott, p: 10%"))
        #expect(abs(share(lost) - 0.1) < 0.004)
        let afterLoss = zip(lost, lost.dropFirst()).filter { $0.0 }
        #expect(abs(Double(afterLoss.count { $0.1 }) / Double(afterLoss.count) - 0.1) < 0.01, "no memory")
    }

    /// The 4-state chain's stationary distribution, found by iterating netem's transitions, gives
    /// the share lost: packets entering or staying in state 3, and entering state 4.
    @Test func fourStateLosesWhatItsChainSays() throws {
        let (p13, p31, p32, p23, p14) = (0.01, 0.7, 0.1, 0.4, 0.005)
        // transition[i][j]: from state i+1 to state j+1.
        let transition: [[Double]] = [
            [1 - p13 - p14, 0, p13, p14],
            [0, 1 - p23, p23, 0],
            [p31, p32, 1 - p31 - p32, 0],
            [1, 0, 0, 0],
        ]
        var stationary = [1.0, 0, 0, 0]
        for _ in 0..<10_000 {
            stationary = (0..<4).map { j in (0..<4).map { i in stationary[i] * transition[i][j] }.reduce(0, +) }
        }
        let expected = stationary[0] * (p13 + p14) + stationary[1] * p23 + stationary[2] * (1 - p31 - p32)
        let lost = try losses(lossRule("model: 4-state, p13: 1%, p31: 70%, p32: 10%, p23: 40%, p14: 0.5%"))
        #expect(abs(share(lost) - expected) / expected < 0.05, "\(share(lost)) against \(expected)")
    }

    /// `state p13` alone: p31 = 1 - p13 and the rest netem's defaults, independent loss again.
    @Test func fourStateWithP13AloneIsBernoulli() throws {
        #expect(abs(share(try losses(lossRule("model: 4-state, p13: 5%"))) - 0.05) < 0.003)
    }

    /// A packet the model spares goes on to the next rule, as a lost probability roll does.
    @Test func theSparedGoOnToLaterRules() throws {
        var driver = try EngineDriver("rules:\n" + lossRule("model: gilbert-elliott, p: 10%")
            + "  - name: slow\n    match: {protocol: udp}\n    action: {delay: 5ms}\n", seed: 3)
        let datagram = Conversation(client: "198.18.1.2:5000", server: "198.18.2.2:53").datagram(from: .client)
        let verdicts: [Decision.Verdict] = (0..<1000).map { _ in driver.send(datagram, at: 0).verdict }
        let dropped = verdicts.count { $0 == .drop }
        #expect(verdicts.allSatisfy { $0 == .drop || $0 == .acceptAfter(.milliseconds(5)) })
        #expect(dropped > 50 && dropped < 150)
        #expect(driver.engine.ruleStatistics[0].fired == dropped, "fired counts the lost only")
    }

    /// Correlated rolls: the probability kept, losses in runs (netem's correlated loss, which mixes
    /// each uniform with the last, lowers the rate: simulated, at 1% and 25% it loses 2.5 in a million).
    @Test func correlatedProbabilityKeepsTheRateAndBunchesTheLosses() throws {
        let rules = "  - name: p\n    match: {protocol: udp, probability: 0.1, correlation: 50%}\n    action: drop\n"
        let lost = try losses(rules)
        #expect(abs(share(lost) - 0.1) < 0.005, "\(share(lost))")
        let afterLoss = zip(lost, lost.dropFirst()).filter { $0.0 }
        #expect(Double(afterLoss.count { $0.1 }) / Double(afterLoss.count) > 0.2, "a loss makes the next likelier")
    }

    @Test func theSameSeedLosesTheSamePackets() throws {
        let rule = lossRule("model: 4-state, p13: 2%, p31: 50%, p32: 20%")
        #expect(try losses(rule, count: 5000, seed: 1) == losses(rule, count: 5000, seed: 1))
        #expect(try losses(rule, count: 5000, seed: 1) != losses(rule, count: 5000, seed: 2))
    }

    @Test func aLossRuleDoesNotHideTheRulesAfterIt() throws {
        let file = try RuleFile.parse("rules:\n" + lossRule("model: gilbert-elliott, p: 1%")
            + "  - name: later\n    match: {server_port: 80}\n    action: drop\n", name: "t")
        #expect(file.warnings.isEmpty, "\(file.warnings)")
        #expect(file.ruleSet.rules[0].action.summary
            == "drop as the loss model Gilbert-Elliott p 1%, r 99%, h 0%, k 100% says (the spared go on to later rules)")
    }

    @Test(arguments: [
        ("{loss: {p: 1%}}", "rules[0].action.loss: needs a model: gilbert-elliott or 4-state"),
        ("{loss: {model: markov, p: 1%}}", "rules[0].action.loss.model: 'markov' is not a loss model"),
        ("{loss: {model: gilbert-elliott, p13: 1%}}", "rules[0].action.loss.p13: is not a parameter of gilbert-elliott; it takes p, r, h, k"),
        ("{loss: {model: gilbert-elliott, r: 1%}}", "rules[0].action.loss: gilbert-elliott needs p"),
        ("{loss: {model: gilbert-elliott, p: 101%}}", "rules[0].action.loss.p: 101% is not a percentage"),
        ("{loss: {model: 4-state, p13: 60%, p14: 50%}}", "p13 + p14 is 110%: the chances of leaving a state add up to at most 100%"),
    ])
    func badModelsAreRefusedWhereTheyStand(_ action: String, _ message: String) throws {
        do {
            _ = try RuleFile.parse("rules:\n  - name: l\n    match: {protocol: udp}\n    action: \(action)\n", name: "t")
            Issue.record("\(action) was accepted")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func aCorrelationNeedsAProbability() throws {
        #expect(throws: RuleFileError.self) {
            try RuleFile.parse("rules:\n  - name: p\n    match: {protocol: udp, correlation: 25%}\n    action: drop\n", name: "t")
        }
    }
}
