#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import Synchronization

/// How the control API reaches a run: a request is a job the controller's thread runs between
/// two turns of its loop, so nothing of the run is touched from the API's threads, changes are
/// serialized, and each runs in the faulted namespace (where the controller's thread lives) — an
/// iptables-restore it starts included. The packet threads never wait for it: a rule change
/// holds the engine's lock only for the swap itself.
public final class ControlMailbox: Sendable {
    /// Why a request got no answer from the run.
    public struct Closed: Error, CustomStringConvertible {
        public var description: String { "netfault is stopping" }
    }

    private typealias Job = @Sendable (LiveRun?) -> Void

    private struct State {
        var jobs: [Job] = []
        var closed = false
    }

    private let state = Mutex(State())
    /// Readable while jobs wait: the controller's loop polls it.
    let descriptor: Int32
    /// Where a request's waiting task is resumed: a thread of the API's. Resumed on the
    /// controller's thread, it could make the task pool start a thread there, with the
    /// controller's privileges and in its namespace.
    private let resume: @Sendable (@escaping @Sendable () -> Void) -> Void

    /// `resumingOn`: runs a closure on one of the API's threads (the work of resuming a request).
    public init(resumingOn resume: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) throws(SystemError) {
        self.resume = resume
        let descriptor = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        guard descriptor >= 0 else { throw SystemError("opening the control mailbox", call: "eventfd", errno: errno) }
        self.descriptor = descriptor
    }

    deinit { Glibc.close(descriptor) }

    /// Runs `body` on the controller's thread with the live run, and returns what it returns.
    /// Throws `Closed` once the run is stopping.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (LiveRun) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let resume = self.resume
            let job: Job = { run in
                let result: Result<T, any Error> = run.map { run in Result { try body(run) } } ?? .failure(Closed())
                resume { continuation.resume(with: result) }
            }
            let accepted = state.withLock { state in
                guard !state.closed else { return false }
                state.jobs.append(job)
                return true
            }
            guard accepted else { return continuation.resume(throwing: Closed()) }
            _ = eventfd_write(descriptor, 1)
        }
    }

    /// On the controller's thread: runs every job waiting, in order.
    func runWaiting(with run: LiveRun) {
        var count: eventfd_t = 0
        _ = eventfd_read(descriptor, &count)
        let jobs = state.withLock { state in
            defer { state.jobs = [] }
            return state.jobs
        }
        for job in jobs { job(run) }
    }

    /// At the stop, or when the run never started: no job runs from here on; those waiting are
    /// answered `Closed`.
    public func close() {
        let jobs = state.withLock { state in
            state.closed = true
            defer { state.jobs = [] }
            return state.jobs
        }
        for job in jobs { job(nil) }
    }
}
