import CNetfilterQueue

/// A verdict that carries no packet, the message nearly every packet gets: 32 bytes of fixed
/// layout (`nlmsghdr`, `nfgenmsg`, one NFQA_VERDICT_HDR attribute), stored in place. The same
/// bytes as libnetfilter_queue's `nfq_nlmsg_put` and `nfq_nlmsg_verdict_put` write (a test holds
/// them equal), without their five calls into two libraries and three `memset`s per packet.
enum VerdictMessage {
    /// The message's length, a multiple of netlink's 4-byte alignment.
    static let size = 32

    /// Writes the message to `buffer`, which must hold `size` bytes.
    /// - Parameters:
    ///   - type: NFQNL_MSG_VERDICT (packet `id` only) or NFQNL_MSG_VERDICT_BATCH (every queued
    ///     packet up to `id`).
    ///   - verdict: the kernel's verdict value (`QueueVerdict.kernelValue`).
    static func write(_ type: nfqnl_msg_types, queue: UInt16, id: UInt32, verdict: UInt32, to buffer: UnsafeMutableRawPointer) {
        let header = nlmsghdr(nlmsg_len: UInt32(size), nlmsg_type: UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(type.rawValue),
                              nlmsg_flags: UInt16(NLM_F_REQUEST), nlmsg_seq: 0, nlmsg_pid: 0)
        buffer.storeBytes(of: header, as: nlmsghdr.self)
        let family = nfgenmsg(nfgen_family: UInt8(AF_UNSPEC), version: UInt8(NFNETLINK_V0), res_id: queue.bigEndian)
        buffer.storeBytes(of: family, toByteOffset: 16, as: nfgenmsg.self)
        let attribute = nlattr(nla_len: 12, nla_type: UInt16(NFQA_VERDICT_HDR.rawValue))
        buffer.storeBytes(of: attribute, toByteOffset: 20, as: nlattr.self)
        let body = nfqnl_msg_verdict_hdr(verdict: verdict.bigEndian, id: id.bigEndian)
        buffer.storeBytes(of: body, toByteOffset: 24, as: nfqnl_msg_verdict_hdr.self)
    }
}
