extension Flow {
    /// How this connection ended, from the packets that reached each side.
    ///
    /// - Parameter idle: the flow was forgotten after its idle timeout rather than seen to the end of the run.
    public func outcome(idle: Bool = false) -> ConnectionOutcome {
        if let unreachable, established == nil {
            return unreachable == .port ? .refused : .unreachable
        }
        guard transport == .tcp else { return idle ? .idle : .open }
        let reset = resetBy != nil || injectedReset.map({ !$0.fin }) == true
        if sawOpening, clientSYNAt != nil, established == nil {
            if resetBy == .server || injectedReset.map({ !$0.fin && $0.toward != .server }) == true { return .refused }
            if !synAckDelivered { return .connectTimeout }
        }
        // netfault's FINs (`close`) before any RST: closed, as the applications saw it.
        if closeOrigin != nil { return .closed }
        // FIN both ways before any RST: the applications saw a clean close; a late RST changes nothing.
        if let closedAt, closedAt <= endedAt { return .closed }
        if reset { return .reset }
        if abortedSide != nil { return .aborted }
        return idle ? .idle : .open
    }

    /// The side whose data went unacknowledged to the end: its latest data segment was a
    /// retransmission and no ACK covering it reached it.
    public var abortedSide: Side? {
        for side in [Side.client, .server] {
            let sender = stats(side)
            let receiver = stats(side.other)
            guard sender.retransmissions > 0, sender.lastDataWasRetransmission, sender.sequenceKnown else { continue }
            if !receiver.acknowledgmentKnown || sequenceBefore(receiver.lastAcknowledgment, sender.nextSequence) { return side }
        }
        return nil
    }

    /// What each side's application got, for outcomes that are errors; nil for a side that got none.
    ///
    /// A failed connect is the client's alone. After the handshake, each side's error follows from
    /// the packets that reached it: the first RST its stack took sets it by the socket's state then
    /// (`ResetEffect`), and a side whose data went unacknowledged to the end gave up on its own
    /// (ETIMEDOUT). A side that sent the RST itself, or that only waits to read, got nothing.
    public func socketErrors(for outcome: ConnectionOutcome) -> RunReport.PerSide<SocketError?> {
        func clientOnly(_ error: SocketError) -> RunReport.PerSide<SocketError?> { .init(client: error, server: nil) }
        switch outcome {
        case .refused: return clientOnly(.connectionRefused)
        case .connectTimeout: return clientOnly(.connectTimedOut)
        case .unreachable:
            return clientOnly(unreachable == .adminProhibited && client.address.family == .v6 ? .accessDenied : .hostUnreachable)
        case .reset, .aborted:
            let aborted = abortedSide
            func error(_ side: Side) -> SocketError? {
                if let effect = reset(of: side) { return SocketError(effect) }
                return aborted == side ? .connectionAborted : nil
            }
            return .init(client: error(.client), server: error(.server))
        case .closed:
            // After netfault's close, a side that still sent data got the closed peer's RST.
            guard closeOrigin != nil else { return .init(client: nil, server: nil) }
            return .init(client: reset(of: .client).map(SocketError.init), server: reset(of: .server).map(SocketError.init))
        case .open, .idle: return .init(client: nil, server: nil)
        }
    }

    /// When the connection ended: the first of its first RST and the FIN that closed it, else its last packet.
    public var endedAt: Instant {
        [resetAt, injectedReset?.at, closedAt].compactMap { $0 }.min() ?? lastSeen
    }

    /// Who ended the connection with an RST, and toward whom; nil when no RST did.
    public var resetOrigin: ResetOrigin? {
        if let injected = injectedReset, !injected.fin, resetAt.map({ injected.at <= $0 }) ?? true {
            return ResetOrigin(sender: .netfault(rule: injected.rule), toward: injected.toward)
        }
        guard let side = resetBy else { return nil }
        return ResetOrigin(sender: side == .client ? .client : .server, toward: side == .client ? .server : .client)
    }
}

extension Flow {
    /// Who closed the connection with FINs in its peers' names (a `close` rule), and toward whom;
    /// nil when netfault did not, or an RST that reached its receiver came first.
    public var closeOrigin: ResetOrigin? {
        guard let injected = injectedReset, injected.fin, resetAt.map({ injected.at <= $0 }) ?? true else { return nil }
        return ResetOrigin(sender: .netfault(rule: injected.rule), toward: injected.toward)
    }
}

/// Who sent the RST (or, for `closeOrigin`, the FINs) that ended a connection, and to whom.
public struct ResetOrigin: Sendable, Equatable {
    public enum Sender: Sendable, Equatable {
        case client, server
        /// netfault itself, by the rule at this index.
        case netfault(rule: Int)
    }

    public var sender: Sender
    public var toward: ResetTarget
}
