import Testing
@testable import NetFaultLinux

/// netfault's heartbeat to its watchdog stands for every queue's thread, not only the controller's.
struct HeartbeatTests {
    @Test func aQueueThatStoppedTurningWithholdsTheHeartbeat() {
        #expect(Controller.everyQueueMoved([5, 9], since: [4, 7]))
        #expect(!Controller.everyQueueMoved([5, 7], since: [4, 7]), "the second queue is stuck")
        #expect(!Controller.everyQueueMoved([3], since: [3]))
        #expect(Controller.everyQueueMoved([0], since: [-1]), "the first beat, before any turn is counted")
    }

    /// An idle thread blocked in its receive turns at least every `longestWaitMilliseconds` (plus
    /// up to 10 ms of jiffies), well within one beat; several missed beats make a stall.
    @Test func anIdleQueueTurnsWithinEveryBeat() {
        #expect(QueueSocket.longestWaitMilliseconds + 20 < Controller.beatMilliseconds / 2)
        #expect(Controller.beatMilliseconds * 4 <= Controller.stallMilliseconds)
    }
}
