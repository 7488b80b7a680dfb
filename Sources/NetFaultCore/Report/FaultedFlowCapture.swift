/// Chooses the packets a `--pcap` file gets: every packet of each connection a fault touched, as
/// netfault saw it and as it emitted it, the packets before the first fault included. Until a
/// connection is faulted its packets wait in a bounded buffer (the oldest connections' are let go
/// first); afterwards each packet is written at once.
public struct FaultedFlowCapture {
    /// A packet to write, and when netfault saw or sent it.
    public struct Record: Equatable, Sendable {
        /// The packet, cut to the snapshot length.
        public var bytes: [UInt8]
        /// The packet's length before the cut.
        public var length: Int
        public var time: Instant
    }

    /// Bytes kept of each packet (a snapshot length); the rest is cut.
    public let snapshotLength: Int
    /// Packets kept per connection before its first fault.
    public let packetsBeforeFault: Int
    /// All waiting bytes together, across connections.
    public let bufferLimit: Int

    private var faulted = Set<FlowKey>()
    private var waiting: [FlowKey: [Record]] = [:]
    /// Connections with waiting packets, oldest first (entries of connections since faulted or
    /// let go are skipped when reached).
    private var waitingOrder: [FlowKey] = []
    private var waitingStart = 0
    private var waitingBytes = 0

    public init(snapshotLength: Int = 65_535, packetsBeforeFault: Int = 32, bufferLimit: Int = 32 << 20) {
        self.snapshotLength = snapshotLength
        self.packetsBeforeFault = packetsBeforeFault
        self.bufferLimit = bufferLimit
    }

    /// A packet netfault received from the queue; `faulted` when a rule other than `pass` acted on it.
    /// `write` gets what is due now: the connection's waiting packets, then this one.
    public mutating func seen(_ bytes: UnsafeRawBufferPointer, key: FlowKey, faulted isFault: Bool, at time: Instant,
                              write: (Record) -> Void) {
        let record = Record(bytes: Array(bytes.prefix(snapshotLength)), length: bytes.count, time: time)
        if faulted.contains(key) {
            write(record)
            return
        }
        guard isFault else {
            hold(record, key: key)
            return
        }
        faulted.insert(key)
        if let earlier = waiting.removeValue(forKey: key) {
            waitingBytes -= earlier.reduce(0) { $0 + $1.bytes.count }
            earlier.forEach(write)
        }
        write(record)
    }

    /// A packet netfault sent or let through in place of another (an RST, an ICMP error, a copy, a rewrite).
    public func emitted(_ bytes: [UInt8], at time: Instant, write: (Record) -> Void) {
        write(Record(bytes: Array(bytes.prefix(snapshotLength)), length: bytes.count, time: time))
    }

    private mutating func hold(_ record: Record, key: FlowKey) {
        if waiting[key] == nil { waitingOrder.append(key) }
        var packets = waiting[key, default: []]
        guard packets.count < packetsBeforeFault else { return }
        packets.append(record)
        waiting[key] = packets
        waitingBytes += record.bytes.count
        while waitingBytes > bufferLimit, waitingStart < waitingOrder.count {
            let oldest = waitingOrder[waitingStart]
            waitingStart += 1
            if let dropped = waiting.removeValue(forKey: oldest) {
                waitingBytes -= dropped.reduce(0) { $0 + $1.bytes.count }
            }
        }
        if waitingStart > 4096, waitingStart * 2 > waitingOrder.count {
            waitingOrder.removeFirst(waitingStart)
            waitingStart = 0
        }
    }

    /// Bytes waiting for a fault that may never come.
    public var bufferedBytes: Int { waitingBytes }
}
