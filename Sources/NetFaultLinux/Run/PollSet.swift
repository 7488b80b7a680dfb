#if canImport(Glibc)
import Glibc
#endif

/// Descriptors to wait on together, each under a name of the caller's choosing rather than a
/// position in a `pollfd` array.
struct PollSet<Source: Hashable> {
    private var descriptors: [pollfd] = []
    private var sources: [Source] = []

    init(_ watched: KeyValuePairs<Source, Int32>) {
        for (source, descriptor) in watched { watch(source, descriptor) }
    }

    /// Waits on `descriptor` for input, as `source`, from the next `wait` on.
    mutating func watch(_ source: Source, _ descriptor: Int32) {
        sources.append(source)
        descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0))
    }

    /// Stops waiting on `source` (poll skips a negative descriptor).
    mutating func ignore(_ source: Source) {
        guard let index = sources.firstIndex(of: source) else { return }
        descriptors[index].fd = -1
        descriptors[index].revents = 0
    }

    /// Waits up to `timeoutMilliseconds` (-1: for ever) for any source to be ready.
    mutating func wait(timeoutMilliseconds: Int32, _ doing: @autoclosure () -> String) throws(SystemError) {
        try waitForEvents(&descriptors, timeoutMilliseconds: timeoutMilliseconds, doing())
    }

    /// Whether the last `wait` found `source` ready (readable, hung up or in error).
    func isReady(_ source: Source) -> Bool {
        guard let index = sources.firstIndex(of: source) else { return false }
        return descriptors[index].revents != 0
    }
}
