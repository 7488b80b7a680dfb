#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import Foundation
import NetFaultCore

/// Runs a `QueueWorker` on a thread of its own (`queues:` above 1), until `finish`. An error
/// stops only the thread's reading: it is kept for the controller, which the shared `failures`
/// descriptor wakes, and which then stops the run in order (this thread's last verdicts included).
final class QueueThread: @unchecked Sendable {
    let worker: QueueWorker
    /// Why the thread stopped reading its queue early; nil while it runs. Read by the controller's
    /// thread, so behind a lock.
    var failure: Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return recordedFailure
    }
    private var recordedFailure: Error?
    private let failureLock = NSLock()
    private let finishing: Int32
    private let failures: Int32
    private let done = DispatchSemaphore(value: 0)
    private var started = false

    /// `failures`: an eventfd the thread writes to when it fails.
    init(_ worker: QueueWorker, failures: Int32) throws {
        self.worker = worker
        self.failures = failures
        finishing = eventfd(0, Int32(EFD_CLOEXEC))
        guard finishing >= 0 else { throw SystemError("starting the thread of queue \(worker.socket.queue)", call: "eventfd", errno: errno) }
    }

    deinit { Glibc.close(finishing) }

    func start() {
        started = true
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "netfault-queue-\(worker.socket.queue)"
        thread.start()
    }

    /// Gives the last verdicts (call after the diversion is off) and waits for the thread to end;
    /// a thread never started gives them here.
    func finish() {
        guard started else { return worker.finish() }
        var one: UInt64 = 1
        _ = write(finishing, &one, 8)
        done.wait()
    }

    private func run() {
        var descriptors = ([finishing] + worker.descriptors).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            var timeout: Int32 = -1
            if recordedFailure == nil, let due = worker.nextDeadline {
                timeout = Int32(clamping: (max(0, due.since(monotonicNow())) + 999_999) / 1_000_000)
            }
            if poll(&descriptors, nfds_t(descriptors.count), timeout) < 0, errno != EINTR {
                fail(SystemError("waiting for packets on queue \(worker.socket.queue)", call: "poll", errno: errno))
            }
            if descriptors[0].revents != 0 { break }
            guard recordedFailure == nil else {
                // Only the finish request counts now: wait for it without reading the queue.
                descriptors = [descriptors[0]]
                continue
            }
            do {
                try worker.pump(parkingReadable: descriptors.count > 2 && descriptors[2].revents != 0)
            } catch {
                fail(error)
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
