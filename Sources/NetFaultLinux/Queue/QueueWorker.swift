#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore
import Synchronization

/// One queue of a run and everything that answers it: the queue, its parking queue, where
/// injected packets go, and its counts. Each packet goes through the shared engine, its decision
/// becomes a `VerdictPlan`, and the plan is carried out on the queue; the `VerdictLedger`s see
/// that each packet gets exactly one verdict. Used by one thread at a time: its `QueueThread`,
/// then the controller's for the report.
///
/// Generic over the queue and the sender so that a fake can play the kernel in tests; a run uses
/// `LiveQueueWorker`.
final class QueueWorker<Queue: PacketQueue, Sender: PacketSender>: @unchecked Sendable {
    // One thread at a time (see above): the run-time exclusivity checks of the per-packet state
    // (a call into the runtime per access) could never fire, and are off.
    @exclusivity(unchecked) private(set) var ledger: VerdictLedger<Queue>
    /// Where held packets wait; nil when no rule holds.
    @exclusivity(unchecked) private(set) var parking: ParkingLot<Queue>?
    let injector: Sender
    private let engine: SharedEngine
    private let clock: () -> Instant
    @exclusivity(unchecked) private(set) var unreadable = 0
    /// When the parking queue is read next even if nothing is awaited there.
    @exclusivity(unchecked) private var nextParkingCheck = Instant.zero
    /// Which of the run's queues this is, from 0.
    let queueIndex: Int
    /// Packets held now, as of the last turn: for the control API, read from another thread.
    let heldNow = Atomic<Int>(0)

    /// `clock`: the time held packets are released by (the monotonic clock; a fake one in tests).
    init(queue: Queue, parking: ParkingLot<Queue>?, injector: Sender, engine: SharedEngine, queueIndex: Int = 0,
         clock: @escaping () -> Instant = monotonicNow) {
        ledger = VerdictLedger(queue)
        self.parking = parking
        self.injector = injector
        self.engine = engine
        self.queueIndex = queueIndex
        self.clock = clock
    }

    var socket: Queue { ledger.queue }

    /// When the earliest held packet is due.
    var nextDeadline: Instant? { parking?.nextDeadline }

    /// The next read may block in the queue itself (`pump(waiting: true)`); see
    /// `mayBlockInReceive(awaitingArrivals:nextDeadline:now:)`.
    var mayBlockInReceive: Bool {
        // Read in place: binding the lot to a local would copy it, and retain its queues, every turn.
        guard parking != nil else { return true }
        return Self.mayBlockInReceive(awaitingArrivals: parking!.awaitsArrivals, nextDeadline: parking!.nextDeadline, now: clock())
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

    /// Reads what is queued (up to about 4096 packets, so that a flood never starves the caller's
    /// other duties), gives each packet its verdict, and releases the held packets now due.
    ///
    /// - Parameters:
    ///   - waiting: block in the read until a packet arrives (or `QueueSocket.wake`, or, when
    ///     packets may be held, `QueueSocket.longestWaitMilliseconds`); only when `mayBlockInReceive`.
    ///   - parkingReadable: a wait found the parking queue readable. The parking queue is read
    ///     then, whenever packets moved there are still awaited, and otherwise at least every
    ///     `QueueSocket.longestWaitMilliseconds` (what arrives there unasked is let go at once);
    ///     reading it on every wake-up cost a system call per packet.
    func pump(waiting: Bool = false, parkingReadable: Bool) throws {
        try ledger.queue.drain(limit: 4096, waitingForFirst: waiting) { packet in try handle(packet) }
        try ledger.send()
        guard parking != nil else { return }
        let now = clock()
        if parkingReadable || parking!.awaitsArrivals || now >= nextParkingCheck {
            try parking!.collect()
            nextParkingCheck = now + .milliseconds(Int64(QueueSocket.longestWaitMilliseconds))
        }
        try parking!.releaseDue(at: now)
        heldNow.store(parking!.held.count, ordering: .relaxed)
    }

    private func handle(_ queued: QueuedPacket) throws {
        ledger.read(queued.id)
        let plan: VerdictPlan
        do {
            let packet = try Packet(parsing: queued.bytes, originalLength: queued.originalLength)
            plan = VerdictPlan(engine.decide(packet, bytes: queued.bytes, at: queued.readAt, queueIndex: queueIndex), canPark: parking != nil)
        } catch {
            unreadable += 1
            engine.noteUnreadable(queueIndex: queueIndex)
            plan = .unreadable
        }
        try carryOut(plan, for: queued)
    }

    /// The one place a plan meets the queue.
    private func carryOut(_ plan: VerdictPlan, for queued: QueuedPacket) throws {
        switch plan.disposition {
        case .acceptInBatch: ledger.acceptInBatch(queued.id)
        case .drop: try ledger.verdict(queued.id, .drop)
        case .replace(let bytes):
            try bytes.withUnsafeBytes { replacement in try ledger.verdict(queued.id, .accept, replacement: replacement) }
        case .park(let deadline):
            try ledger.move(queued.id, to: parking!.socket.queue)
            parking!.expect(queued, until: deadline)
        }
        guard !plan.injections.isEmpty else { return }
        // What netfault sends itself (RSTs, ICMP errors, copies) must not overtake the packets read
        // before it: their verdicts go first.
        try ledger.send()
        for injection in plan.injections { injector.send(injection.bytes) }
    }

    /// The run is over and nothing is diverted any more: accept what is still queued, release what
    /// is held, before the hooks go (the kernel drops whatever is queued when a hook goes, or when
    /// the socket closes).
    func finish() {
        ledger.settleAll(quietMilliseconds: Self.quietWaitMilliseconds)
        // Packets `reorder` took out and still holds back go now, after the last verdicts.
        for injection in engine.withEngine({ $0.takeAllReordered() }) { injector.send(injection.bytes) }
        parking?.releaseAll()
    }

    /// How long the stop waits for the last diverted packets to reach the queue.
    static var quietWaitMilliseconds: Int32 { 10 }
}

/// The worker of a real queue: a kernel queue socket, raw sockets for injection.
typealias LiveQueueWorker = QueueWorker<QueueSocket, PacketInjector>

extension QueueWorker where Queue == QueueSocket, Sender == PacketInjector {
    /// Binds `queue`, the `queueIndex`th of the run, ready for what `capabilities` say: whole
    /// packets or headers only, and a parking queue or none.
    convenience init(queue: UInt16, queueIndex: Int, capabilities: QueueCapabilities, maximumHeld: Int, engine: SharedEngine) throws {
        // Only held packets need the thread back while no packet comes (`mayBlockInReceive`); any
        // other reader waits for a packet or `wake` alone.
        let socket = try QueueSocket(queue: queue, copyBytes: capabilities.wholePackets ? QueueSocket.wholePacket : QueueSocket.headerCopyBytes,
                                     superPackets: !capabilities.segments,
                                     waitLimitMilliseconds: capabilities.parking ? QueueSocket.longestWaitMilliseconds : nil)
        let parking = capabilities.parking ? try ParkingLot.bind(for: queue, maximumHeld: maximumHeld) : nil
        self.init(queue: socket, parking: parking, injector: try PacketInjector(), engine: engine, queueIndex: queueIndex)
    }

    /// The descriptors to wait on while packets are held: the queue, and the parking queue.
    var descriptors: [Int32] { [socket.fileDescriptor] + (parking.map { [$0.socket.fileDescriptor] } ?? []) }

    /// This queue's part of the report: what netfault and the kernel counted.
    var statistics: RunReport.QueueStatistics {
        var queue = RunReport.QueueStatistics()
        queue.queue = socket.queue
        queue.packets = ledger.received
        queue.verdicts = ledger.verdicts + (parking?.verdicts ?? 0)
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
