extension RunReport {
    /// The connections a report lists, in the order they began. Each `ConnectionResult` is made
    /// when it is read, from the flow the engine keeps: the report of 100 000 connections holds
    /// a 4-byte reference to each, and one result at a time while it is written.
    public struct Connections: RandomAccessCollection, Sendable {
        private let flows: ReportedFlows
        private let listed: [ReportedFlows.Reference]
        /// The engine's known rules, by id: what faults and resets name.
        private let rules: [Rule]
        private let runStart: Instant

        init(flows: ReportedFlows, listed: [ReportedFlows.Reference], rules: [Rule], runStart: Instant) {
            self.flows = flows
            self.listed = listed
            self.rules = rules
            self.runStart = runStart
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { listed.count }

        public subscript(position: Int) -> ConnectionResult {
            let (flow, outcome) = flows[listed[position]]
            return ConnectionResult(flow, outcome: outcome, rules: rules, runStart: runStart)
        }
    }
}

extension RunReport.ConnectionResult {
    /// The result of the connection `flow`, which ended as `outcome`, in a run that started at
    /// `runStart`; `rules` are the engine's known rules, by id.
    init(_ flow: Flow, outcome: ConnectionOutcome, rules: [Rule], runStart: Instant) {
        func milliseconds(_ nanoseconds: Int64) -> Double { RunReport.milliseconds(nanoseconds) }
        let faults = flow.faults.filter { rules[$0.rule].action.kind != .pass }
        let endedByReset = outcome == .reset || outcome == .refused
        let reset = flow.resetOrigin
        var resetRule: String?
        if case .netfault(let rule)? = reset?.sender { resetRule = rules[rule].name }
        let closed = outcome == .closed ? flow.closeOrigin : nil
        var closedRule: String?
        if case .netfault(let rule)? = closed?.sender { closedRule = rules[rule].name }
        let end = flow.endedAt
        self.init(
            transport: flow.transport, client: flow.client, server: flow.server, seenFromStart: flow.sawOpening,
            outcome: outcome, errors: flow.socketErrors(for: outcome), resetBy: endedByReset ? reset : nil,
            resetRule: endedByReset ? resetRule : nil, closedBy: closed, closedRule: closedRule,
            abortedSide: outcome == .aborted ? flow.abortedSide : nil,
            startMilliseconds: milliseconds(flow.firstSeen.since(runStart)),
            handshakeMilliseconds: flow.established.flatMap { established in flow.clientSYNAt.map { milliseconds(established.since($0)) } },
            durationMilliseconds: milliseconds(end.since(flow.firstSeen)),
            packets: RunReport.PerSide(client: flow.fromClient.packets, server: flow.fromServer.packets),
            bytes: RunReport.PerSide(client: flow.fromClient.payloadBytes, server: flow.fromServer.payloadBytes),
            retransmissions: RunReport.PerSide(client: flow.fromClient.retransmissions, server: flow.fromServer.retransmissions),
            largestRetransmissionGapMilliseconds: RunReport.PerSide(client: milliseconds(flow.fromClient.largestRetransmissionGap),
                                                                    server: milliseconds(flow.fromServer.largestRetransmissionGap)),
            dropped: RunReport.PerSide(client: UInt64(flow.fromClient.dropped), server: UInt64(flow.fromServer.dropped)),
            faults: faults.map { fault in
                let rule = rules[fault.rule]
                return RunReport.FaultResult(rule: rule.name, action: rule.action.keyword, count: fault.count,
                                             firstMilliseconds: milliseconds(fault.first.since(flow.firstSeen)))
            },
            faultToEndMilliseconds: faults.map(\.first).min().map { milliseconds(end.since($0)) }
        )
    }
}
