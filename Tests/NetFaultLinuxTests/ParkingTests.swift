import CNetfilterQueue
import Testing
import NetFaultCore
@testable import NetFaultLinux

/// How held packets moved to the parking queue are known again when they arrive there, checked
/// without root. (The lab's ForwardUDP tests hold 100 000 packets through the real queues.)
struct ParkingTests {
    static func expected(_ fingerprint: UInt64, _ seconds: Int64? = 1) -> ParkingArrivals.Expected {
        .init(fingerprint: fingerprint, deadline: seconds.map { Instant(nanoseconds: $0 * 1_000_000_000) })
    }

    @Test func packetsArriveInTheOrderTheyWereMoved() {
        var arrivals = ParkingArrivals()
        for fingerprint: UInt64 in [1, 2, 3] { arrivals.expect(Self.expected(fingerprint, Int64(fingerprint))) }
        #expect(arrivals.arrived(1)?.expected == Self.expected(1, 1))
        #expect(arrivals.arrived(2)?.skipped == 0)
        #expect(arrivals.count == 1)
        #expect(arrivals.arrived(3)?.expected.deadline == Instant(nanoseconds: 3_000_000_000))
        #expect(arrivals.count == 0)
    }

    /// A moved packet the kernel let through instead (the parking queue full: fail-open) never
    /// arrives; the next arrival says how many were skipped.
    @Test func aPacketThatNeverArrivesIsSkipped() {
        var arrivals = ParkingArrivals()
        for fingerprint: UInt64 in [10, 11, 12, 13] { arrivals.expect(Self.expected(fingerprint)) }
        let third = arrivals.arrived(12)
        #expect(third?.skipped == 2)
        #expect(arrivals.arrived(10) == nil, "skipped packets are forgotten")
        #expect(arrivals.arrived(13)?.skipped == 0)
    }

    /// A packet someone else queued to the parking queue matches nothing and changes nothing.
    @Test func aStrangerMatchesNothing() {
        var arrivals = ParkingArrivals()
        arrivals.expect(Self.expected(5, nil))
        #expect(arrivals.arrived(99) == nil)
        #expect(arrivals.count == 1)
        #expect(arrivals.arrived(5)?.expected.deadline == nil, "hold: forever keeps no deadline")
    }

    /// Identical packets (an IPv6 datagram sent twice) share a fingerprint and are taken in order.
    @Test func identicalPacketsAreTakenInOrder() {
        var arrivals = ParkingArrivals()
        arrivals.expect(Self.expected(7, 1))
        arrivals.expect(Self.expected(7, 2))
        #expect(arrivals.arrived(7)?.expected.deadline == Instant(nanoseconds: 1_000_000_000))
        #expect(arrivals.arrived(7)?.expected.deadline == Instant(nanoseconds: 2_000_000_000))
    }

    /// Many packets through, a few lost along the way: the bookkeeping stays exact across the
    /// storage being compacted.
    @Test func longRunsStayExact() {
        var arrivals = ParkingArrivals()
        var skipped = 0
        var matched = 0
        for round in 0..<20 {
            let base = UInt64(round * 10_000)
            for offset in 0..<10_000 { arrivals.expect(Self.expected(base + UInt64(offset))) }
            for offset in 0..<10_000 where offset % 1000 != 999 {
                guard let arrival = arrivals.arrived(base + UInt64(offset)) else { continue }
                matched += 1
                skipped += arrival.skipped
            }
        }
        #expect(matched == 20 * 9_990)
        // Each round's last lost packet is skipped by the next round's first arrival.
        #expect(skipped == 20 * 10 - 1)
        #expect(arrivals.abandon() == 1)
        #expect(arrivals.count == 0)
    }

    /// The fingerprint covers the first 64 bytes and the whole length, so a headers-only copy
    /// (512 bytes) and the parking queue's 64-byte copy of one packet agree.
    @Test func theFingerprintOfAPacketIsTheSameFromEitherCopy() {
        let packet = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let whole = packet.withUnsafeBytes { ParkingArrivals.fingerprint($0, length: 1500) }
        let headers = packet.withUnsafeBytes { ParkingArrivals.fingerprint(UnsafeRawBufferPointer(rebasing: $0[..<512]), length: 1500) }
        let parked = packet.withUnsafeBytes { ParkingArrivals.fingerprint(UnsafeRawBufferPointer(rebasing: $0[..<64]), length: 1500) }
        #expect(whole == headers && headers == parked)
        var next = packet
        next[40] &+= 1  // another TCP sequence number
        #expect(next.withUnsafeBytes { ParkingArrivals.fingerprint($0, length: 1500) } != whole)
        #expect(packet.withUnsafeBytes { ParkingArrivals.fingerprint($0, length: 1499) } != whole)
    }

    /// The verdict that moves a packet names the parking queue in its top 16 bits, with bypass.
    @Test func theMoveIsAnNFQueueVerdictWithBypass() {
        #expect(QueueVerdict.requeue(32769).kernelValue == 0x8001_8003)
        #expect(QueueVerdict.accept.kernelValue == UInt32(NF_ACCEPT))
        #expect(QueueVerdict.drop.kernelValue == UInt32(NF_DROP))
        #expect(RuleSet.parkingQueue(for: 1) == 32769)
        #expect(RuleSet.parkingQueue(for: 40000) == 7232)
    }
}
