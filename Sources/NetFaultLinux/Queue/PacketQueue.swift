import NetFaultCore

/// One NFQUEUE as the verdict path sees it: `QueueSocket` on a real queue, or in tests a fake that
/// plays the kernel. Packets are read with `drain`; verdicts are written with `verdict` and
/// `acceptAll` and leave, in the order written, with `flush`. The kernel carries out one
/// datagram's messages in order, so a batch verdict after single verdicts accepts only the rest.
protocol PacketQueue: AnyObject {
    /// The queue's number.
    var queue: UInt16 { get }

    /// Reads up to about `limit` packets and hands each to `handle`, which must give it a verdict
    /// (now, or later by id); with `waitingForFirst`, blocks until the first arrives. Returns the
    /// packets read.
    @discardableResult
    func drain(limit: Int, waitingForFirst: Bool, _ handle: (QueuedPacket) throws -> Void) throws -> Int

    /// Accepts every packet still queued whose id is at most `id` (one batch verdict).
    func acceptAll(through id: UInt32) throws

    /// Gives packet `id` its verdict; with `replacement`, the packet leaves as those bytes instead.
    func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer?) throws

    /// Sends the verdicts written since the last flush; on failure they stay pending for the next.
    func flush() throws

    /// Waits up to `milliseconds` for a packet to arrive; whether one is there to read.
    func awaitPacket(milliseconds: Int32) -> Bool
}

/// Where the packets netfault sends itself (RSTs, ICMP errors, copies) go: `PacketInjector`'s raw
/// sockets, or in tests a fake.
protocol PacketSender: AnyObject {
    /// Sends one complete IP packet; a failure is counted, never thrown.
    func send(_ bytes: [UInt8])
    var sent: Int { get }
    var failures: Int { get }
}
