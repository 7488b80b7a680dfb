import Testing
@testable import NetFaultLinux

/// netfault's heartbeat to its watchdog stands for every queue's thread, not only the controller's.
struct HeartbeatTests {
    static func turned(_ turns: Int) -> QueueThread.Progress { .init(turns: turns, waitingForPackets: false) }
    static func waiting(_ turns: Int) -> QueueThread.Progress { .init(turns: turns, waitingForPackets: true) }

    @Test func aQueueThatStoppedTurningWithholdsTheHeartbeat() {
        #expect(Controller.everyQueueIsLive([Self.turned(5), Self.turned(9)], since: [Self.turned(4), Self.turned(7)]))
        #expect(!Controller.everyQueueIsLive([Self.turned(5), Self.turned(7)], since: [Self.turned(4), Self.turned(7)]), "the second queue is stuck")
        #expect(!Controller.everyQueueIsLive([Self.turned(3)], since: [Self.turned(3)]))
        #expect(!Controller.everyQueueIsLive([Self.turned(3)], since: [Self.waiting(3)]), "it waited, then got stuck on a packet")
        #expect(Controller.everyQueueIsLive([Self.turned(0)], since: [Self.turned(-1)]), "the first beat, before any turn is counted")
    }

    /// A thread blocked in its receive with no time limit does not turn while no packet comes: it
    /// is idle, not stuck.
    @Test func aQueueWaitingForPacketsKeepsTheHeartbeat() {
        #expect(Controller.everyQueueIsLive([Self.waiting(3), Self.turned(8)], since: [Self.waiting(3), Self.turned(7)]))
        #expect(Controller.everyQueueIsLive([Self.waiting(3)], since: [Self.turned(3)]))
    }

    /// A thread that may hold packets turns at least every `longestWaitMilliseconds` (plus up to
    /// 10 ms of jiffies), well within one beat; several missed beats make a stall.
    @Test func anIdleQueueTurnsWithinEveryBeat() {
        #expect(QueueSocket.longestWaitMilliseconds + 20 < Controller.beatMilliseconds / 2)
        #expect(Controller.beatMilliseconds * 4 <= Controller.stallMilliseconds)
    }
}
