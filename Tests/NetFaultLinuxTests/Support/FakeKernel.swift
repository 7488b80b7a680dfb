import NetFaultCore
@testable import NetFaultLinux

/// Plays the kernel's side of NFQUEUE for the verdict path, without root: queues that hand out
/// packets with ids, take verdict messages in the order written and carry them out on `flush`
/// (a batch accepts every waiting id up to its own, as `nfqnl_recv_verdict_batch` does; a requeue
/// moves the packet to another queue's tail, or lets it go on when nothing listens there), and a
/// record of what became of each packet, with every breach of the one-verdict rule.
final class FakeKernel {
    /// What finally became of a packet.
    enum Fate: Equatable {
        case delivered(at: Instant, bytes: [UInt8])
        case dropped(at: Instant)
    }

    var now = Instant.seconds(1000)
    private(set) var queues: [UInt16: FakeQueue] = [:]
    /// Fates by packet number (the order the test enqueued them in).
    private(set) var fates: [Int: Fate] = [:]
    /// Every breach seen: a verdict for an id not waiting, a second fate, an injection that
    /// overtook a packet read before it.
    private(set) var violations: [String] = []
    /// Packets sent by the injector, with the moment they went.
    private(set) var injected: [(at: Instant, bytes: [UInt8])] = []
    private var nextNumber = 0

    func queue(_ number: UInt16) -> FakeQueue {
        if let queue = queues[number] { return queue }
        let queue = FakeQueue(number, kernel: self)
        queues[number] = queue
        return queue
    }

    /// Queues `bytes` on `queue` as a new packet; returns its number.
    @discardableResult
    func arrive(_ bytes: [UInt8], on queue: UInt16) -> Int {
        defer { nextNumber += 1 }
        self.queue(queue).enqueue(bytes, number: nextNumber)
        return nextNumber
    }

    var packetCount: Int { nextNumber }

    func settle(_ number: Int, _ fate: Fate) {
        if let earlier = fates[number] { violations.append("packet #\(number) given a second fate: \(fate) after \(earlier)") }
        fates[number] = fate
    }

    func violation(_ text: String) { violations.append(text) }

    func sent(_ bytes: [UInt8]) { injected.append((now, bytes)) }
}

/// One fake queue: the kernel's list of packets waiting for a verdict, and the messages written
/// since the last flush.
final class FakeQueue: PacketQueue {
    struct Waiting {
        var id: UInt32
        var number: Int
        var bytes: [UInt8]
        /// Handed to the reader already.
        var read: Bool
    }

    enum Message {
        case verdict(UInt32, QueueVerdict, replacement: [UInt8]?)
        case batch(through: UInt32)
    }

    let queue: UInt16
    unowned let kernel: FakeKernel
    private(set) var waiting: [Waiting] = []
    private(set) var outbox: [Message] = []
    private var nextID: UInt32 = 1
    /// Flushes still to fail (a full socket buffer), each leaving its messages pending.
    var failingFlushes = 0
    /// Packets that arrive while the stop waits for the queue to be quiet, one batch per wait.
    var lateArrivals: [[[UInt8]]] = []
    /// Whether a reader is bound (a requeue to an unbound queue lets the packet go on).
    var isBound = true

    init(_ queue: UInt16, kernel: FakeKernel) {
        self.queue = queue
        self.kernel = kernel
    }

    func enqueue(_ bytes: [UInt8], number: Int) {
        waiting.append(Waiting(id: nextID, number: number, bytes: bytes, read: false))
        nextID &+= 1
    }

    /// Packets the reader has seen and whose verdict has not reached the kernel.
    var readAndWaiting: [Waiting] { waiting.filter(\.read) }

    func drain(limit: Int, waitingForFirst: Bool, _ handle: (QueuedPacket) throws -> Void) throws -> Int {
        var count = 0
        while count < limit, let index = waiting.firstIndex(where: { !$0.read }) {
            waiting[index].read = true
            let entry = waiting[index]
            try entry.bytes.withUnsafeBytes { bytes in
                try handle(QueuedPacket(id: entry.id, bytes: bytes, originalLength: nil, readAt: kernel.now))
            }
            count += 1
        }
        return count
    }

    func acceptAll(through id: UInt32) throws {
        outbox.append(.batch(through: id))
    }

    func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer?) throws {
        outbox.append(.verdict(id, verdict, replacement: replacement.map { Array($0) }))
    }

    struct FlushFailed: Error {}

    func flush() throws {
        if failingFlushes > 0 {
            failingFlushes -= 1
            throw FlushFailed()
        }
        let messages = outbox
        outbox = []
        for message in messages {
            switch message {
            case .batch(let through):
                // Only what the kernel has queued up to `through`, and every such packet: one the
                // reader meant to hold is lost to the batch here.
                for entry in waiting where entry.id <= through { kernel.settle(entry.number, .delivered(at: kernel.now, bytes: entry.bytes)) }
                waiting.removeAll { $0.id <= through }
            case .verdict(let id, let verdict, let replacement):
                guard let index = waiting.firstIndex(where: { $0.id == id }) else {
                    kernel.violation("queue \(queue): a verdict for id \(id), which is not waiting (answered already, or never queued)")
                    continue
                }
                let entry = waiting.remove(at: index)
                switch verdict {
                case .accept: kernel.settle(entry.number, .delivered(at: kernel.now, bytes: replacement ?? entry.bytes))
                case .drop: kernel.settle(entry.number, .dropped(at: kernel.now))
                case .requeue(let target):
                    if let parking = kernel.queues[target], parking.isBound {
                        parking.enqueue(entry.bytes, number: entry.number)
                    } else {
                        kernel.settle(entry.number, .delivered(at: kernel.now, bytes: entry.bytes))
                    }
                }
            }
        }
    }

    func awaitPacket(milliseconds: Int32) -> Bool {
        if !lateArrivals.isEmpty {
            for bytes in lateArrivals.removeFirst() { kernel.arrive(bytes, on: queue) }
        }
        return waiting.contains { !$0.read }
    }
}

/// The injector's stand-in: records what was sent, and checks that nothing it sends overtakes a
/// packet the queue has read and not yet answered.
final class FakeSender: PacketSender {
    unowned let kernel: FakeKernel
    let watched: FakeQueue
    private(set) var sent = 0
    let failures = 0

    init(kernel: FakeKernel, watching queue: FakeQueue) {
        self.kernel = kernel
        watched = queue
    }

    func send(_ bytes: [UInt8]) {
        let overtaken = watched.readAndWaiting.map(\.number)
        if !overtaken.isEmpty { kernel.violation("an injected packet overtook packets \(overtaken), read before it and not answered yet") }
        sent += 1
        kernel.sent(bytes)
    }
}
