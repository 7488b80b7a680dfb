import NetFaultCore

/// Where held packets wait: a second kernel queue, the parking queue, instead of the queue that
/// diverts traffic. A held packet is moved there with an NF_QUEUE verdict (the kernel keeps the
/// packet itself; netfault keeps nothing but its id) and gets its real verdict there when due.
///
/// Kept in the diverting queue, held packets would slow every other packet: a batch verdict
/// accepts every queued id up to N, so nothing could be batched while anything is held, and the
/// kernel looks each single verdict's id up by walking the queue from its oldest packet, past
/// every held one. In the parking queue the diverting queue stays short, and packets released
/// in the order they were held are found first.
struct ParkingLot<Queue: PacketQueue> {
    /// Room in the parking queue beyond `maximumHeld` for packets moved but not yet read back
    /// (at most one read of the diverting queue's worth).
    static var margin: Int { 8192 }

    /// The parking queue, with the verdicts of held packets.
    private(set) var ledger: VerdictLedger<Queue>
    var socket: Queue { ledger.queue }
    /// Held packets by their id in the parking queue, earliest due first.
    private(set) var held: HoldQueue
    private var arrivals = ParkingArrivals()
    /// Verdicts given to held packets.
    var verdicts: Int { ledger.verdicts }
    /// Moved packets that never arrived: the kernel let them go on (fail-open) before their time.
    private(set) var passedByKernel = 0

    /// Holds up to `maximumHeld` packets in `parking`.
    init(_ parking: Queue, maximumHeld: Int) {
        ledger = VerdictLedger(parking)
        held = HoldQueue(limit: maximumHeld, capacity: min(maximumHeld, 4096))
    }

    var nextDeadline: Instant? { held.nextDeadline }

    /// Packets moved here that have not been read back yet.
    var awaitsArrivals: Bool { arrivals.count > 0 }

    /// Expects `packet`, which the diverting queue's ledger has just moved here, and holds it until
    /// `deadline` (nil: until the run ends, then dropped) from when `collect` reads it back.
    mutating func expect(_ packet: QueuedPacket, until deadline: Instant?) {
        let length = packet.originalLength ?? packet.bytes.count
        arrivals.expect(.init(fingerprint: ParkingArrivals.fingerprint(packet.bytes, length: length), deadline: deadline))
    }

    /// Reads back the packets moved since the last call and holds each until its deadline; at
    /// `maximumHeld`, the earliest due goes first.
    /// Reads whatever the parking socket holds, also when nothing was moved (a stranger, or the
    /// kernel's answer to a verdict for a packet it already dropped): an unread socket would keep
    /// the loop's poll returning at once.
    mutating func collect() throws {
        try socket.drain(limit: .max, waitingForFirst: false) { packet in
            let fingerprint = ParkingArrivals.fingerprint(packet.bytes, length: packet.originalLength ?? packet.bytes.count)
            guard let (expected, skipped) = arrivals.arrived(fingerprint) else {
                // Not moved here by netfault (a stranger): let go at once.
                return try socket.verdict(packet.id, .accept, replacement: nil)
            }
            passedByKernel += skipped
            if let early = held.hold(packet.id, until: expected.deadline) { try release(early) }
        }
        try socket.flush()
    }

    /// Releases the packets due at `now`. Should a verdict fail, the ones not yet released are
    /// held again (already due), so that the stop still releases them.
    mutating func releaseDue(at now: Instant) throws {
        var due: [HoldQueue.Entry] = []
        held.releaseDue(at: now) { due.append($0) }
        for (index, entry) in due.enumerated() {
            do {
                try release(entry)
            } catch {
                for unreleased in due[index...] { held.hold(unreleased.packetID, until: unreleased.acceptAtEnd ? unreleased.deadline : nil) }
                throw error
            }
        }
        try socket.flush()
    }

    /// The run is over and nothing is diverted any more: every held packet goes as its rule says
    /// (a delay ends in delivery, `hold: forever` in a drop). Failures are not fatal here, but a
    /// packet left without a verdict is dropped by the kernel when the socket closes.
    mutating func releaseAll() {
        _ = try? collect()
        passedByKernel += arrivals.abandon()
        var all: [HoldQueue.Entry] = []
        held.releaseAll { all.append($0) }
        for entry in all { try? release(entry) }
        try? socket.flush()
    }

    private mutating func release(_ entry: HoldQueue.Entry) throws {
        try ledger.verdict(entry.packetID, entry.acceptAtEnd ? .accept : .drop)
    }
}

extension ParkingLot where Queue == QueueSocket {
    /// Binds the parking queue of `queue`, with room for `maximumHeld` packets.
    static func bind(for queue: UInt16, maximumHeld: Int) throws -> ParkingLot {
        let parking = RuleSet.parkingQueue(for: queue)
        do {
            let socket = try QueueSocket(queue: parking, maximumLength: UInt32(maximumHeld + margin),
                                         copyBytes: UInt32(ParkingArrivals.fingerprintBytes))
            return ParkingLot(socket, maximumHeld: maximumHeld)
        } catch {
            var refusal = error
            refusal.doing = "binding queue \(parking), where queue \(queue)'s held packets wait"
            throw refusal
        }
    }
}
