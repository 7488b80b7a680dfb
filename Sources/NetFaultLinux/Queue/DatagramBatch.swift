#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// Receive buffers for reading many datagrams with one recvmmsg(2): a flood costs one system call
/// per batch instead of one per packet, and a read that comes back short says the socket is empty,
/// so the verdicts go out without another call that would only fail with EAGAIN.
final class DatagramBatch {
    /// Datagrams one read takes at most.
    let capacity: Int
    /// The largest datagram a slot holds whole.
    let slotBytes: Int
    private let storage: UnsafeMutableRawBufferPointer
    private let vectors: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<netfault_mmsghdr>

    init(capacity: Int, slotBytes: Int) {
        self.capacity = capacity
        self.slotBytes = slotBytes
        storage = .allocate(byteCount: capacity * slotBytes, alignment: 16)
        vectors = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        for index in 0..<capacity {
            vectors[index] = iovec(iov_base: storage.baseAddress! + index * slotBytes, iov_len: slotBytes)
            headers[index] = netfault_mmsghdr()
            headers[index].msg_hdr.msg_iov = vectors + index
            headers[index].msg_hdr.msg_iovlen = 1
        }
    }

    deinit {
        storage.deallocate()
        vectors.deallocate()
        headers.deallocate()
    }

    /// Reads what `descriptor` holds, up to `count` datagrams (at most `capacity`): the number read,
    /// or -1 with errno set (EAGAIN when there is nothing). Without `waiting`, only what is there
    /// now; with it, the call first blocks until one datagram arrives (or the socket's SO_RCVTIMEO
    /// passes: EAGAIN), then takes what else is there without waiting more (MSG_WAITFORONE).
    func receive(from descriptor: Int32, waiting: Bool, upTo count: Int) -> Int {
        precondition(count >= 1 && count <= capacity, "a read of \(count) datagrams into \(capacity) slots")
        return Int(netfault_recvmmsg(descriptor, headers, UInt32(count), waiting ? Int32(MSG_WAITFORONE) : Int32(MSG_DONTWAIT)))
    }

    /// Datagram `index` of the last `receive`, valid until the next one.
    func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.baseAddress! + index * slotBytes, count: Int(headers[index].msg_len))
    }

    /// The first slot whole, for a single blocking read (an acknowledgement).
    var firstSlot: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: storage.baseAddress, count: slotBytes) }

    /// Whether datagram `index` did not fit its slot (and lost its end).
    func wasTruncated(_ index: Int) -> Bool { headers[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 }
}
