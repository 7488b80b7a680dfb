#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetFaultCore
import Synchronization

/// Runs a `QueueWorker` on a thread of its own, until `requestFinish`. The thread blocks in the queue
/// socket's receive itself, as the leanest C consumer does (a wait in `poll` first would cost
/// every packet a wake-up and a system call more), unless a held packet falls due soon or moved
/// packets are awaited in the parking queue: then it waits in `poll` on both queues and the
/// next deadline.
///
/// An error stops only the thread's reading: it is kept for the controller, which the shared
/// `failures` descriptor wakes, and which then stops the run in order (this thread's last
/// verdicts included).
final class QueueThread: @unchecked Sendable {
    let worker: LiveQueueWorker
    /// Why the thread stopped reading its queue early; nil while it runs. Read by the controller's
    /// thread, so behind a lock.
    var failure: Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return recordedFailure
    }
    /// How far the thread has got, for the controller's heartbeat to the watchdog: a thread that
    /// neither turns its loop nor waits for packets in the receive is stuck.
    var progress: Progress { Progress(turns: turnCount.load(ordering: .relaxed), waitingForPackets: worker.socket.isWaitingForPackets) }

    struct Progress: Equatable {
        /// Turns of the thread's loop so far.
        var turns: Int
        /// Blocked in the queue socket's receive for the first packet: idle, however long.
        var waitingForPackets: Bool
    }

    private let turnCount = Atomic<Int>(0)
    private var recordedFailure: Error?
    private let failureLock = NSLock()
    private let finishRequested = Atomic<Bool>(false)
    /// Signalled by `requestFinish`, for a thread that failed and waits only for that.
    private let finishSignal = DispatchSemaphore(value: 0)
    private let failures: Int32
    private let done = DispatchSemaphore(value: 0)
    private var started = false

    /// `failures`: an eventfd the thread writes to when it fails.
    init(_ worker: LiveQueueWorker, failures: Int32) {
        self.worker = worker
        self.failures = failures
    }

    func start() throws {
        // A reader with no time limit comes back at the stop only on a wake-up. netfault keeps
        // CAP_NET_ADMIN, which sending one needs, so this one (read and skipped first thing)
        // succeeds; should it fail, the reads get the time limit instead.
        if !worker.socket.wake() { try worker.socket.limitWaits(to: QueueSocket.longestWaitMilliseconds) }
        started = true
        let name = "nf-queue-\(worker.socket.queue)"
        let thread = Thread { [self] in
            Privileges.nameThisThread(name)
            // Held packets fall due to the microsecond: the default 50 µs of slack would make
            // every release that much late.
            Privileges.tightenTimerSlack()
            run()
            done.signal()
        }
        thread.start()
    }

    /// Asks the thread to give its last verdicts and end (call after the diversion is off), without
    /// waiting: the stop asks every queue's thread first, so that they finish side by side.
    func requestFinish() {
        guard started else { return }
        finishRequested.store(true, ordering: .sequentiallyConsistent)
        finishSignal.signal()
        worker.socket.wake()
    }

    /// Waits for the thread to end after `requestFinish`; a thread never started gives its last
    /// verdicts here.
    func awaitFinish() {
        guard started else { return worker.finish() }
        // A wake-up that could not be sent (the socket's buffer full a moment) is sent again: a
        // reader with no time limit comes back only so.
        while done.wait(timeout: .now() + .milliseconds(Int(QueueSocket.longestWaitMilliseconds))) == .timedOut {
            worker.socket.wake()
        }
    }

    private func run() {
        var polled = worker.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while !finishRequested.load(ordering: .sequentiallyConsistent) {
            turnCount.add(1, ordering: .relaxed)
            do {
                if worker.mayBlockInReceive {
                    try worker.pump(waiting: true, parkingReadable: false)
                    continue
                }
                // A deadline soon, or arrivals awaited: wait for either queue or the deadline,
                // never longer than a blocked receive would.
                var timeout = Int64(QueueSocket.longestWaitMilliseconds) * 1_000_000
                if let due = worker.nextDeadline { timeout = min(timeout, due.since(monotonicNow())) }
                try waitForEvents(&polled, timeoutNanoseconds: timeout, "waiting for packets on queue \(worker.socket.queue)")
                try worker.pump(parkingReadable: polled.count > 1 && polled[1].revents != 0)
            } catch {
                fail(error)
                // Only the finish request counts now: wait for it without reading the queue.
                finishSignal.wait()
            }
        }
        worker.finish()
    }

    private func fail(_ error: Error) {
        failureLock.lock()
        recordedFailure = error
        failureLock.unlock()
        var one: UInt64 = 1
        _ = write(failures, &one, 8)
    }
}
