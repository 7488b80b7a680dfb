#if canImport(Glibc)
import Glibc
import CNetfilterQueue
#endif

// The one place system calls are retried when a signal interrupts them (EINTR). netfault takes its
// signals through a signalfd, so an interruption is rare (a debugger, SIGSTOP and SIGCONT), but a
// call that gave up on one would stop a run.

/// Calls `body` again for as long as it fails with EINTR; returns its result, negative with
/// `errno` set on any other failure.
@inline(__always)
func retryingInterrupts<Result: BinaryInteger>(_ body: () -> Result) -> Result {
    while true {
        let result = body()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// Runs a call that returns -1 and sets errno on failure, retrying EINTR; throws with `doing` and
/// `call` otherwise.
@discardableResult
func syscall<Result: BinaryInteger>(_ doing: @autoclosure () -> String, _ call: String,
                                     _ body: () -> Result) throws(SystemError) -> Result {
    let result = retryingInterrupts(body)
    guard result >= 0 else { throw SystemError(doing(), call: call, errno: errno) }
    return result
}

/// poll(2): waits up to `timeoutMilliseconds` (-1: for ever) until one of `descriptors` is ready,
/// and returns how many are (0: the time ran out).
@discardableResult
func waitForEvents(_ descriptors: inout [pollfd], timeoutMilliseconds: Int32, _ doing: @autoclosure () -> String) throws(SystemError) -> Int {
    let count = descriptors.count
    return Int(try syscall(doing(), "poll") { poll(&descriptors, nfds_t(count), timeoutMilliseconds) })
}

/// ppoll(2): waits up to `timeoutNanoseconds` (at least 0) until one of `descriptors` is ready, and
/// returns how many are (0: the time ran out). The kernel's high-resolution timer ends the wait,
/// late only by the thread's timer slack (`Privileges.tightenTimerSlack`), where poll(2) rounds
/// up to a millisecond.
@discardableResult
func waitForEvents(_ descriptors: inout [pollfd], timeoutNanoseconds: Int64, _ doing: @autoclosure () -> String) throws(SystemError) -> Int {
    let count = descriptors.count
    let nanoseconds = max(0, timeoutNanoseconds)
    var timeout = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    return Int(try syscall(doing(), "ppoll") { netfault_ppoll(&descriptors, UInt(count), &timeout) })
}
