import Benchmark
import NetFaultCore

/// A rule file for the benchmarks: room for every connection they open, none listed in a report,
/// and 20 rules, rule `index` named r`index` with the match and action `rule` gives it.
func twentyRuleFile(_ rule: (Int) -> String) -> String {
    "flows: {max_tracked: 1100000, max_listed: 0}\nrules:\n"
        + (0..<20).map { "  - {name: r\($0), \(rule($0))}\n" }.joined()
}

/// 20 rules of the kinds a lab uses, none acting on the measured traffic (as in Scripts/bench's
/// arm (d)). Their side, flags and connection fields rule them out before any is walked.
let twentyRules = twentyRuleFile { index in
    switch (index, index % 4) {
    case (0, _): return "match: {server_port: 9, flags: [syn]}, action: {reject: tcp-reset}"
    case (_, 0): return "match: {server_port: 5201, flags: [syn, fin, rst]}, action: drop"
    case (_, 1): return "match: {server_port: 5201, from: server, after_bytes: 900GB}, action: {reset: both}"
    case (_, 2): return "match: {client: 198.19.0.0/16, server_port: 5201}, action: {delay: 10ms}"
    default: return "match: {server_port: 5201, connection: \"100000000-\"}, action: drop"
    }
}

/// The worst case: 20 rules on the measured connections' port, none ruled out by side, flags or
/// connection number, so each packet is checked against every one field by field (and counted
/// for the `nth` ones).
let twentyRulesWalked = twentyRuleFile { index in
    switch index % 4 {
    case 0: return "match: {server_port: 5201, after_bytes: 900GB}, action: drop"
    case 1: return "match: {server_port: 5201, idle: 1h}, action: drop"
    case 2: return "match: {server_port: 5201, after: 10h}, action: drop"
    default: return "match: {server_port: 5201, nth: 1000000000}, action: drop"
    }
}

/// The client address and port of connection `index`: distinct for up to 2^24 connections.
func client(_ index: Int) -> (IPAddress, UInt16) {
    (IPAddress(v4: 0xC612_0000 | UInt32(index >> 8 & 0xffff)), UInt16(1024 + index & 0xff))
}

let server = IPAddress("198.18.2.2")!

/// One TCP segment of connection `index`, client to server.
func segment(_ index: Int, flags: TCPFlags, sequence: UInt32, payload: Int) -> [UInt8] {
    let (address, port) = client(index)
    return PacketBuilder.tcp(source: address, destination: server, sourcePort: port, destinationPort: 5201,
                             sequence: sequence, acknowledgment: 1, flags: flags, payload: Array(repeating: 0x61, count: payload))
}

/// An engine with `rules` that already tracks `flows` connections (each opened with a SYN).
func makeEngine(_ rules: String = twentyRules, tracking flows: Int, clock: inout Int64) throws -> Engine {
    var engine = Engine(ruleSet: try RuleFile.parse(rules, name: "bench.yaml").ruleSet, seed: 1)
    for index in 0..<flows {
        let syn = segment(index, flags: .syn, sequence: 1000, payload: 0)
        clock += 1_000
        syn.withUnsafeBytes { bytes in _ = engine.process(try! Packet(parsing: bytes), at: Instant(nanoseconds: clock)) }
    }
    return engine
}

/// The engine and packets of the decision benchmark, made once for all its runs. Its properties
/// skip the run-time exclusivity check a class's `var` gets on every access: that check (about a
/// tenth of a decision) is the harness's cost, not the engine's.
final class DecisionState: @unchecked Sendable {
    @exclusivity(unchecked) var engine: Engine
    @exclusivity(unchecked) var packets: [[UInt8]]
    @exclusivity(unchecked) var clock: Int64 = 0
    @exclusivity(unchecked) var iteration = 0

    init(rules: String) {
        engine = try! makeEngine(rules, tracking: 100_000, clock: &clock)
        packets = (0..<1024).map { segment($0 * 97 % 100_000, flags: [.ack, .psh], sequence: 1001, payload: 1448) }
    }

    func decideNext() {
        clock += 1_000
        // Each round sends every connection its next segment: new data, not a retransmission.
        let sequence = UInt32(truncatingIfNeeded: 1001 + 1448 * (iteration >> 10))
        let now = Instant(nanoseconds: clock)
        packets[iteration & 1023].withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: sequence.bigEndian, toByteOffset: 24, as: UInt32.self)
            let packet = try! Packet(parsing: UnsafeRawBufferPointer(bytes))
            blackHole(engine.process(packet, at: now))
        }
        iteration += 1
    }
}

nonisolated(unsafe) let decisionState = DecisionState(rules: twentyRules)
nonisolated(unsafe) let walkedState = DecisionState(rules: twentyRulesWalked)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(5)

    /// Times one decision after another on `state`'s engine (opened once, outside the measurement).
    func decisions(_ name: String, _ state: @escaping @autoclosure () -> DecisionState) {
        Benchmark(name, configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                             scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
            let state = state()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { state.decideNext() }
            benchmark.stopMeasurement()
        }
    }

    // One decision: parse a 1448-byte data segment of one of 100 000 tracked connections and run it
    // through the flow table and 20 rules. Targets (issue 6): median under 300 ns, no allocation.
    decisions("decision, 20 rules, 100 000 flows", decisionState)
    // The same with every rule checked field by field: the cost of rules the masks cannot rule out.
    decisions("decision, 20 rules walked, 100 000 flows", walkedState)

    // Memory: 1 000 000 distinct connections tracked at once. Target: under 512 MiB resident.
    Benchmark("1 000 000 connections tracked",
              configuration: .init(metrics: [.peakMemoryResident, .wallClock, .mallocCountTotal], maxIterations: 1)) { benchmark in
        var clock: Int64 = 0
        let engine = try makeEngine(tracking: 1_000_000, clock: &clock)
        precondition(engine.trackedFlowCount == 1_000_000, "every connection tracked")
        blackHole(engine.trackedFlowCount)
    }
}
