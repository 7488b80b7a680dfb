import Foundation
@testable import NetFaultCore

// The report as it was built and rendered before it was streamed (commit 89b843c): the whole
// `[ConnectionResult]`, a `JSONValue` tree of it, one `String`. Kept, verbatim but for names, as
// the oracle `ReportStreamingTests` compares the streaming writer with, byte for byte.

/// The report of an engine, built the old way: every connection's result held at once.
struct ReportOracle {
    var command: RunReport.CommandResult?
    var stopReason: String
    var since: String?
    var seed: UInt64
    var startedAt: String
    var durationMilliseconds: Double
    var ruleFile: String
    var queue: RunReport.QueueStatistics
    var rules: [RunReport.RuleResult]
    var connections: [RunReport.ConnectionResult]
    var unlistedOutcomes: [ConnectionOutcome: Int]
    var flows: RunReport.FlowStatistics

    var failedRules: [RunReport.RuleResult] { rules.filter { $0.failure != nil } }

    init(engine: Engine, ruleFile: String, stopReason: String, startedAt: String, start: Instant, end: Instant,
         queue: RunReport.QueueStatistics, since mark: ReportMark? = nil) {
        let after: (Flow) -> Bool = { flow in mark.map { flow.firstSeen >= $0.at } ?? true }
        let known = engine.knownRules
        func milliseconds(_ nanoseconds: Int64) -> Double { (Double(nanoseconds) / 1e4).rounded() / 100 }
        var ended: [(Flow, ConnectionOutcome)] = engine.retiredFlows.filter { after($0.flow) }.map { ($0.flow, $0.outcome) }
        var unlisted = engine.unlistedOutcomes
        let limits = FlowLimits(maxTracked: engine.table.capacity, maxListed: engine.retainedFlows)
        // The connections still tracked fill what the ended ones left of the list's limit: faulted
        // ones first (they are what the report is for), the rest counted by outcome.
        func faulted(_ flow: Flow) -> Bool { flow.faults.contains { known[$0.rule].action.kind != .pass } }
        if mark != nil { unlisted = [:] }
        let tracked = engine.flows.filter(after).map { ($0, $0.outcome()) }
        let budget = max(0, limits.maxListed - ended.count)
        let ranked = tracked.filter { faulted($0.0) } + tracked.filter { !faulted($0.0) }
        ended += ranked.prefix(budget)
        for (_, outcome) in ranked.dropFirst(budget) { unlisted[outcome, default: 0] += 1 }
        var connections: [RunReport.ConnectionResult] = []
        var outcomesByRule = Array(repeating: [ConnectionOutcome](), count: known.count)
        for (flow, outcome) in ended.sorted(by: { $0.0.firstSeen < $1.0.firstSeen }) {
            let faults = flow.faults.filter { known[$0.rule].action.kind != .pass }
            for fault in flow.faults { outcomesByRule[fault.rule].append(outcome) }
            let reset = flow.resetOrigin
            var resetRule: String?
            if case .netfault(let rule)? = reset?.sender { resetRule = known[rule].name }
            let closed = outcome == .closed ? flow.closeOrigin : nil
            let closedRule = closed.flatMap { origin -> String? in
                if case .netfault(let rule) = origin.sender { return known[rule].name }
                return nil
            }
            let end = flow.endedAt
            connections.append(RunReport.ConnectionResult(
                transport: flow.transport, client: flow.client, server: flow.server, seenFromStart: flow.sawOpening,
                outcome: outcome, errors: flow.socketErrors(for: outcome), resetBy: outcome == .reset || outcome == .refused ? reset : nil,
                resetRule: outcome == .reset || outcome == .refused ? resetRule : nil, closedBy: closed, closedRule: closedRule,
                abortedSide: outcome == .aborted ? flow.abortedSide : nil,
                startMilliseconds: milliseconds(flow.firstSeen.since(start)),
                handshakeMilliseconds: flow.established.flatMap { established in flow.clientSYNAt.map { milliseconds(established.since($0)) } },
                durationMilliseconds: milliseconds(end.since(flow.firstSeen)),
                packets: RunReport.PerSide(client: flow.fromClient.packets, server: flow.fromServer.packets),
                bytes: RunReport.PerSide(client: flow.fromClient.payloadBytes, server: flow.fromServer.payloadBytes),
                retransmissions: RunReport.PerSide(client: flow.fromClient.retransmissions, server: flow.fromServer.retransmissions),
                largestRetransmissionGapMilliseconds: RunReport.PerSide(client: milliseconds(flow.fromClient.largestRetransmissionGap),
                                                              server: milliseconds(flow.fromServer.largestRetransmissionGap)),
                dropped: RunReport.PerSide(client: UInt64(flow.fromClient.dropped), server: UInt64(flow.fromServer.dropped)),
                faults: faults.map { fault in
                    let rule = known[fault.rule]
                    return RunReport.FaultResult(rule: rule.name, action: rule.action.keyword, count: fault.count,
                                       firstMilliseconds: milliseconds(fault.first.since(flow.firstSeen)))
                },
                faultToEndMilliseconds: faults.map(\.first).min().map { milliseconds(end.since($0)) }
            ))
        }
        // The rules in force, and those no longer in force that acted (in the segment).
        let inForce = Set(engine.enabledRuleIDs)
        self.rules = known.enumerated().compactMap { id, rule in
            var statistics = engine.ruleStatistics[id]
            if let before = mark?.ruleStatistics(id) {
                statistics.fired -= before.fired
                statistics.connections -= before.connections
            }
            guard inForce.contains(id) || statistics.fired > 0 else { return nil }
            let expectation = rule.expect ?? .firesAtLeastOnce
            return RunReport.RuleResult(name: rule.name, action: rule.action.keyword, fired: statistics.fired, connections: statistics.connections,
                              expect: rule.expect,
                              failure: expectation.failure(fired: statistics.fired, outcomes: outcomesByRule[id]))
        }
        self.since = mark?.name
        self.stopReason = stopReason
        self.seed = engine.seed
        self.startedAt = startedAt
        self.durationMilliseconds = milliseconds(end.since(start))
        self.ruleFile = ruleFile
        self.queue = queue
        self.connections = connections
        self.unlistedOutcomes = unlisted
        let statistics = engine.statistics
        self.flows = RunReport.FlowStatistics(limits: limits, peakTracked: statistics.flowsPeak, created: statistics.flowsCreated,
                                    expired: statistics.flowsExpired, evicted: statistics.flowsEvicted)
    }
}

extension ReportOracle {
    func json() -> String {
        let queue = self.queue
        let document = JSONValue.object([
            ("version", .integer(2)),
            ("rule_file", .string(ruleFile)),
            // A string: a 64-bit seed does not survive JavaScript's doubles.
            ("seed", .string(String(seed))),
            ("started_at", .string(startedAt)),
            ("duration_ms", .number(durationMilliseconds)),
            ("stop_reason", .string(stopReason)),
            // The mark a segment's report starts from; null for the whole run.
            ("since", .optional(since) { .string($0) }),
            ("command", .optional(command) { command in
                .object([("argv", .array(command.arguments.map { .string($0) })), ("status", .integer(Int64(command.status))),
                         ("ended", .string(command.ended))])
            }),
            ("queue", .object([
                ("number", .integer(Int64(queue.queue))),
                ("packets", .integer(Int64(queue.packets))),
                ("verdicts", .integer(Int64(queue.verdicts))),
                ("held_peak", .integer(Int64(queue.heldPeak))),
                ("held_released_early", .integer(Int64(queue.heldReleasedEarly))),
                ("unreadable", .integer(Int64(queue.unreadable))),
                ("escaped_fail_open", .optional(queue.escapedFailOpen) { .integer(Int64($0)) }),
                ("kernel_dropped", .optional(queue.kernelDropped) { .integer(Int64($0)) }),
                ("receive_buffer_dropped", .optional(queue.receiveBufferDropped) { .integer(Int64($0)) }),
                ("injected", .integer(Int64(queue.injected))),
                ("injection_failures", .integer(Int64(queue.injectionFailures))),
                // One number per queue with `queues:` above 1: packets received from each.
                ("packets_per_queue", .array(queue.packetsPerQueue.map { .integer(Int64($0)) })),
            ])),
            ("flows", .object([
                ("max_tracked", .integer(Int64(flows.limits.maxTracked))),
                ("max_listed", .integer(Int64(flows.limits.maxListed))),
                ("peak_tracked", .integer(Int64(flows.peakTracked))),
                ("created", .integer(Int64(flows.created))),
                ("expired", .integer(Int64(flows.expired))),
                ("evicted", .integer(Int64(flows.evicted))),
            ])),
            ("rules", .array(rules.map(Self.json))),
            ("connections", .array(connections.map(Self.json))),
            ("unlisted_connections", .object(ConnectionOutcome.allCases.compactMap { outcome in
                unlistedOutcomes[outcome].map { (outcome.rawValue, .integer(Int64($0))) }
            })),
        ])
        return document.oracleRendered() + "\n"
    }

    private static func json(_ rule: RunReport.RuleResult) -> JSONValue {
        .object([
            ("name", .string(rule.name)),
            ("action", .string(rule.action)),
            ("fired", .integer(Int64(rule.fired))),
            ("connections", .integer(Int64(rule.connections))),
            ("expect", .optional(rule.expect) { expect in
                .object([("fired", .string(expect.fired?.description ?? ">=1")),
                         ("outcome", .optional(expect.outcome) { .string($0.rawValue) })])
            }),
            ("passed", .bool(rule.failure == nil)),
            ("failure", .optional(rule.failure) { .string($0) }),
        ])
    }

    private static func json(_ connection: RunReport.ConnectionResult) -> JSONValue {
        func sides<T>(_ values: RunReport.PerSide<T>, _ wrap: (T) -> JSONValue) -> JSONValue {
            .object([("client", wrap(values.client)), ("server", wrap(values.server))])
        }
        return .object([
            ("protocol", .string(connection.transport.rawValue)),
            ("client", .string(connection.client.description)),
            ("server", .string(connection.server.description)),
            ("seen_from_start", .bool(connection.seenFromStart)),
            ("outcome", .string(connection.outcome.rawValue)),
            ("errno", sides(connection.errors) { .optional($0) { .string($0.errno) } }),
            ("winsock", sides(connection.errors) { .optional($0) { .string($0.winsock) } }),
            ("winsock_code", sides(connection.errors) { .optional($0) { .integer(Int64($0.winsockCode)) } }),
            ("reset_by", .optional(connection.resetBy) { reset in
                let sender: String
                switch reset.sender {
                case .client: sender = "client"
                case .server: sender = "server"
                case .netfault: sender = "netfault"
                }
                return .object([("sender", .string(sender)), ("rule", .optional(connection.resetRule) { .string($0) }),
                                ("toward", .string(reset.toward.rawValue))])
            }),
            ("closed_by", .optional(connection.closedBy) { closed in
                .object([("sender", .string("netfault")), ("rule", .optional(connection.closedRule) { .string($0) }),
                         ("toward", .string(closed.toward.rawValue))])
            }),
            ("aborted_side", .optional(connection.abortedSide) { .string($0.rawValue) }),
            ("start_ms", .number(connection.startMilliseconds)),
            ("handshake_ms", .optional(connection.handshakeMilliseconds) { .number($0) }),
            ("duration_ms", .number(connection.durationMilliseconds)),
            ("packets", sides(connection.packets) { .unsigned($0) }),
            ("bytes", sides(connection.bytes) { .unsigned($0) }),
            ("retransmissions", sides(connection.retransmissions) { .unsigned(UInt64($0)) }),
            ("largest_retransmission_gap_ms", sides(connection.largestRetransmissionGapMilliseconds) { .number($0) }),
            ("dropped", sides(connection.dropped) { .unsigned($0) }),
            ("faults", .array(connection.faults.map { fault in
                .object([("rule", .string(fault.rule)), ("action", .string(fault.action)),
                         ("count", .integer(Int64(fault.count))), ("first_ms", .number(fault.firstMilliseconds))])
            })),
            ("fault_to_end_ms", .optional(connection.faultToEndMilliseconds) { .number($0) }),
        ])
    }
}

extension ReportOracle {
    func text(all: Bool = false) -> String {
        let segment = since.map { " (the segment since mark \($0))" } ?? ""
        var lines = [stopReason == RunReport.running
            ? "netfault running for \(RunReport.seconds(durationMilliseconds)); seed \(seed)\(segment)."
            : "netfault stopped: \(stopReason) after \(RunReport.seconds(durationMilliseconds)); seed \(seed)\(segment)."]
        let listed = all ? connections : connections.filter(\.isFaulted)
        lines.append("")
        if listed.isEmpty {
            lines.append(connections.isEmpty ? "No connection was diverted to netfault." : "No fault touched any connection.")
        } else {
            lines.append(all ? "Connections (\(connections.count)):" : "Connections a fault touched (\(listed.count) of \(connections.count)):")
            lines += connectionTable(listed).lines()
        }
        var others = all ? [:] : Dictionary(grouping: connections.filter { !$0.isFaulted }, by: \.outcome).mapValues(\.count)
        others.merge(unlistedOutcomes, uniquingKeysWith: +)
        if !others.isEmpty {
            let total = others.values.reduce(0, +)
            let parts = ConnectionOutcome.allCases.compactMap { outcome in others[outcome].map { "\($0) \(outcome.rawValue)" } }
            lines.append("Other connections: \(total) (\(parts.joined(separator: ", ")))\(all ? "" : "; --all lists them").")
        }
        lines.append("")
        lines.append("Rules:")
        for rule in rules {
            var line = "  \(rule.name) (\(rule.action)): fired \(RunReport.times(rule.fired)) on \(rule.connections) connection\(rule.connections == 1 ? "" : "s")"
            if let failure = rule.failure {
                line += rule.fired == 0 && rule.expect == nil ? "  ← never fired: this run proved nothing about it" : "  ← FAILED: \(failure)"
            } else if let expect = rule.expect {
                line += "  (expected \(expect): held)"
            }
            lines.append(line)
        }
        lines.append("")
        lines.append(queueLine)
        lines.append(flowLine)
        return lines.joined(separator: "\n") + "\n"
    }

    private func connectionTable(_ listed: [RunReport.ConnectionResult]) -> OracleTable {
        var table = OracleTable(["CONNECTION", "OUTCOME", "ERROR", "FAULTS", "TIME", "PACKETS c/s", "RETRANS c/s", "ENDED BY"])
        for connection in listed {
            let faults = connection.faults.map { "\($0.rule) ×\($0.count)" }.joined(separator: ", ")
            table.append([
                "\(connection.transport.rawValue) \(connection.client) → \(connection.server)\(connection.seenFromStart ? "" : " (open before)")",
                connection.outcome.rawValue,
                connection.errorDescription ?? "-",
                faults.isEmpty ? "-" : faults,
                RunReport.seconds(connection.durationMilliseconds),
                "\(connection.packets.client)/\(connection.packets.server)",
                "\(connection.retransmissions.client)/\(connection.retransmissions.server)",
                connection.resetDescription ?? connection.closeDescription ?? "-",
            ])
        }
        return table
    }

    private var queueLine: String {
        var line = "Queue \(queue.queue): \(queue.packets) packets"
        if queue.packetsPerQueue.count > 1 {
            let last = Int(queue.queue) + queue.packetsPerQueue.count - 1
            line = "Queues \(queue.queue)-\(last): \(queue.packets) packets (\(queue.packetsPerQueue.map(String.init).joined(separator: " + ")))"
        }
        line += ", \(queue.verdicts) verdicts, held at peak \(queue.heldPeak)"
        if queue.heldReleasedEarly > 0 { line += " (\(queue.heldReleasedEarly) let go early: max_held reached, or passed by a full parking queue)" }
        if let escaped = queue.escapedFailOpen { line += ", \(escaped) escaped (queue full, fail-open)" }
        if let dropped = queue.kernelDropped { line += ", kernel dropped \(dropped) (queue full)" }
        if let dropped = queue.receiveBufferDropped { line += " + \(dropped) (receive buffer)" }
        if queue.unreadable > 0 { line += ", \(queue.unreadable) unreadable (accepted)" }
        line += "; injected \(queue.injected)"
        if queue.injectionFailures > 0 { line += " (\(queue.injectionFailures) failed)" }
        return line + "."
    }

    private var flowLine: String {
        let unlisted = unlistedOutcomes.values.reduce(0, +)
        return "Flows: \(flows.created) seen, at most \(flows.peakTracked) tracked at once (limit \(flows.limits.maxTracked)), "
            + "\(flows.expired) expired, \(flows.evicted) evicted; \(connections.count) listed (limit \(flows.limits.maxListed))"
            + (unlisted > 0 ? ", \(unlisted) counted only." : ".")
    }
}

extension ReportOracle {
    func junit() -> String {
        let failures = failedRules.count
        let seconds = String(durationMilliseconds / 1000)
        var lines = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        lines.append(#"<testsuites name="netfault" tests="\#(rules.count)" failures="\#(failures)" time="\#(seconds)">"#)
        lines.append(#"  <testsuite name="netfault \#(RunReport.escaped(ruleFile))" tests="\#(rules.count)" failures="\#(failures)" errors="0" time="\#(seconds)" timestamp="\#(RunReport.escaped(startedAt))">"#)
        for rule in rules {
            let name = RunReport.escaped(rule.name)
            let summary = "fired \(RunReport.times(rule.fired)) on \(rule.connections) connection\(rule.connections == 1 ? "" : "s")"
            if let failure = rule.failure {
                lines.append(#"    <testcase classname="netfault.rules" name="\#(name)" time="0">"#)
                lines.append(#"      <failure message="\#(RunReport.escaped(failure))" type="expectation">\#(RunReport.escaped("\(rule.name) (\(rule.action)): \(summary)"))</failure>"#)
                lines.append("    </testcase>")
            } else {
                lines.append(#"    <testcase classname="netfault.rules" name="\#(name)" time="0"/>"#)
            }
        }
        lines.append("    <system-out>\(RunReport.escaped(text()))</system-out>")
        lines.append("  </testsuite>")
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Left-aligned columns for the terminal: each as wide as its widest cell, two spaces apart.
struct OracleTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) { self.header = header }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// The lines, each indented by `indent` and without trailing spaces.
    func lines(indent: String = "  ") -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            var line = indent
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}

extension JSONValue {
    /// Two-space indented text.
    func oracleRendered(indent: String = "") -> String {
        switch self {
        case .string(let text): return JSONValue.oracleQuoted(text)
        case .integer(let value): return String(value)
        case .unsigned(let value): return String(value)
        case .number(let value):
            guard value.isFinite else { return "null" }
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.oracleRendered(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let inner = indent + "  "
            return "{\n" + members.map { "\(inner)\(JSONValue.oracleQuoted($0.0)): \($0.1.oracleRendered(indent: inner))" }.joined(separator: ",\n")
                + "\n\(indent)}"
        }
    }

    static func oracleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
