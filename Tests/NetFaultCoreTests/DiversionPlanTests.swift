import Testing
@testable import NetFaultCore

/// The diversion plan drops the filters another covers with an index, not by comparing every pair:
/// checked against the pairwise algorithm it replaced, on random rule sets.
struct DiversionPlanTests {
    typealias Filter = DiversionPlan.Filter

    /// The plan's filters as the pairwise algorithm made them (before the index): each distinct
    /// filter in first-seen order, without those another covers (of two that cover each other, the later).
    static func referenceFilters(_ ruleSet: RuleSet) -> [Filter] {
        var candidates: [Filter] = []
        for match in ruleSet.enabledRules.map(\.match) + ruleSet.observe {
            let family = match.client?.family ?? match.server?.family
            let forward = Filter(family: family, transport: match.transport, source: match.client, destination: match.server,
                                 sourcePorts: match.clientPort, destinationPorts: match.serverPort)
            let backward = Filter(family: family, transport: match.transport, source: match.server, destination: match.client,
                                  sourcePorts: match.serverPort, destinationPorts: match.clientPort)
            for filter in [forward, backward] where !candidates.contains(filter) { candidates.append(filter) }
        }
        return candidates.enumerated().filter { index, filter in
            !candidates.enumerated().contains { otherIndex, other in
                otherIndex != index && other.covers(filter) && !(filter.covers(other) && otherIndex > index)
            }
        }.map(\.element)
    }

    /// A rule set of up to 40 matches drawn from small pools, so that they nest and repeat: both
    /// families, blocks of several lengths (some written with host bits), single ports and ranges,
    /// three protocols, rules switched off, observed filters.
    static func randomRuleSet(seed: UInt64) -> RuleSet {
        var random = SeededGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let v4 = ["198.18.1.7", "198.18.1.200", "198.18.77.1", "10.1.2.3"].map { IPAddress($0)! }
        let v6 = ["2001:db8::1", "2001:db8::8000:1", "2001:db8:1::1", "fd00::5"].map { IPAddress($0)! }
        let v4Lengths = [0, 8, 15, 16, 24, 25, 32], v6Lengths = [0, 32, 48, 64, 112, 128]
        let ports = [PortRange(80), PortRange(443), PortRange(8080), PortRange(80, 90), PortRange(0, 1023),
                     PortRange(1024, 65535), PortRange(0, 65535), PortRange(443, 8080)]
        func cidr(_ family: IPAddress.Family) -> CIDR? {
            guard random.next() % 3 != 0 else { return nil }
            let length = family == .v4 ? pick(v4Lengths) : pick(v6Lengths)
            let address = family == .v4 ? pick(v4) : pick(v6)
            // Mostly written as the network, sometimes with host bits (`198.18.1.7/24`).
            let network = random.next() % 4 == 0 ? address : CIDR(network: address, prefixLength: length).network
            return CIDR(network: network, prefixLength: length)
        }
        func match() -> Match {
            var match = Match()
            match.transport = pick([.tcp, .tcp, .udp, .icmp])
            let family: IPAddress.Family = random.next() % 2 == 0 ? .v4 : .v6
            match.client = cidr(family)
            match.server = cidr(family)
            if match.transport != .icmp {
                match.clientPort = random.next() % 3 == 0 ? pick(ports) : nil
                match.serverPort = random.next() % 2 == 0 ? pick(ports) : nil
            }
            return match
        }
        var ruleSet = RuleSet()
        ruleSet.rules = (0..<Int(1 + random.next() % 40)).map { index in
            var rule = Rule(name: "r\(index)", match: match(), action: .drop(.init()))
            rule.enabled = random.next() % 8 != 0
            return rule
        }
        ruleSet.observe = (0..<Int(random.next() % 4)).map { _ in match() }
        return ruleSet
    }

    @Test func theIndexGivesThePairwiseAlgorithmsFilters() {
        for seed in UInt64(0)..<3000 {
            let ruleSet = Self.randomRuleSet(seed: seed)
            let plan = DiversionPlan(ruleSet)
            let reference = Self.referenceFilters(ruleSet)
            #expect(plan.filters == reference, "seed \(seed)")
            if plan.filters != reference { return }
        }
    }

    /// A search cut short keeps its filter; whatever it drops, a filter it keeps covers.
    @Test func aSearchCutShortKeepsFiltersAndDropsOnlyCoveredOnes() {
        for seed in UInt64(0)..<1000 {
            let ruleSet = Self.randomRuleSet(seed: seed)
            let all = Self.referenceFilters(ruleSet)
            let candidates = Self.distinctFilters(ruleSet)
            let limited = DiversionPlan.uncovered(candidates, searchLimit: Int(1 + seed % 12))
            #expect(Set(limited).isSuperset(of: all), "seed \(seed)")
            #expect(limited == candidates.filter(Set(limited).contains), "seed \(seed): in their order")
            for filter in candidates where !limited.contains(filter) {
                #expect(limited.contains { $0 != filter && $0.covers(filter) }, "seed \(seed): \(filter) dropped, uncovered")
            }
        }
    }

    static func distinctFilters(_ ruleSet: RuleSet) -> [Filter] {
        var seen = Set<Filter>()
        var filters: [Filter] = []
        for match in ruleSet.enabledRules.map(\.match) + ruleSet.observe {
            let family = match.client?.family ?? match.server?.family
            for filter in [Filter(family: family, transport: match.transport, source: match.client, destination: match.server,
                                  sourcePorts: match.clientPort, destinationPorts: match.serverPort),
                           Filter(family: family, transport: match.transport, source: match.server, destination: match.client,
                                  sourcePorts: match.serverPort, destinationPorts: match.clientPort)]
            where seen.insert(filter.normalized).inserted {
                filters.append(filter)
            }
        }
        return filters
    }

    /// 20 000 rules, each on a port or a server of its own, with a few that cover many in the middle.
    @Test func twentyThousandRulesBuildAPlan() throws {
        var ruleSet = RuleSet()
        for index in 0..<20_000 {
            var match = Match()
            if index % 2 == 0 {
                match.serverPort = PortRange(UInt16(index))
            } else {
                match.server = CIDR(network: IPAddress(v4: 0xC612_0000 + UInt32(index)), prefixLength: 32)
            }
            ruleSet.rules.append(Rule(name: "r\(index)", match: match, action: .drop(.init())))
        }
        let plan = DiversionPlan(ruleSet)
        #expect(plan.filters.count == 40_000)
        #expect(plan.filters.prefix(4).map(\.description) == [
            "ipv4+ipv6 tcp destination port 0", "ipv4+ipv6 tcp source port 0",
            "ipv4 tcp to 198.18.0.1", "ipv4 tcp from 198.18.0.1",
        ])
        var wide = Match()
        wide.serverPort = PortRange(0, 9999)
        var block = Match()
        block.server = try CIDR(parsing: "198.18.0.0/16")
        ruleSet.rules.insert(Rule(name: "wide", match: wide, action: .drop(.init())), at: 10_000)
        ruleSet.observe = [block]
        let covered = DiversionPlan(ruleSet)
        // Every server is in 198.18.0.0/16 and ports 0-9999 are covered: ports 10000-19998 remain.
        #expect(covered.filters.count == 2 + 2 * 5_000 + 2)
        #expect(covered.filters.prefix(3).map(\.description) == [
            "ipv4+ipv6 tcp destination port 0-9999", "ipv4+ipv6 tcp source port 0-9999", "ipv4+ipv6 tcp destination port 10000",
        ])
        #expect(covered.filters.suffix(2).map(\.description) == ["ipv4 tcp to 198.18.0.0/16", "ipv4 tcp from 198.18.0.0/16"])
    }
}
