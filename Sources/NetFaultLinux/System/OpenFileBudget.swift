#if canImport(Glibc)
import Glibc
#endif

/// The open files a run needs, checked against `ulimit -n` before anything starts, and a reserve
/// kept for the stop: removing iptables hooks means starting iptables-save and iptables-restore,
/// six descriptors each, at the moment the control API's connections may hold everything else.
/// Without it a low limit let netfault start and then fail its stop (EMFILE), hooks left behind.
public enum OpenFileBudget {
    /// Descriptors kept closed-over-/dev/null from the start and given back when the stop begins.
    static let reserved = 16

    /// What a run with `queues` queues may have open at once: about 24 of its own (standard
    /// streams, signalfd, eventfds, the watchdog's pipe, the queue sockets, the API's listener and
    /// event loops), 8 per further queue, the control API's 64 connections, and the reserve.
    public static func needed(queues: Int) -> Int {
        32 + 8 * max(0, queues - 1) + 64 + reserved
    }

    /// Refuses a start that the open-file limit would fail partway (the event loop's epoll, or the
    /// stop's helpers), naming the limit; nothing has started when it throws.
    public static func check(queues: Int) throws(LimitTooLow) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let needed = needed(queues: queues)
        if limit.rlim_cur < rlim_t(needed) { throw LimitTooLow(limit: Int(limit.rlim_cur), needed: needed, queues: queues) }
    }

    /// `ulimit -n` is below what a run needs.
    public struct LimitTooLow: Error, CustomStringConvertible {
        public let limit: Int
        public let needed: Int
        public let queues: Int

        public var description: String {
            "the open-file limit (ulimit -n) is \(limit), and netfault with \(queues) queue\(queues == 1 ? "" : "s") needs up to \(needed): raise it (`ulimit -n \(needed)`)"
        }
    }
}

/// The stop's share of `OpenFileBudget`: held from the start, released when the stop begins.
final class DescriptorReserve {
    private var descriptors: [Int32] = []

    init() throws(SystemError) {
        for _ in 0..<OpenFileBudget.reserved {
            let descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                let code = errno
                release()
                throw SystemError("reserving open files for the stop", call: "open(/dev/null)", errno: code)
            }
            descriptors.append(descriptor)
        }
    }

    /// Gives the descriptors back for the stop to use.
    func release() {
        for descriptor in descriptors { close(descriptor) }
        descriptors = []
    }

    deinit { release() }
}
