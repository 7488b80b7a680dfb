import CNetfilterQueue

/// One NFQNL_MSG_PACKET message from the kernel, read with `NetlinkMessage`'s bounds checks: the
/// packet id the verdict must name, and the packet (or its first bytes, and its whole length).
/// Nil for any other message or one without a usable packet header.
public struct QueuePacketMessage {
    public let id: UInt32
    public let packet: UnsafeRawBufferPointer
    /// The packet's length before the queue cut it to its copy range (NFQA_CAP_LEN); nil when whole.
    public let originalLength: Int?

    static let packetType = UInt16(NFNL_SUBSYS_QUEUE << 8) | UInt16(NFQNL_MSG_PACKET.rawValue)

    public init?(_ message: NetlinkMessage) {
        guard message.type == Self.packetType else { return nil }
        var id: UInt32?
        var packet = UnsafeRawBufferPointer(start: nil, count: 0)
        var originalLength: Int?
        // After the 4-byte nfgenmsg: NFQA_PACKET_HDR { be32 packet_id; be16 hw_protocol; u8 hook },
        // NFQA_PAYLOAD (the packet), NFQA_CAP_LEN, and others netfault does not need. Whether the
        // checksum is ready (NFQA_SKB_INFO) matters not: whatever netfault changes or sends gets
        // complete checksums (`Packet.rewritten(with:)`).
        for attribute in message.attributes(after: 4) {
            switch attribute.type {
            case UInt16(NFQA_PACKET_HDR.rawValue) where attribute.payload.count >= 4:
                id = UInt32(bigEndian: attribute.payload.loadUnaligned(as: UInt32.self))
            case UInt16(NFQA_PAYLOAD.rawValue):
                packet = attribute.payload
            case UInt16(NFQA_CAP_LEN.rawValue):
                originalLength = attribute.bigEndianUInt32.map { Int($0) }
            default:
                continue
            }
        }
        guard let id else { return nil }
        self.id = id
        self.packet = packet
        self.originalLength = originalLength
    }
}
