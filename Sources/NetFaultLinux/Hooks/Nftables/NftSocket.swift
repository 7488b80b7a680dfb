#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// A netlink socket to nf_tables: sends batches and waits for every acknowledgement, reads dumps.
/// Owner tables belong to this socket's port: they live as long as some process holds it open.
final class NftSocket {
    let descriptor: Int32
    private var sequence: UInt32
    private var receiveBuffer = [UInt8](repeating: 0, count: 1 << 16)
    private let ownsDescriptor: Bool
    /// The buffer sizes set so far (SO_SNDBUF, SO_RCVBUF): batches only ever make them grow.
    private var grownTo: [Int32: Int] = [:]

    /// How long an answer from the kernel may take before the request is reported as unanswered.
    static let answerTimeoutMilliseconds: Int32 = 2000

    init(doing: String) throws(SystemError) {
        let descriptor = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_NETFILTER)
        guard descriptor >= 0 else { throw SystemError(doing, call: "socket(NETLINK_NETFILTER)", errno: errno) }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw SystemError(doing, call: "bind(AF_NETLINK)", errno: code)
        }
        self.descriptor = descriptor
        ownsDescriptor = true
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    /// A socket another process opened and passed on (the watchdog's copy of netfault's).
    init(inherited descriptor: Int32) {
        self.descriptor = descriptor
        ownsDescriptor = false
        sequence = UInt32(truncatingIfNeeded: time(nil)) &+ 0x4000_0000
    }

    deinit { if ownsDescriptor { Glibc.close(descriptor) } }

    /// The sequence numbers a request may use, from here on.
    func nextSequence(count: UInt32 = 1) -> UInt32 {
        defer { sequence &+= count }
        return sequence
    }

    /// Sends `batch` and waits for its answers: returns when every message is acknowledged;
    /// throws the first refusal, naming the message, or `tolerating` errnos are skipped.
    func send(_ batch: NftBatch, doing: String, tolerating: Set<Int32> = []) throws(SystemError) {
        try makeRoom(sending: batch.bytes.count, answers: batch.labels.count + 1, doing: doing)
        try write(batch.bytes, doing: doing)
        var firstRefusal: SystemError?
        var answered = Set<UInt32>()
        let expected = Set(batch.labels.keys)
        _ = try receive(doing: doing) { message in
            guard let (code, sequence) = message.errorCode else { return false }
            if sequence == batch.beginSequence, code != 0 {
                // The batch as a whole was refused (commit failed): nothing of it applies.
                firstRefusal = firstRefusal ?? SystemError(doing, call: "nf_tables batch", errno: code)
                return true
            }
            answered.insert(sequence)
            if code != 0, !tolerating.contains(code), firstRefusal == nil {
                firstRefusal = SystemError(doing, call: "nf_tables: \(batch.labels[sequence] ?? "message \(sequence)")", errno: code)
            }
            return expected.isSubset(of: answered)
        }
        if let firstRefusal { throw firstRefusal }
    }

    /// Sends a dump request and returns every message of the answer up to NLMSG_DONE, as bytes.
    func dump(_ request: [UInt8], doing: String) throws(SystemError) -> [UInt8] {
        try write(request, doing: doing)
        var refusal: Int32?
        let answer = try receive(doing: doing, keeping: true) { message in
            if let (code, _) = message.errorCode, code != 0 { refusal = code }
            return message.type == NetlinkMessage.doneType || refusal != nil
        }
        if let refusal { throw SystemError(doing, call: "nf_tables dump", errno: refusal) }
        return answer
    }

    /// A batch goes to the kernel in one datagram (EMSGSIZE beyond the send buffer), and every
    /// message's acknowledgement waits in the receive buffer until read (ENOBUFS when it overflows):
    /// with thousands of rules both need more than the defaults (about 200 KiB). CAP_NET_ADMIN,
    /// which installing the hooks needs anyway, lets the buffers grow past `net.core.*mem_max`.
    private func makeRoom(sending bytes: Int, answers: Int, doing: String) throws(SystemError) {
        // A success acknowledgement is a small datagram, but each costs about a kilobyte of buffer.
        let needed = [(SO_SNDBUFFORCE, SO_SNDBUF, bytes + 65536), (SO_RCVBUFFORCE, SO_RCVBUF, answers * 1280 + 65536)]
        for (forced, plain, size) in needed where size > Self.defaultBufferBytes && size > grownTo[plain, default: 0] {
            var value = Int32(clamping: size)
            let length = socklen_t(MemoryLayout<Int32>.size)
            if setsockopt(descriptor, SOL_SOCKET, forced, &value, length) != 0,
               setsockopt(descriptor, SOL_SOCKET, plain, &value, length) != 0 {
                throw SystemError(doing, call: "setsockopt(\(plain == SO_SNDBUF ? "SO_SNDBUF" : "SO_RCVBUF"), \(size))", errno: errno)
            }
            grownTo[plain] = size
        }
    }

    /// Below this the kernel's default buffers (net.core.wmem_default, rmem_default) suffice.
    private static let defaultBufferBytes = 160 * 1024

    private func write(_ bytes: [UInt8], doing: String) throws(SystemError) {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        if sent < 0 { throw SystemError(doing, call: "send(NETLINK_NETFILTER)", errno: errno) }
    }

    /// Reads the kernel's answer datagram by datagram until `handle` returns true for a message;
    /// returns the datagrams read when `keeping`. Throws when no answer comes in time.
    private func receive(doing: String, keeping: Bool = false, until handle: (NetlinkMessage) -> Bool) throws(SystemError) -> [UInt8] {
        var kept: [UInt8] = []
        var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let count = try syscall(doing, "poll(NETLINK_NETFILTER)") { poll(&ready, 1, Self.answerTimeoutMilliseconds) }
            if count == 0 { throw SystemError(doing, call: "nf_tables: no answer within \(Self.answerTimeoutMilliseconds) ms", errno: ETIMEDOUT) }
            let received = retryingInterrupts { receiveBuffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) } }
            if received < 0 {
                if errno == EAGAIN { continue }
                throw SystemError(doing, call: "recv(NETLINK_NETFILTER)", errno: errno)
            }
            let finished = receiveBuffer.withUnsafeBytes { buffer in
                let datagram = UnsafeRawBufferPointer(rebasing: buffer[..<received])
                if keeping { kept += datagram }
                return NetlinkMessage.messages(in: datagram).contains(where: handle)
            }
            if finished { return kept }
        }
    }
}
