extension RunReport {
    /// The report a person reads at the terminal: one row per connection a fault touched (every
    /// connection with `all`), the rest summed up, then one line per rule and the queue's health.
    public func text(all: Bool = false) -> String {
        ReportWriter.text { writeText(all: all, to: &$0) }
    }

    /// Writes the text report to `writer` as it goes. The table's columns are as wide as their
    /// widest cell: a first pass over the connections measures them, a second writes the rows,
    /// each connection made afresh, so no row is held.
    public func writeText<Failure>(all: Bool = false, to writer: inout ReportWriter<Failure>) throws(Failure) {
        func line(_ text: String) throws(Failure) { try writer.write(text + "\n") }
        let segment = since.map { " (the segment since mark \($0))" } ?? ""
        try line(stopReason == Self.running
            ? "netfault running for \(Self.seconds(durationMilliseconds)); seed \(seed)\(segment)."
            : "netfault stopped: \(stopReason) after \(Self.seconds(durationMilliseconds)); seed \(seed)\(segment).")
        var table = TextTable(Self.connectionColumns)
        var listed = 0
        var others = unlistedOutcomes
        for connection in connections {
            if all || connection.isFaulted {
                listed += 1
                table.measure(Self.row(connection))
            } else {
                others[connection.outcome, default: 0] += 1
            }
        }
        try line("")
        if listed == 0 {
            try line(connections.isEmpty ? "No connection was diverted to netfault." : "No fault touched any connection.")
        } else {
            try line(all ? "Connections (\(connections.count)):" : "Connections a fault touched (\(listed) of \(connections.count)):")
            try line(table.line(Self.connectionColumns))
            for connection in connections where all || connection.isFaulted {
                try line(table.line(Self.row(connection)))
            }
        }
        if !others.isEmpty {
            let total = others.values.reduce(0, +)
            let parts = ConnectionOutcome.allCases.compactMap { outcome in others[outcome].map { "\($0) \(outcome.rawValue)" } }
            try line("Other connections: \(total) (\(parts.joined(separator: ", ")))\(all ? "" : "; --all lists them").")
        }
        try line("")
        try line("Rules:")
        for rule in rules {
            var text = "  \(rule.name) (\(rule.action)): fired \(Self.times(rule.fired)) on \(rule.connections) connection\(rule.connections == 1 ? "" : "s")"
            if let failure = rule.failure {
                text += rule.fired == 0 && rule.expect == nil ? "  ← never fired: this run proved nothing about it" : "  ← FAILED: \(failure)"
            } else if let expect = rule.expect {
                text += "  (expected \(expect): held)"
            }
            try line(text)
        }
        try line("")
        try line(queueLine)
        try line(flowLine)
    }

    private static let connectionColumns = ["CONNECTION", "OUTCOME", "ERROR", "FAULTS", "TIME", "PACKETS c/s", "RETRANS c/s", "ENDED BY"]

    /// The connection's row of the table, under `connectionColumns`.
    private static func row(_ connection: ConnectionResult) -> [String] {
        let faults = connection.faults.map { "\($0.rule) ×\($0.count)" }.joined(separator: ", ")
        return [
            "\(connection.transport.rawValue) \(connection.client) → \(connection.server)\(connection.seenFromStart ? "" : " (open before)")",
            connection.outcome.rawValue,
            connection.errorDescription ?? "-",
            faults.isEmpty ? "-" : faults,
            seconds(connection.durationMilliseconds),
            "\(connection.packets.client)/\(connection.packets.server)",
            "\(connection.retransmissions.client)/\(connection.retransmissions.server)",
            connection.resetDescription ?? connection.closeDescription ?? "-",
        ]
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

    static func seconds(_ milliseconds: Double) -> String {
        milliseconds < 1000 ? "\(Int(milliseconds.rounded()))ms" : "\((milliseconds / 100).rounded() / 10)s"
    }

    static func times(_ count: Int) -> String { "\(count) time\(count == 1 ? "" : "s")" }
}

extension RunReport.ConnectionResult {
    /// `netfault (server-crash) → both`, `server → client`.
    /// Each side's error, as "client ECONNRESET / WSAECONNRESET 10054", "both ...", or both sides
    /// named one after the other; nil when neither side got one.
    public var errorDescription: String? {
        switch (errors.client, errors.server) {
        case (nil, nil): return nil
        case (let client?, let server?) where client == server: return "both \(client)"
        case (let client?, nil): return "client \(client)"
        case (nil, let server?): return "server \(server)"
        case (let client?, let server?): return "client \(client); server \(server)"
        }
    }

    /// `netfault (limit) FIN → both`: who closed the connection gracefully, for `closed` by netfault.
    public var closeDescription: String? {
        guard closedBy != nil else { return nil }
        return "netfault (\(closedRule ?? "?")) FIN → \(closedBy!.toward.rawValue)"
    }

    public var resetDescription: String? {
        guard let reset = resetBy else { return nil }
        switch reset.sender {
        case .client: return "client → server"
        case .server: return "server → client"
        case .netfault: return "netfault (\(resetRule ?? "?")) → \(reset.toward.rawValue)"
        }
    }
}
