#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import NetFaultCore

/// SIGINT, SIGTERM and SIGHUP delivered as readable events on a descriptor (signalfd) instead of
/// interrupting the program: the controller's loop polls it, so a signal at any moment
/// leads to the same orderly stop, and a second Ctrl-C during the stop cannot cut it short.
public final class StopSignals {
    public let fileDescriptor: Int32
    static let signals = [SIGINT, SIGTERM, SIGHUP]

    /// Blocks the signals for the whole process (call before starting other threads, or call
    /// `block()` first).
    public init() throws(SystemError) {
        var set = try Self.block()
        fileDescriptor = try syscall("receiving stop signals", "signalfd") { signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
        // A write to a pipe whose reader is gone (the watchdog, a closed `| head`) fails with EPIPE
        // instead of ending netfault before it removes its hooks.
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    deinit { close(fileDescriptor) }

    /// Blocks the stop signals in the calling thread, and so in every thread it starts from now
    /// on: a signal then waits for the controller's signalfd instead of ending the process in
    /// whichever thread the kernel picked (the control API's, say). Call before starting threads.
    @discardableResult
    public static func block() throws(SystemError) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        let result = pthread_sigmask(SIG_BLOCK, &set, nil)
        guard result == 0 else { throw SystemError("blocking stop signals", call: "pthread_sigmask", errno: result) }
        return set
    }

    /// A stop signal that arrived.
    public struct Received: Sendable, Equatable {
        public var number: Int32
        /// Sent by the kernel for the terminal (Ctrl-C), which signals the whole foreground process
        /// group, a command `netfault run` started included; not by a `kill` aimed at netfault alone.
        public var fromTerminal: Bool

        public var name: String {
            switch number {
            case SIGINT: return "SIGINT"
            case SIGTERM: return "SIGTERM"
            case SIGHUP: return "SIGHUP"
            default: return "signal \(number)"
            }
        }
    }

    /// The pending signal, if one arrived.
    public func take() -> Received? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        guard read(fileDescriptor, &info, size) == size else { return nil }
        return Received(number: Int32(info.ssi_signo), fromTerminal: info.ssi_code == SI_KERNEL)
    }
}

/// The monotonic clock, as the engine's `Instant`.
public func monotonicNow() -> NetFaultCore.Instant {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return NetFaultCore.Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
}
