/// What the engine knows about one connection (or UDP/ICMP flow): who is who, what crossed, how it ended.
public struct Flow: Sendable {
    // Stored fields in order of size: Swift lays a struct out as declared, and a million flows
    // pay for every byte of padding.
    public let key: FlowKey
    public let firstSeen: Instant
    public internal(set) var lastSeen: Instant
    /// The client's side and the server's side of the conversation.
    public internal(set) var fromClient = DirectionStats()
    public internal(set) var fromServer = DirectionStats()
    /// When the client's first SYN was seen.
    @PackedInstant public internal(set) var clientSYNAt: Instant? = nil
    /// When the client's ACK completed the handshake.
    @PackedInstant public internal(set) var established: Instant? = nil
    /// When the first RST that reached its receiver was sent (by `resetBy`).
    @PackedInstant public internal(set) var resetAt: Instant? = nil
    /// When the second side's FIN reached its receiver.
    @PackedInstant public internal(set) var closedAt: Instant? = nil
    /// The first RSTs netfault itself sent on this connection (a `reset` or `reject: tcp-reset`
    /// rule), or the FINs of a `close` that ended it (`fin`).
    public internal(set) var injectedReset: InjectedReset?
    /// The faults netfault applied to this connection, one record per rule.
    public internal(set) var faults: [FaultRecord] = []
    /// Bit N: rule N (of the first 64) can match this connection: its address, port and protocol
    /// fields hold, and so do its `connection` and `concurrent_over`. None of them changes after the
    /// connection opens, so they are checked then, not once per packet (`RuleMasks`).
    var possibleRules: UInt64 = 0
    /// The `sticky` rule that acts on every packet of this connection since it first fired.
    var latchedRule: Int32? {
        get { latchedRuleIndex < 0 ? nil : latchedRuleIndex }
        set { latchedRuleIndex = newValue ?? -1 }
    }
    /// `latchedRule`, -1 for none: an `Int32?` takes 5 bytes, and with `sequenceShift` beside it
    /// the flow grew by 8.
    private var latchedRuleIndex: Int32 = -1
    /// What `shift_seq` adds to the client's sequence numbers on their way to the server (and
    /// takes from the server's acknowledgments on their way back); 0 while none does. The flow's
    /// own numbers stay the client's: the server's acknowledgments are recorded less it.
    public internal(set) var sequenceShift: UInt32 = 0
    /// Which end of the key is the client: the endpoints are stored once, in the key.
    let clientIsLower: Bool
    /// False when netfault first saw the connection mid-stream and inferred the sides.
    public let sawOpening: Bool
    /// Whether a SYN-ACK of the server's reached the client (was not dropped by netfault).
    public internal(set) var synAckDelivered = false
    /// Who sent the first RST that reached its receiver and that the receiver's stack took (RFC
    /// 5961: an RST out of its window is ignored), if any (when: `resetAt`).
    public internal(set) var resetBy: Side?
    /// What the first RST that reached each side (the peer's or netfault's) did to its socket; nil
    /// while none did.
    public internal(set) var clientReset: ResetEffect?
    public internal(set) var serverReset: ResetEffect?
    /// An ICMP destination-unreachable netfault answered the client with (a `reject` rule).
    public internal(set) var unreachable: UnreachableReason?
    /// Whether this flow is counted as open for `concurrent_over`.
    var countedOpen = true

    /// `client`: which of the key's two endpoints opened the connection; the other is the server.
    init(key: FlowKey, client: Endpoint, sawOpening: Bool, at now: Instant) {
        self.key = key
        clientIsLower = key.lower == client
        self.sawOpening = sawOpening
        firstSeen = now
        lastSeen = now
    }

    public var transport: Transport { key.transport }
    public var client: Endpoint { clientIsLower ? key.lower : key.upper }
    public var server: Endpoint { clientIsLower ? key.upper : key.lower }

    /// Payload bytes carried so far, both directions.
    public var payloadBytes: UInt64 { fromClient.payloadBytes + fromServer.payloadBytes }

    /// A TCP connection is over once an RST passed or both sides sent FIN.
    public var isClosed: Bool {
        resetBy != nil || injectedReset != nil || (fromClient.finSeen && fromServer.finSeen)
    }

    func side(of packet: Packet) -> Side { Self.side(of: packet, client: client) }

    /// Which end sent `packet`, of a connection whose client is `client`.
    static func side(of packet: Packet, client: Endpoint) -> Side {
        packet.source == client.address && packet.sourcePort == client.port ? .client : .server
    }

    func stats(_ side: Side) -> DirectionStats { side == .client ? fromClient : fromServer }

    /// The acknowledgment number of `packet`, sent by `side`, in the client's own sequence space:
    /// the server's, under `shift_seq`, acknowledge the shifted numbers it received.
    func acknowledgment(of packet: Packet, from side: Side) -> UInt32 {
        side == .server ? packet.acknowledgmentNumber &- sequenceShift : packet.acknowledgmentNumber
    }

    /// Counts the packet and its new bytes, and notes retransmissions and the handshake.
    ///
    /// - Parameters:
    ///   - delivered: false when netfault dropped the packet (or holds it until the run ends): it
    ///     counts as sent, but its ACK, FIN or RST never reached the receiver.
    ///   - held: netfault holds the packet for a while: a held SYN-ACK has not reached the client
    ///     until the client acknowledges it (it may give up first).
    ///   - acknowledges: false when the packet's ACK is not of the peer's data (after netfault's
    ///     `close`, it acknowledges netfault's FIN).
    mutating func record(_ packet: Packet, from side: Side, at now: Instant, delivered: Bool = true, held: Bool = false,
                         acknowledges: Bool = true) {
        lastSeen = now
        if side == .client {
            fromClient.record(packet, at: now, delivered: delivered)
        } else {
            fromServer.record(packet, at: now, delivered: delivered, acknowledgmentShift: sequenceShift)
        }
        guard packet.transport == .tcp else { return }
        let flags = packet.tcpFlags
        if acknowledges, flags.contains(.ack), !flags.contains(.rst) {
            // Sent, whether netfault delivers it or not: the other side's data reached this one.
            if side == .client {
                fromServer.noteAcknowledged(packet.acknowledgmentNumber)
            } else {
                fromClient.noteAcknowledged(acknowledgment(of: packet, from: side))
            }
        }
        if side == .client, flags.contains(.syn), !flags.contains(.ack), clientSYNAt == nil { clientSYNAt = now }
        guard delivered else { return }
        if side == .server, flags.contains(.syn), flags.contains(.ack), !held { synAckDelivered = true }
        if flags.contains(.rst), acceptsReset(packet, receiver: side.other) {
            noteReset(reaching: side.other)
            if resetBy == nil {
                resetBy = side
                resetAt = now
            }
        }
        if closedAt == nil, fromClient.finSeen, fromServer.finSeen { closedAt = now }
        // The client's ACK of the server's SYN completes the handshake, and proves the SYN-ACK arrived.
        if established == nil, side == .client, fromServer.synSeen, flags.contains(.ack), !flags.contains(.syn), !flags.contains(.rst),
           packet.acknowledgmentNumber == fromServer.initialSequence &+ 1 || synAckDelivered {
            established = now
            synAckDelivered = true
        }
    }

    mutating func noteFault(rule: Int, at now: Instant) -> Bool {
        if let index = faults.firstIndex(where: { $0.rule == rule }) {
            faults[index].count += 1
            return false
        }
        faults.append(FaultRecord(rule: rule, count: 1, first: now))
        return true
    }
}

/// One direction of a connection, as netfault saw it.
public struct DirectionStats: Sendable {
    // In order of size, as in `Flow`.
    public internal(set) var packets: UInt64 = 0
    /// Payload bytes the other side's acknowledgments took in (TCP), or of datagrams delivered (UDP).
    private var acknowledgedBytes: UInt64 = 0
    /// The longest time between two consecutive retransmissions: the RTO backoff actually seen.
    public internal(set) var largestRetransmissionGap: Int64 = 0
    @PackedInstant public internal(set) var lastRetransmission: Instant? = nil
    /// Data segments (and SYN/FIN) whose whole sequence range had been seen before.
    public internal(set) var retransmissions: UInt32 = 0
    /// Packets netfault dropped (or held until the run ended) instead of delivering them.
    public internal(set) var dropped: UInt32 = 0
    /// The other side's highest acknowledgment of this side's sequence space, delivered or not:
    /// what it had received in order when it sent it.
    public internal(set) var acknowledgedThrough: UInt32 = 0
    /// The sequence number of the first SYN seen from this side.
    public internal(set) var initialSequence: UInt32 = 0
    /// The sequence number just past the highest byte seen (RFC 9293 SND.NXT as seen on the wire).
    public internal(set) var nextSequence: UInt32 = 0
    /// The latest acknowledgment of this side's that reached the other side.
    public internal(set) var lastAcknowledgment: UInt32 = 0
    /// The end of the highest of this side's segments that reached the other side: the other
    /// side's RCV.NXT once every gap below it is filled.
    public internal(set) var deliveredThrough: UInt32 = 0
    /// The MSS this side announced in its SYN: the largest payload it accepts; 0 when unknown.
    public internal(set) var maximumSegmentSize: UInt16 = 0
    /// The yes-or-no facts below, one bit each: a million flows pay for every byte.
    private var facts: Facts = []

    /// Whether this side's latest data segment was a retransmission: it was still waiting for an ACK.
    public internal(set) var lastDataWasRetransmission: Bool {
        get { facts.contains(.lastDataWasRetransmission) }
        set { facts.set(.lastDataWasRetransmission, newValue) }
    }
    public internal(set) var synSeen: Bool {
        get { facts.contains(.synSeen) }
        set { facts.set(.synSeen, newValue) }
    }
    /// A FIN of this side's reached the other side.
    public internal(set) var finSeen: Bool {
        get { facts.contains(.finSeen) }
        set { facts.set(.finSeen, newValue) }
    }
    /// This side sent a FIN (its application closed or shut down writing), delivered or not.
    public internal(set) var finSent: Bool {
        get { facts.contains(.finSent) }
        set { facts.set(.finSent, newValue) }
    }
    public internal(set) var sequenceKnown: Bool {
        get { facts.contains(.sequenceKnown) }
        set { facts.set(.sequenceKnown, newValue) }
    }
    public internal(set) var acknowledgmentKnown: Bool {
        get { facts.contains(.acknowledgmentKnown) }
        set { facts.set(.acknowledgmentKnown, newValue) }
    }
    /// Whether `acknowledgedThrough` is known.
    public internal(set) var acknowledgedKnown: Bool {
        get { facts.contains(.acknowledgedKnown) }
        set { facts.set(.acknowledgedKnown, newValue) }
    }
    /// Whether `deliveredThrough` is known.
    public internal(set) var deliveredKnown: Bool {
        get { facts.contains(.deliveredKnown) }
        set { facts.set(.deliveredKnown, newValue) }
    }

    private struct Facts: OptionSet, Sendable {
        let rawValue: UInt8
        static let lastDataWasRetransmission = Facts(rawValue: 1 << 0)
        static let synSeen = Facts(rawValue: 1 << 1)
        static let finSeen = Facts(rawValue: 1 << 2)
        static let finSent = Facts(rawValue: 1 << 3)
        static let sequenceKnown = Facts(rawValue: 1 << 4)
        static let acknowledgmentKnown = Facts(rawValue: 1 << 5)
        static let deliveredKnown = Facts(rawValue: 1 << 6)
        static let acknowledgedKnown = Facts(rawValue: 1 << 7)

        mutating func set(_ member: Facts, _ value: Bool) {
            if value { insert(member) } else { remove(member) }
        }
    }

    /// Payload bytes of new data that reached the other side. TCP: what the other side's
    /// cumulative acknowledgments took in, SYN and FIN left out, plus what was delivered beyond
    /// its last acknowledgment (the tail an RST or the run's end cut off before it was
    /// acknowledged); a packet netfault dropped counts only once a retransmission got through, and
    /// retransmitted bytes never twice. UDP: the payload of the datagrams delivered.
    public var payloadBytes: UInt64 {
        guard deliveredKnown else { return acknowledgedBytes }
        var from: UInt32
        if acknowledgedKnown {
            from = acknowledgedThrough
        } else if synSeen {
            from = initialSequence &+ 1
        } else {
            return acknowledgedBytes
        }
        guard sequenceBefore(from, deliveredThrough) else { return acknowledgedBytes }
        var tail = deliveredThrough &- from
        if finSeen, deliveredThrough == nextSequence { tail -= 1 }
        return acknowledgedBytes + UInt64(tail)
    }

    /// The other side acknowledged this side's sequence space up to `acknowledgment` (RFC 9293
    /// SEG.ACK): the new payload it took in is counted. An acknowledgment of more than this side
    /// sent (a forged or stray one) counts nothing.
    mutating func noteAcknowledged(_ acknowledgment: UInt32) {
        if sequenceKnown, sequenceBefore(nextSequence, acknowledgment) { return }
        guard acknowledgedKnown else {
            acknowledgedKnown = true
            acknowledgedThrough = acknowledgment
            // The first acknowledgment seen (normally the SYN's) sets where counting starts.
            if synSeen, sequenceBefore(initialSequence &+ 1, acknowledgment) {
                acknowledgedBytes += UInt64(acknowledgment &- (initialSequence &+ 1))
                if finSent, acknowledgment == nextSequence { acknowledgedBytes -= 1 }
            }
            return
        }
        guard sequenceBefore(acknowledgedThrough, acknowledgment) else { return }
        var fresh = acknowledgment &- acknowledgedThrough
        // The SYN and the FIN each take a sequence number and carry no payload.
        if synSeen, acknowledgedThrough == initialSequence { fresh -= 1 }
        if finSent, acknowledgment == nextSequence { fresh -= 1 }
        acknowledgedBytes += UInt64(fresh)
        acknowledgedThrough = acknowledgment
    }

    /// `acknowledgmentShift`: taken from the packet's acknowledgment number to bring it into the
    /// other side's own sequence space (`Flow.sequenceShift`, for the server's packets).
    mutating func record(_ packet: Packet, at now: Instant, delivered: Bool, acknowledgmentShift: UInt32 = 0) {
        packets += 1
        if !delivered, dropped < .max { dropped += 1 }
        let flags = packet.tcpFlags
        guard packet.transport == .tcp else {
            if delivered { acknowledgedBytes += UInt64(packet.payloadLength) }
            return
        }
        if delivered, flags.contains(.ack), !flags.contains(.rst) {
            lastAcknowledgment = packet.acknowledgmentNumber &- acknowledgmentShift
            acknowledgmentKnown = true
        }
        let length = packet.sequenceLength
        let start = packet.sequenceNumber
        let end = start &+ length
        if flags.contains(.fin) { finSent = true }
        if delivered, length > 0, !flags.contains(.rst) { noteDelivered(through: end) }
        if flags.contains(.syn) {
            if synSeen, sequenceKnown, !sequenceBefore(nextSequence, end) {
                noteRetransmission(at: now)
            }
            if !synSeen { initialSequence = start }
            if let mss = packet.maximumSegmentSizeOption { maximumSegmentSize = mss }
            synSeen = true
        }
        if delivered, flags.contains(.fin) { finSeen = true }
        guard length > 0, !flags.contains(.rst) else { return }
        guard sequenceKnown else {
            sequenceKnown = true
            nextSequence = end
            return
        }
        if !sequenceBefore(nextSequence, end) {
            // Entirely at or below what was already seen: a retransmission (the SYN case is counted above).
            if !flags.contains(.syn) { noteRetransmission(at: now) }
            lastDataWasRetransmission = true
        } else {
            lastDataWasRetransmission = false
            nextSequence = end
        }
    }

    /// A delivered segment ended at `end`: `deliveredThrough` moves past it.
    private mutating func noteDelivered(through end: UInt32) {
        if !deliveredKnown || sequenceBefore(deliveredThrough, end) { deliveredThrough = end }
        deliveredKnown = true
    }

    private mutating func noteRetransmission(at now: Instant) {
        retransmissions += 1
        if let last = lastRetransmission { largestRetransmissionGap = max(largestRetransmissionGap, now.since(last)) }
        lastRetransmission = now
    }
}

/// `a` comes before `b` in sequence space (RFC 1982 serial arithmetic, modulo 2^32).
@inlinable
func sequenceBefore(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

/// A rule that acted on a connection: how often, and when first.
public struct FaultRecord: Sendable, Equatable {
    /// The rule's id among the engine's `knownRules`.
    public var rule: Int
    public var count: Int
    public var first: Instant
}

/// RSTs netfault sent on a connection: by which rule, and to whom; or, with `fin`, the FINs of a
/// `close` that ended it.
public struct InjectedReset: Sendable, Equatable {
    /// The rule's id among the engine's `knownRules`.
    public var rule: Int
    public var toward: ResetTarget
    /// FINs, not RSTs: netfault closed the connection gracefully (`close`), and answers the
    /// later packets of the sides it closed as the peer that closed would.
    public var fin: Bool
    public var at: Instant

    public init(rule: Int, toward: ResetTarget, fin: Bool = false, at: Instant) {
        self.rule = rule
        self.toward = toward
        self.fin = fin
        self.at = at
    }
}

/// Per-connection state of one stateful rule, kept by the flow table next to the flow.
struct RuleSlot: Sendable {
    /// This connection's number among those matching the rule's address/port fields; 0 when it does not match them.
    var ordinal: Int32 = 0
    /// How many other such connections were open when this one began.
    var othersOpenAtStart: Int32 = 0
    /// Packets that satisfied the rest of the match, for `nth`.
    var matchingPackets: Int32 = 0
    /// When the last packet the rule delayed on this connection is due (`keep_order`), in nanoseconds.
    var lastRelease: Int64 = 0
}
