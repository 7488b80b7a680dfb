import CNetfilterQueue
import Testing
@testable import NetFaultLinux

/// The verdict netfault writes in place is byte for byte what libnetfilter_queue's helpers write.
struct VerdictMessageTests {
    static let verdicts: [QueueVerdict] = [.accept, .drop, .requeue(1), .requeue(65535)]

    @Test(arguments: [NFQNL_MSG_VERDICT, NFQNL_MSG_VERDICT_BATCH])
    func matchesLibnetfilterQueue(type: nfqnl_msg_types) {
        for queue: UInt16 in [0, 1, 0x1234, 65535] {
            for id: UInt32 in [0, 1, 0x0102_0304, .max] {
                for verdict in Self.verdicts {
                    let written = Self.bytes { VerdictMessage.write(type, queue: queue, id: id, verdict: verdict.kernelValue, to: $0) }
                    let expected = Self.bytes { buffer in
                        let header = nfq_nlmsg_put(buffer.assumingMemoryBound(to: CChar.self), Int32(type.rawValue), UInt32(queue))!
                        nfq_nlmsg_verdict_put(header, Int32(bitPattern: id), Int32(bitPattern: verdict.kernelValue))
                        #expect(Int(header.pointee.nlmsg_len) == VerdictMessage.size)
                    }
                    #expect(written == expected, "queue \(queue), id \(id), \(verdict)")
                }
            }
        }
    }

    /// The bytes `fill` leaves in a buffer of `VerdictMessage.size` that started out as 0xAA
    /// everywhere, so a byte left unwritten shows.
    static func bytes(_ fill: (UnsafeMutableRawPointer) -> Void) -> [UInt8] {
        var buffer = [UInt8](repeating: 0xAA, count: 256)
        buffer.withUnsafeMutableBytes { fill($0.baseAddress!) }
        return Array(buffer[..<VerdictMessage.size])
    }
}
