import Testing
@testable import NetFaultCore

struct HoldQueueTests {
    @Test func releasesInDeadlineOrderAndArrivalOrderForTies() {
        var queue = HoldQueue()
        queue.hold(1, until: .milliseconds(300))
        queue.hold(2, until: .milliseconds(100))
        queue.hold(3, until: nil)
        queue.hold(4, until: .milliseconds(100))
        queue.hold(5, until: .milliseconds(200))
        #expect(queue.nextDeadline == .milliseconds(100))
        var released: [UInt32] = []
        queue.releaseDue(at: .milliseconds(99)) { released.append($0.packetID) }
        #expect(released.isEmpty)
        queue.releaseDue(at: .milliseconds(200)) { released.append($0.packetID) }
        #expect(released == [2, 4, 5])
        #expect(queue.nextDeadline == .milliseconds(300))
        queue.releaseDue(at: .seconds(1e6)) { released.append($0.packetID) }
        #expect(released == [2, 4, 5, 1], "a forever hold is never due")
        #expect(queue.nextDeadline == nil)
        var atEnd: [(UInt32, Bool)] = []
        queue.releaseAll { atEnd.append(($0.packetID, $0.acceptAtEnd)) }
        #expect(atEnd.map(\.0) == [3] && atEnd.map(\.1) == [false])
        #expect(queue.peak == 5 && queue.isEmpty)
    }

    @Test func manyRandomHoldsComeOutSorted() {
        var generator = SeededGenerator(seed: 7)
        var queue = HoldQueue()
        for id in 0..<10_000 { queue.hold(UInt32(id), until: .milliseconds(Int64.random(in: 0...5_000, using: &generator))) }
        var deadlines: [Instant] = []
        queue.releaseDue(at: .milliseconds(5_000)) { deadlines.append($0.deadline) }
        #expect(deadlines.count == 10_000)
        #expect(deadlines == deadlines.sorted())
    }
}

extension HoldQueueTests {
    @Test func atTheLimitTheEarliestDueLeavesToMakeRoom() {
        var queue = HoldQueue(limit: 2)
        #expect(queue.hold(1, until: .milliseconds(300)) == nil)
        #expect(queue.hold(2, until: .milliseconds(100)) == nil)
        let evicted = queue.hold(3, until: .milliseconds(200))
        #expect(evicted?.packetID == 2, "the earliest due goes first")
        #expect(queue.count == 2 && queue.peak == 2 && queue.releasedEarly == 1)
        var order: [UInt32] = []
        queue.releaseAll { order.append($0.packetID) }
        #expect(order == [3, 1])
    }
}
