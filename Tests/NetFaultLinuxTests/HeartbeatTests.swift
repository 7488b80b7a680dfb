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
}
