/// Packets kept back by `hold`/`delay`, ordered by the time they are due: a binary min-heap, so
/// a queue's thread waits no longer than `nextDeadline` and releasing costs O(log n) per packet.
/// Packets due at the same instant leave in the order they arrived.
///
/// Held packets wait in a kernel queue of bounded length; past it, they would be let through
/// unheld (fail-open). So the queue holds at most `limit` (`max_held`): holding one more lets the
/// earliest due go first.
public struct HoldQueue: Sendable {
    public struct Entry: Sendable, Equatable {
        public var deadline: Instant
        public var packetID: UInt32
        /// Accept when released; false for `hold: forever`, which is dropped at the end.
        public var acceptAtEnd: Bool
        var order: UInt64
    }

    private var heap: [Entry] = []
    private var arrivals: UInt64 = 0
    public private(set) var peak = 0

    /// The most packets held at once.
    public let limit: Int
    /// Packets let go before their deadline to stay within `limit`.
    public private(set) var releasedEarly = 0

    public init(limit: Int = .max, capacity: Int = 0) {
        self.limit = max(1, limit)
        heap.reserveCapacity(capacity)
    }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// When the earliest held packet is due; nil when nothing is held (or only `forever` holds).
    public var nextDeadline: Instant? { heap.first.flatMap { $0.deadline == .distantFuture ? nil : $0.deadline } }

    /// Keeps `packetID` until `deadline`; `nil` keeps it until the run ends (then dropped). At the
    /// limit, returns the packet that must leave now to make room: the earliest due.
    @discardableResult
    public mutating func hold(_ packetID: UInt32, until deadline: Instant?) -> Entry? {
        var evicted: Entry?
        if heap.count >= limit {
            evicted = removeFirst()
            releasedEarly += 1
        }
        arrivals &+= 1
        heap.append(Entry(deadline: deadline ?? .distantFuture, packetID: packetID, acceptAtEnd: deadline != nil, order: arrivals))
        siftUp(heap.count - 1)
        peak = max(peak, heap.count)
        return evicted
    }

    /// Removes and returns the packets due at `now`, earliest first.
    public mutating func releaseDue(at now: Instant, _ release: (Entry) throws -> Void) rethrows {
        while let first = heap.first, first.deadline <= now, first.deadline != .distantFuture {
            try release(removeFirst())
        }
    }

    /// Removes every packet, earliest first (the run is over).
    public mutating func releaseAll(_ release: (Entry) throws -> Void) rethrows {
        while !heap.isEmpty { try release(removeFirst()) }
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        (a.deadline, a.order) < (b.deadline, b.order)
    }

    private mutating func removeFirst() -> Entry {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, Self.precedes(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard Self.precedes(heap[smallest], heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

extension Instant {
    /// Later than every real deadline.
    public static let distantFuture = Instant(nanoseconds: .max)
}
