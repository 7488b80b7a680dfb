import Testing
import NetFaultCore
@testable import NetFaultLinux

/// When a queue's thread may block in the socket's receive (which comes back by itself only after
/// `QueueSocket.longestWaitMilliseconds`) instead of polling with the next hold deadline.
struct QueueWaitTests {
    static let now = Instant.seconds(100)

    @Test func nothingHeldOrDueLaterBlocks() {
        #expect(LiveQueueWorker.mayBlockInReceive(awaitingArrivals: false, nextDeadline: nil, now: Self.now))
        #expect(LiveQueueWorker.mayBlockInReceive(awaitingArrivals: false, nextDeadline: Self.now + .seconds(120), now: Self.now))
    }

    @Test func aDeadlineWithinABlockedReadPolls() {
        let longest = Int64(QueueSocket.longestWaitMilliseconds)
        for milliseconds in [0, 1, longest / 2, longest, longest + 10] {
            #expect(!LiveQueueWorker.mayBlockInReceive(awaitingArrivals: false, nextDeadline: Self.now + .milliseconds(milliseconds), now: Self.now),
                    "due in \(milliseconds) ms")
        }
        #expect(!LiveQueueWorker.mayBlockInReceive(awaitingArrivals: false, nextDeadline: Self.now + .milliseconds(-5), now: Self.now), "overdue")
    }

    @Test func packetsOnTheirWayToTheParkingQueuePoll() {
        #expect(!LiveQueueWorker.mayBlockInReceive(awaitingArrivals: true, nextDeadline: nil, now: Self.now))
    }
}
