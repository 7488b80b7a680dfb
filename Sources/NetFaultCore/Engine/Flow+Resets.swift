/// What an RST that a socket's stack took did to it: the error its application gets next (Linux
/// `tcp_reset()`, net/ipv4/tcp_input.c, sets it by the socket's state when the RST arrives).
public enum ResetEffect: UInt8, Sendable {
    /// In SYN-SENT: the connect fails with ECONNREFUSED.
    case refused
    /// In CLOSE-WAIT (the peer's FIN had arrived, this side had not closed): the next send fails
    /// with EPIPE, while a read returns end of file.
    case brokenPipe
    /// In any other state: ECONNRESET on the next call.
    case connectionReset
}

extension Flow {
    /// Whether `receiver`'s stack takes `packet`, an RST from its peer, and ends the connection.
    ///
    /// RFC 5961 §3.2, as Linux's `tcp_validate_incoming()` applies it: an RST is taken only when its
    /// sequence number is exactly the receiver's next expected one (RCV.NXT; one less is taken too
    /// once the peer's FIN arrived, `tcp_reset_check()`); one elsewhere in the window gets a
    /// challenge ACK, one outside it is dropped, and neither changes anything. In SYN-SENT
    /// (RFC 9293 §3.10.7.3) only an RST whose ACK acknowledges the SYN is taken. RCV.NXT is known
    /// from the packets as the end of the peer's highest segment delivered, or, while a gap lies
    /// below it, the receiver's latest ACK that was delivered (it points at the gap); when neither
    /// is known (a connection seen mid-stream, before any data), the RST is taken.
    func acceptsReset(_ packet: Packet, receiver: Side) -> Bool {
        let own = stats(receiver)
        let peer = stats(receiver.other)
        if receiver == .client, own.synSeen, !synAckDelivered {
            return packet.tcpFlags.contains(.ack) && acknowledgment(of: packet, from: .server) == own.initialSequence &+ 1
        }
        let sequence = packet.sequenceNumber
        let afterFIN = peer.finSeen
        func expected(_ next: UInt32) -> Bool { sequence == next || (afterFIN && sequence == next &- 1) }
        if peer.deliveredKnown, expected(peer.deliveredThrough) { return true }
        if own.acknowledgmentKnown, expected(own.lastAcknowledgment) { return true }
        return !peer.deliveredKnown && !own.acknowledgmentKnown
    }

    /// An RST that `side`'s stack takes reached it: the first one sets what its socket returns.
    mutating func noteReset(reaching side: Side) {
        let effect = resetEffect(on: side)
        if side == .client {
            if clientReset == nil { clientReset = effect }
        } else if serverReset == nil {
            serverReset = effect
        }
    }

    /// What an RST arriving now would do to `side`'s socket, by the state its packets put it in.
    func resetEffect(on side: Side) -> ResetEffect {
        if side == .client, stats(.client).synSeen, !synAckDelivered { return .refused }
        // The peer's FIN (or netfault's in its name, `close`) arrived and this side has not sent
        // its own: CLOSE-WAIT.
        let closedToward = injectedReset.map { $0.fin && $0.toward.includes(side) } ?? false
        if stats(side.other).finSeen || closedToward, !stats(side).finSent { return .brokenPipe }
        return .connectionReset
    }

    /// What the first RST that reached `side` did to it, if any did.
    public func reset(of side: Side) -> ResetEffect? { side == .client ? clientReset : serverReset }
}
