#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import NetFaultCore
import Synchronization

/// One packet the kernel queued, borrowed from the receive buffer until the next receive.
public struct QueuedPacket {
    /// The id the verdict must name.
    public let id: UInt32
    /// The IP packet (up to 64 KiB: GSO super-packets arrive whole), or its first bytes when the
    /// socket copies headers only.
    public let bytes: UnsafeRawBufferPointer
    /// The whole packet's length when `bytes` holds only its beginning; nil when whole.
    public let originalLength: Int?
    /// When the read that brought it returned: the time every packet of one read is judged at
    /// (one clock read per read, not per packet).
    public let readAt: Instant
}

/// What the kernel is told about one packet.
public enum QueueVerdict: Equatable, Sendable {
    case accept
    case drop
    /// Moves the packet to the end of another queue, where it waits for its verdict there (the
    /// kernel's NF_QUEUE verdict, with bypass: if nothing listens on that queue, it goes on).
    case requeue(UInt16)

    var kernelValue: UInt32 {
        switch self {
        case .accept: return UInt32(NF_ACCEPT)
        case .drop: return UInt32(NF_DROP)
        case .requeue(let queue): return UInt32(queue) << UInt32(NF_VERDICT_QBITS) | UInt32(NF_VERDICT_FLAG_QUEUE_BYPASS) | UInt32(NF_QUEUE)
        }
    }
}

/// A netlink socket bound to one NFQUEUE through libmnl and libnetfilter_queue's message helpers
/// (the sequence of libnetfilter_queue's `examples/nf-queue.c`): bind, copy-packet mode, GSO and
/// fail-open flags, a large receive buffer, and no ENOBUFS errors for a full buffer.
public final class QueueSocket {
    public let queue: UInt16
    /// How much of each packet the kernel copies to netfault: `wholePacket`, `headerCopyBytes`, or less.
    public let copyBytes: UInt32
    public var copiesWholePackets: Bool { copyBytes >= Self.wholePacket }
    /// Whether GSO super-packets arrive whole (up to 64 KiB), or the kernel segments them first.
    public let takesSuperPackets: Bool
    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }
    // Used by one thread at a time (its queue's; `wake` touches none of this state): the run-time
    // exclusivity checks of the per-packet state could never fire, and are off.
    /// Times the kernel said the receive buffer overflowed (ENOBUFS); the queue's own counters say
    /// how many packets that cost.
    @exclusivity(unchecked) public private(set) var overruns = 0

    private let socket: OpaquePointer
    @exclusivity(unchecked) private var sequence: UInt32 = 1
    /// Where `drain` reads queued packets, many per system call (and `configure` its acknowledgements).
    private let batch: DatagramBatch
    private let sendBuffer: UnsafeMutableRawBufferPointer

    /// Large enough for the biggest packet message: 64 KiB of packet plus the netlink headers.
    static let bufferSize = 0x10000 + 4096
    /// Kernel buffer for packets waiting to be read; bursts at 10 Gbit/s need megabytes.
    static let receiveBufferBytes: Int32 = 16 << 20

    /// A diverting queue's length: packets queued and not yet given a verdict (held ones wait in
    /// the parking queue, sized for `max_held`). Beyond it, new packets pass unseen (fail-open).
    public static let maximumLength: UInt32 = 16384

    /// A copy range that takes every packet whole (GSO super-packets included).
    public static let wholePacket: UInt32 = 0xffff

    /// How much of each packet the kernel copies when headers are enough: the deepest IPv6
    /// extension-header chain worth parsing plus a TCP header with options fits.
    public static let headerCopyBytes: UInt32 = 512

    /// The kernel copies the first `copyBytes` of each packet (`wholePacket`: all of it, up to 64 KiB).
    /// `superPackets`: GSO super-packets arrive whole (the fast way); false: the kernel cuts them
    /// into the segments they become on the wire before queueing (NFQA_CFG_F_GSO unset), so that
    /// every packet netfault sees has its wire size.
    /// A blocked `drain(waitingForFirst:)` comes back after `waitLimitMilliseconds` at most; nil:
    /// only when a packet arrives or `wake` is called (every blocked read then saves arming and
    /// cancelling a kernel timer, about 2% of a forwarded packet's cost in a ping-pong).
    public init(queue: UInt16, maximumLength: UInt32 = QueueSocket.maximumLength, copyBytes: UInt32 = QueueSocket.wholePacket,
                superPackets: Bool = true,
                waitLimitMilliseconds: Int32? = QueueSocket.longestWaitMilliseconds) throws(SystemError) {
        self.queue = queue
        self.copyBytes = copyBytes
        takesSuperPackets = superPackets
        let doing = "binding queue \(queue)"
        guard let socket = mnl_socket_open2(NETLINK_NETFILTER, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw SystemError(doing, call: "mnl_socket_open2(NETLINK_NETFILTER)", errno: errno)
        }
        self.socket = socket
        // A message is the copied bytes plus at most a few hundred bytes of attributes.
        batch = copyBytes >= Self.wholePacket ? DatagramBatch(capacity: 8, slotBytes: Self.bufferSize)
            : DatagramBatch(capacity: 64, slotBytes: Int(copyBytes) + 2048)
        sendBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        do {
            try syscall(doing, "mnl_socket_bind") { mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) }
            var size = Self.receiveBufferBytes
            try syscall(doing, "setsockopt(SO_RCVBUFFORCE)") {
                setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var on: Int32 = 1
            try syscall(doing, "setsockopt(NETLINK_NO_ENOBUFS)") {
                setsockopt(mnl_socket_get_fd(socket), SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, socklen_t(MemoryLayout<Int32>.size))
            }
            try configure(doing) { header in
                nfq_nlmsg_cfg_put_cmd(header, UInt16(AF_UNSPEC), UInt8(NFQNL_CFG_CMD_BIND.rawValue))
            }
            try configure(doing) { header in
                nfq_nlmsg_cfg_put_params(header, UInt8(NFQNL_COPY_PACKET.rawValue), Int32(copyBytes))
                nfq_nlmsg_cfg_put_qmaxlen(header, maximumLength)
                let flags = UInt32((superPackets ? NFQA_CFG_F_GSO : 0) | NFQA_CFG_F_FAIL_OPEN)
                let mask = UInt32(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN)
                mnl_attr_put_u32(header, UInt16(NFQA_CFG_FLAGS.rawValue), flags.bigEndian)
                mnl_attr_put_u32(header, UInt16(NFQA_CFG_MASK.rawValue), mask.bigEndian)
            }
            if let waitLimitMilliseconds { try limitWaits(to: waitLimitMilliseconds) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    private var isOpen = true

    /// Unbinds and closes; the kernel drops the packets still queued (so every stop answers them first).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        mnl_socket_close(socket)
        sendBuffer.deallocate()
    }

    /// Sends one config message with NLM_F_ACK and waits for the kernel's answer, so a refusal
    /// (EPERM: no privilege, or another process holds the queue) is reported here, not lost.
    private func configure(_ doing: String, _ fill: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(SystemError) {
        let buffer = sendBuffer.baseAddress!.assumingMemoryBound(to: CChar.self)
        let header = nfq_nlmsg_put(buffer, Int32(NFQNL_MSG_CONFIG.rawValue), UInt32(queue))!
        header.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        sequence &+= 1
        header.pointee.nlmsg_seq = sequence
        fill(header)
        try syscall(doing, "mnl_socket_sendto") { mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len)) }
        let received = try syscall(doing, "mnl_socket_recvfrom") {
            mnl_socket_recvfrom(socket, batch.firstSlot.baseAddress, batch.firstSlot.count)
        }
        let result = mnl_cb_run(batch.firstSlot.baseAddress, received, sequence, mnl_socket_get_portid(socket), nil, nil)
        if result < 0 {
            let code = errno
            // The kernel answers EPERM, not EBUSY, when another socket holds the queue; for root
            // that is the likely cause.
            let taken = code == EBUSY || (code == EPERM && geteuid() == 0)
            throw SystemError(doing, call: "nfqueue config", errno: code,
                              hint: taken ? "queue \(queue) is in use by another program (another netfault?); pick another `queue:`" : nil)
        }
    }

    /// How long a reader blocked in `drain(waitingForFirst: true)` waits at most (SO_RCVTIMEO) on a
    /// socket made with the default `waitLimitMilliseconds` of `init`.
    public static let longestWaitMilliseconds: Int32 = 100

    /// From now on, a blocked read comes back after `milliseconds` at most (SO_RCVTIMEO); for a
    /// reader that `wake` cannot reach. Call before a read blocks: one already blocked keeps its own.
    public func limitWaits(to milliseconds: Int32) throws(SystemError) {
        var limit = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
        try syscall("limiting the wait on queue \(queue)", "setsockopt(SO_RCVTIMEO)") {
            setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Whether a reader is blocked in `drain(waitingForFirst: true)` waiting for the first packet
    /// now: a thread there is idle, not stuck. Safe to read from any thread.
    public var isWaitingForPackets: Bool { waitingForPackets.load(ordering: .relaxed) }
    private let waitingForPackets = Atomic<Bool>(false)

    /// Reads the messages waiting on the socket, up to about `limit` packets (so the loop around it
    /// keeps its own deadlines under a flood), and hands each queued packet to `handle`, which must
    /// give it a verdict (now, or later by id). Returns the packets read.
    ///
    /// - Parameter waitingForFirst: block until the first message arrives, `wake` is called, or
    ///   the socket's time limit passes (if it has one); without it, only what is there now is read. Blocking in
    ///   the receive itself, rather than in `poll` before it, saves a wake-up and a system call
    ///   on every packet of a ping-pong: several microseconds of each round trip.
    ///
    /// A blocking read takes one message unless the reads before it found a backlog (see
    /// `expectsBacklog`): a read over the whole batch looks for a second message once the first is
    /// in, and when packets come one at a time that look finds nothing, at about 0.7 µs a packet
    /// on the benchmark's host (Scripts/bench, arm (i)).
    @discardableResult
    public func drain(limit: Int = .max, waitingForFirst: Bool = false, _ handle: (QueuedPacket) throws -> Void) throws -> Int {
        var packets = 0
        var waiting = waitingForFirst
        while packets < limit {
            let single = waiting && !expectsBacklog
            let started = single ? monotonicNow() : .zero
            if waiting { waitingForPackets.store(true, ordering: .relaxed) }
            let received = retryingInterrupts { batch.receive(from: fileDescriptor, waiting: waiting, upTo: single ? 1 : batch.capacity) }
            if waiting { waitingForPackets.store(false, ordering: .relaxed) }
            let readAt = monotonicNow()
            reads += 1
            if single { singleReads += 1 }
            if received < 0 {
                switch errno {
                case EAGAIN: return packets
                case ENOBUFS:
                    overruns += 1
                    continue
                default: throw SystemError("reading queue \(queue)", call: "recvmmsg", errno: errno)
                }
            }
            for index in 0..<received {
                // A slot holds the largest message the copy range allows; a cut one cannot be trusted.
                if batch.wasTruncated(index) {
                    truncatedMessages += 1
                    continue
                }
                for message in NetlinkMessage.messages(in: batch.datagram(index)) {
                    guard let parsed = QueuePacketMessage(message) else {
                        if message.type == UInt16(NLMSG_NOOP) { wakeUpsRead += 1 }
                        continue
                    }
                    packets += 1
                    try handle(QueuedPacket(id: parsed.id, bytes: parsed.packet, originalLength: parsed.originalLength, readAt: readAt))
                }
            }
            if single {
                // The message was there already (no sleep could be this short): more are likely
                // behind it, so read on, all at once, and the next blocking read takes a batch too.
                // It came after a wait: the socket is empty, the verdict goes out now.
                guard readAt.since(started) < Self.immediateReturnNanoseconds else { return packets }
                expectsBacklog = true
            } else {
                // A batch read that found one message only: they come one at a time again.
                if waiting && received == 1 { expectsBacklog = false }
                // Fewer than a full batch: the socket was empty a moment ago.
                if received < batch.capacity { return packets }
            }
            waiting = false
        }
        return packets
    }

    /// Whether the next blocking read takes a whole batch rather than one message: set when a
    /// single read found its message waiting, cleared when a batch read found only one.
    @exclusivity(unchecked) private var expectsBacklog = false

    /// A blocking read that returns sooner than this found its message waiting: going to sleep and
    /// being woken takes longer (a context switch each way).
    static let immediateReturnNanoseconds: Int64 = 3_000

    /// System calls `drain` made to read, and how many of them asked for one message only.
    @exclusivity(unchecked) public private(set) var reads = 0
    @exclusivity(unchecked) public private(set) var singleReads = 0

    /// Wakes a reader blocked in `drain`: a netlink no-op message sent to this socket itself (with
    /// CAP_NET_ADMIN one netlink socket may write to another's port), which `drain` reads and
    /// skips. Safe to call from any thread while the socket is open. Returns whether the message
    /// was sent; a reader blocked with no time limit comes back only so (or on a packet).
    @discardableResult
    public func wake() -> Bool {
        var header = nlmsghdr(nlmsg_len: UInt32(NetlinkMessage.headerSize), nlmsg_type: UInt16(NLMSG_NOOP), nlmsg_flags: 0,
                              nlmsg_seq: 0, nlmsg_pid: 0)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_pid = mnl_socket_get_portid(socket)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                sendto(fileDescriptor, &header, Int(header.nlmsg_len), Int32(MSG_DONTWAIT), target, socklen_t(MemoryLayout<sockaddr_nl>.size)) >= 0
            }
        }
    }

    /// `wake` messages read (and skipped) by `drain`.
    @exclusivity(unchecked) public private(set) var wakeUpsRead = 0

    /// Messages too long for their receive slot (never, with slots sized for the copy range).
    @exclusivity(unchecked) public private(set) var truncatedMessages = 0

    /// Accepts every packet still queued whose id is at most `id` (NFQNL_MSG_VERDICT_BATCH), in one
    /// message; packets already given a verdict are not touched. Sent with the next `flush`.
    public func acceptAll(through id: UInt32) throws(SystemError) {
        try putVerdict(NFQNL_MSG_VERDICT_BATCH, id: id, verdict: UInt32(NF_ACCEPT))
    }

    /// Gives packet `id` its verdict; with `replacement`, the packet leaves as those bytes instead.
    /// Sent with the next `flush`.
    public func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer? = nil) throws(SystemError) {
        guard let replacement else { return try putVerdict(NFQNL_MSG_VERDICT, id: id, verdict: verdict.kernelValue) }
        let header = try nextMessage(NFQNL_MSG_VERDICT, room: 64 + replacement.count)
        nfq_nlmsg_verdict_put(header, Int32(bitPattern: id), Int32(bitPattern: verdict.kernelValue))
        if let base = replacement.baseAddress {
            nfq_nlmsg_verdict_put_pkt(header, base, UInt32(replacement.count))
        }
        finishMessage(header)
    }

    /// Sends the verdicts written since the last flush, in one datagram: the kernel works through
    /// its messages in order, so a batch accept after single verdicts accepts only the rest. When
    /// sending fails, the verdicts stay pending for the next flush (the run's stop tries again).
    public func flush() throws(SystemError) {
        guard pendingBytes > 0 else { return }
        try syscall("sending verdicts on queue \(queue)", "mnl_socket_sendto") { mnl_socket_sendto(socket, sendBuffer.baseAddress, pendingBytes) }
        pendingBytes = 0
    }

    /// Verdict messages written to `sendBuffer` and not sent yet.
    @exclusivity(unchecked) private var pendingBytes = 0

    /// Room for one more message of about `room` bytes, sending what is pending first if needed.
    private func nextMessage(_ type: nfqnl_msg_types, room: Int) throws(SystemError) -> UnsafeMutablePointer<nlmsghdr> {
        if pendingBytes + room > sendBuffer.count { try flush() }
        let buffer = (sendBuffer.baseAddress! + pendingBytes).assumingMemoryBound(to: CChar.self)
        return nfq_nlmsg_put(buffer, Int32(type.rawValue), UInt32(queue))!
    }

    /// A verdict without a packet, written in place (`VerdictMessage`).
    private func putVerdict(_ type: nfqnl_msg_types, id: UInt32, verdict: UInt32) throws(SystemError) {
        if pendingBytes + VerdictMessage.size > sendBuffer.count { try flush() }
        VerdictMessage.write(type, queue: queue, id: id, verdict: verdict, to: sendBuffer.baseAddress! + pendingBytes)
        pendingBytes += VerdictMessage.size
    }

    private func finishMessage(_ header: UnsafeMutablePointer<nlmsghdr>) {
        pendingBytes += (Int(header.pointee.nlmsg_len) + 3) & ~3
    }
}

extension QueueSocket: PacketQueue {
    public func awaitPacket(milliseconds: Int32) -> Bool {
        var descriptors = [pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)]
        return ((try? waitForEvents(&descriptors, timeoutMilliseconds: milliseconds, "waiting on queue \(queue)")) ?? 0) > 0
    }
}
