#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore

/// One queue of a run and everything that answers it: its socket, its parking queue, its raw
/// sockets for injection, and its counts. Each packet goes through the shared engine and gets
/// exactly one verdict. Used by one thread at a time: its `QueueThread`, then the controller's
/// for the report.
final class QueueWorker: @unchecked Sendable {
    let socket: QueueSocket
    // One thread at a time (see above): the run-time exclusivity checks of the per-packet state
    // (a call into the runtime per access) could never fire, and are off.
    /// Where held packets wait; nil when no rule holds.
    @exclusivity(unchecked) private(set) var parking: ParkingLot?
    let injector: PacketInjector
    private let engine: SharedEngine
    @exclusivity(unchecked) private(set) var received = 0
    /// Verdicts given in the diverting queue, moves to the parking queue not counted.
    @exclusivity(unchecked) private(set) var verdicts = 0
    @exclusivity(unchecked) private(set) var unreadable = 0
    /// Accepted packets whose verdict is still to go: one NFQNL_MSG_VERDICT_BATCH accepts every
    /// queued packet up to the highest id. Every packet read before it has had its own verdict
    /// already (drops, replacements and moves to the parking queue go at once), so the batch
    /// accepts only what it should.
    @exclusivity(unchecked) private var batchedThrough: UInt32?
    @exclusivity(unchecked) private var batchedCount = 0
    /// The last packet id read: after an error cut a read short, the stop accepts everything up to it.
    @exclusivity(unchecked) private var highestRead: UInt32?

    /// Binds `queue` (and its parking queue when `ruleSet` holds packets).
    init(queue: UInt16, ruleSet: RuleSet, wholePackets: Bool, engine: SharedEngine) throws {
        // Headers are all the engine needs unless a rule reads or rebuilds payload, or --pcap keeps it.
        // Only held packets need the thread back while no packet comes (`mayBlockInReceive`); any
        // other reader waits for a packet or `wake` alone.
        socket = try QueueSocket(queue: queue, copyBytes: wholePackets ? QueueSocket.wholePacket : QueueSocket.headerCopyBytes,
                                 waitLimitMilliseconds: ruleSet.canHold ? QueueSocket.longestWaitMilliseconds : nil)
        parking = ruleSet.canHold ? try ParkingLot(queue: queue, maximumHeld: ruleSet.maxHeld) : nil
        injector = try PacketInjector()
        self.engine = engine
    }

    /// When the earliest held packet is due.
    var nextDeadline: Instant? { parking?.nextDeadline }

    /// The next read may block in the queue socket itself (`pump(waiting: true)`); see
    /// `mayBlockInReceive(awaitingArrivals:nextDeadline:now:)`.
    var mayBlockInReceive: Bool {
        guard let parking else { return true }
        return Self.mayBlockInReceive(awaitingArrivals: parking.awaitsArrivals, nextDeadline: parking.nextDeadline, now: monotonicNow())
    }

    /// A read may block in the queue socket when no moved packet is on its way to the parking
    /// queue and no held packet falls due before a blocked read comes back by itself
    /// (`QueueSocket.longestWaitMilliseconds`, plus a margin: the socket's time limit counts in
    /// jiffies of up to 10 ms), so nothing else needs watching meanwhile. 50 000 packets held for
    /// minutes block as cheaply as none.
    static func mayBlockInReceive(awaitingArrivals: Bool, nextDeadline: Instant?, now: Instant) -> Bool {
        if awaitingArrivals { return false }
        guard let due = nextDeadline else { return true }
        return due.since(now) > Int64(QueueSocket.longestWaitMilliseconds + 20) * 1_000_000
    }

    /// The descriptors to wait on while packets are held: the queue, and the parking queue.
    var descriptors: [Int32] { [socket.fileDescriptor] + (parking.map { [$0.socket.fileDescriptor] } ?? []) }

    /// Reads what is queued (up to about 4096 packets, so that a flood never starves the caller's
    /// other duties), gives each packet its verdict, and releases the held packets now due.
    ///
    /// - Parameters:
    ///   - waiting: block in the read until a packet arrives (or `QueueSocket.wake`, or, when
    ///     packets may be held, `QueueSocket.longestWaitMilliseconds`); only when `mayBlockInReceive`.
    ///   - parkingReadable: a wait found the parking queue's descriptor (the second of
    ///     `descriptors`) readable. The parking queue is read then, whenever packets moved there
    ///     are still awaited, and otherwise at least every `QueueSocket.longestWaitMilliseconds`
    ///     (what arrives there unasked is let go at once); reading it on every wake-up cost a
    ///     system call per packet.
    func pump(waiting: Bool = false, parkingReadable: Bool) throws {
        try socket.drain(limit: 4096, waitingForFirst: waiting) { packet in try handle(packet) }
        try sendVerdicts()
        guard parking != nil else { return }
        let now = monotonicNow()
        if parkingReadable || parking!.awaitsArrivals || now >= nextParkingCheck {
            try parking!.collect()
            nextParkingCheck = now + .milliseconds(Int64(QueueSocket.longestWaitMilliseconds))
        }
        try parking!.releaseDue(at: now)
    }

    /// When the parking queue is read next even if nothing is awaited there.
    @exclusivity(unchecked) private var nextParkingCheck = Instant.zero

    private func handle(_ queued: QueuedPacket) throws {
        received += 1
        highestRead = queued.id
        let packet: Packet
        do {
            packet = try Packet(parsing: queued.bytes, originalLength: queued.originalLength)
        } catch {
            unreadable += 1
            return accept(queued.id)
        }
        let decision = engine.decide(packet, bytes: queued.bytes, at: queued.readAt)
        switch decision.verdict {
        case .accept: accept(queued.id)
        case .drop: try verdict(queued.id, .drop)
        case .acceptAfter(let deadline): try hold(queued, until: deadline)
        case .holdUntilEnd: try hold(queued, until: nil)
        case .replace(let bytes):
            try bytes.withUnsafeBytes { replacement in try verdict(queued.id, .accept, replacement: replacement) }
        }
        guard decision.hasInjections else { return }
        // What netfault sends itself (RSTs, ICMP errors, copies) must not overtake the packets read
        // before it: their verdicts go first.
        try sendVerdicts()
        for injection in decision.injections { injector.send(injection.bytes) }
    }

    /// Accepts packet `id` in the next batch verdict.
    private func accept(_ id: UInt32) {
        batchedThrough = id
        batchedCount += 1
    }

    /// Sends the verdicts written while reading, the batch verdict for the packets `accept`
    /// collected last, in one datagram.
    private func sendVerdicts() throws {
        if let through = batchedThrough {
            batchedThrough = nil
            try socket.acceptAll(through: through)
            verdicts += batchedCount
            batchedCount = 0
        }
        try socket.flush()
    }

    private func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer? = nil) throws {
        try socket.verdict(id, verdict, replacement: replacement)
        verdicts += 1
    }

    /// Moves the packet to the parking queue until `deadline` (nil: the run's end). Only a rule
    /// set that holds decides so, and such a rule set always has a parking queue.
    private func hold(_ queued: QueuedPacket, until deadline: Instant?) throws {
        guard parking != nil else { return accept(queued.id) }
        try parking!.park(queued, until: deadline, from: socket)
    }

    /// The run is over and nothing is diverted any more: accept what is still queued, release what
    /// is held, before the hooks go (the kernel drops whatever is queued when a hook goes, or when
    /// the socket closes). Packets that passed the diversion just before it went off may still be
    /// on their way into the queue: they are waited for until the queue is quiet for `quietWaitMilliseconds`.
    func finish() {
        try? sendVerdicts()
        // Whatever an error left unanswered among the packets read (nothing, normally): a batch
        // accepts it and leaves alone every packet already given its verdict.
        if let highestRead {
            try? socket.acceptAll(through: highestRead)
            try? socket.flush()
        }
        var descriptor = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
        repeat {
            var pending: [UInt32] = []
            _ = try? socket.drain { packet in pending.append(packet.id) }
            received += pending.count
            for id in pending { try? verdict(id, .accept) }
            try? socket.flush()
        } while poll(&descriptor, 1, Self.quietWaitMilliseconds) > 0
        parking?.releaseAll()
    }

    /// How long the stop waits for the last diverted packets to reach the queue.
    static let quietWaitMilliseconds: Int32 = 10

    /// This queue's part of the report: what netfault and the kernel counted.
    var statistics: RunReport.QueueStatistics {
        var queue = RunReport.QueueStatistics()
        queue.queue = socket.queue
        queue.packets = received
        queue.verdicts = verdicts + (parking?.verdicts ?? 0)
        queue.heldPeak = parking?.held.peak ?? 0
        queue.heldReleasedEarly = parking.map { $0.held.releasedEarly + $0.passedByKernel } ?? 0
        // Messages cut by their receive slot (never, with slots sized for the copy range) are
        // unreadable too; a later batch verdict accepts their packets.
        queue.unreadable = unreadable + socket.truncatedMessages
        queue.injected = injector.sent
        queue.injectionFailures = injector.failures
        let kernel = QueueCounters.read(queue: socket.queue)
        queue.kernelDropped = kernel.map { Int($0.queueDropped) }
        queue.receiveBufferDropped = kernel.map { Int($0.userDropped) + socket.overruns }
        return queue
    }

    func close() {
        socket.close()
        parking?.socket.close()
    }
}
