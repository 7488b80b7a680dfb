import NetFaultCore

/// The verdicts one queue owes, kept in one place: every packet read gets exactly one verdict,
/// and none is covered by a batch it should not be.
///
/// Accepted packets are not answered one by one: one batch verdict (NFQNL_MSG_VERDICT_BATCH)
/// accepts every queued packet up to the highest id. That is safe because every packet read
/// before it has had its own verdict already, written in order ahead of the batch: drops,
/// replacements and moves to the parking queue are written at once, so the batch accepts only
/// what it should.
struct VerdictLedger<Queue: PacketQueue> {
    let queue: Queue
    /// Packets read.
    private(set) var received = 0
    /// Verdicts given, moves to another queue not counted.
    private(set) var verdicts = 0
    /// The highest id accepted for the next batch verdict, and how many packets it covers.
    private var batchedThrough: UInt32?
    private var batchedCount = 0
    /// The last packet id read: after an error cut a read short, the stop accepts everything up to it.
    private var highestRead: UInt32?

    init(_ queue: Queue) {
        self.queue = queue
    }

    /// Notes packet `id` as read: it owes a verdict from now on.
    mutating func read(_ id: UInt32) {
        received += 1
        highestRead = id
    }

    /// Accepts packet `id` with the next batch verdict.
    mutating func acceptInBatch(_ id: UInt32) {
        batchedThrough = id
        batchedCount += 1
    }

    /// Writes packet `id`'s own verdict, ahead of the next batch.
    mutating func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer? = nil) throws {
        try queue.verdict(id, verdict, replacement: replacement)
        verdicts += 1
    }

    /// Writes the verdict that moves packet `id` to queue `target`, where it gets its real verdict.
    func move(_ id: UInt32, to target: UInt16) throws {
        try queue.verdict(id, .requeue(target), replacement: nil)
    }

    /// Sends the verdicts written so far and the batch verdict for the packets accepted since the
    /// last send, in one datagram.
    mutating func send() throws {
        if let through = batchedThrough {
            batchedThrough = nil
            try queue.acceptAll(through: through)
            verdicts += batchedCount
            batchedCount = 0
        }
        try queue.flush()
    }

    /// The run is over and nothing is diverted any more: answers everything still owed, then
    /// accepts what is still queued, including packets that passed the diversion just before it
    /// went off and are still on their way in (waited for until the queue is quiet for
    /// `quietMilliseconds`). Failures are not fatal here: a packet left without a verdict is
    /// dropped by the kernel when the socket closes, and nothing better can be done.
    mutating func settleAll(quietMilliseconds: Int32) {
        try? send()
        // Whatever an error left unanswered among the packets read (nothing, normally): a batch
        // accepts it and leaves alone every packet already given its verdict.
        if let highestRead {
            try? queue.acceptAll(through: highestRead)
            try? queue.flush()
        }
        repeat {
            var pending: [UInt32] = []
            _ = try? queue.drain(limit: .max, waitingForFirst: false) { packet in pending.append(packet.id) }
            received += pending.count
            for id in pending { try? verdict(id, .accept) }
            try? queue.flush()
        } while queue.awaitPacket(milliseconds: quietMilliseconds)
    }
}
