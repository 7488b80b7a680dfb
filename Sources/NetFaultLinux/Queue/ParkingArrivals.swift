import NetFaultCore

/// Packets moved to the parking queue and not yet seen arriving there, in the order they were
/// moved. The kernel enqueues a packet on the parking queue while it handles the verdict that
/// moves it, so packets arrive in the order netfault moved them; one that never arrives was let
/// through by the kernel instead (the parking queue or its socket's buffer was full, and the
/// queue fails open). A fingerprint of the packet's first bytes finds where arrivals resume.
struct ParkingArrivals {
    /// A moved packet, as netfault will know it again when it arrives.
    struct Expected: Equatable {
        var fingerprint: UInt64
        /// When to release it; nil holds it until the run ends, then drops it (`hold: forever`).
        var deadline: Instant?
    }

    private var entries: [Expected] = []
    private var head = 0

    /// Moved and not arrived yet.
    var count: Int { entries.count - head }

    /// How many bytes of a packet its fingerprint covers: headers enough to tell apart two
    /// packets of one connection (IPv4 id, TCP sequence and acknowledgment numbers).
    static let fingerprintBytes = 64

    /// The first `fingerprintBytes` of `bytes` and the packet's whole `length`, mixed a word at a
    /// time (multiply and fold, as wyhash does); a short packet's last word is zero-padded.
    static func fingerprint(_ bytes: UnsafeRawBufferPointer, length: Int) -> UInt64 {
        let covered = min(bytes.count, fingerprintBytes)
        var hash: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(truncatingIfNeeded: length)
        var offset = 0
        while offset < covered {
            var word: UInt64 = 0
            if covered - offset >= 8 {
                word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            } else {
                for index in offset..<covered { word |= UInt64(bytes[index]) << (8 * UInt64(index - offset)) }
            }
            let product = (hash ^ word).multipliedFullWidth(by: 0xa076_1d64_78bd_642f)
            hash = product.high ^ product.low
            offset += 8
        }
        return hash
    }

    /// Records a packet just moved to the parking queue.
    mutating func expect(_ expected: Expected) {
        entries.append(expected)
    }

    /// The moved packet that arrived with `fingerprint`, and how many moved before it never
    /// arrived (the kernel let them through). Nil when no moved packet has this fingerprint: the
    /// packet is not netfault's.
    mutating func arrived(_ fingerprint: UInt64) -> (expected: Expected, skipped: Int)? {
        guard let index = entries[head...].firstIndex(where: { $0.fingerprint == fingerprint }) else { return nil }
        let skipped = index - head
        let expected = entries[index]
        head = index + 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return (expected, skipped)
    }

    /// Forgets every packet still expected (the run is over) and returns how many there were.
    mutating func abandon() -> Int {
        defer {
            entries.removeAll()
            head = 0
        }
        return count
    }
}
