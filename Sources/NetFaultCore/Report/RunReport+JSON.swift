extension RunReport {
    /// The report as JSON, every connection listed; the keys are documented in the README
    /// ("The JSON report") and only ever added to. Times are milliseconds.
    public func json() -> String {
        ReportWriter.text { writeJSON(to: &$0) }
    }

    /// Writes the JSON report to `writer` as it goes: the members before the connections, then
    /// each connection made and written one at a time, then the rest.
    public func writeJSON<Failure>(to writer: inout ReportWriter<Failure>) throws(Failure) {
        let queue = self.queue
        let opening: [(String, JSONValue)] = [
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
        ]
        let closing: [(String, JSONValue)] = [
            ("unlisted_connections", .object(ConnectionOutcome.allCases.compactMap { outcome in
                unlistedOutcomes[outcome].map { (outcome.rawValue, .integer(Int64($0))) }
            })),
        ]
        // As `JSONValue.object(opening + [("connections", .array(...))] + closing)` renders, at
        // the top level (indent ""), without holding the array.
        func member(_ key: String) throws(Failure) {
            try writer.write(key == opening[0].0 ? "{\n  " : ",\n  ")
            try writer.writeJSONString(key)
            try writer.write(": ")
        }
        for (key, value) in opening {
            try member(key)
            try value.write(to: &writer, indent: "  ")
        }
        try member("connections")
        if connections.isEmpty {
            try writer.write("[]")
        } else {
            for (index, connection) in connections.enumerated() {
                try writer.write(index == 0 ? "[\n    " : ",\n    ")
                try Self.json(connection).write(to: &writer, indent: "    ")
            }
            try writer.write("\n  ]")
        }
        for (key, value) in closing {
            try member(key)
            try value.write(to: &writer, indent: "  ")
        }
        try writer.write("\n}\n")
    }

    private static func json(_ rule: RuleResult) -> JSONValue {
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

    private static func json(_ connection: ConnectionResult) -> JSONValue {
        func sides<T>(_ values: PerSide<T>, _ wrap: (T) -> JSONValue) -> JSONValue {
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
