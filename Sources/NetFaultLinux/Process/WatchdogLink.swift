#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// netfault's end of its watchdog (`Watchdog`): the process, and the pipe the heartbeat goes down.
final class WatchdogLink {
    let process: ChildProcess
    private var pipeEnd: Int32

    /// Starts `netfault watchdog` for `queue` in a process group of its own. With `ownerSocket`
    /// (the socket that owns netfault's nftables tables) the watchdog gets a copy of it as
    /// descriptor 3: the tables then live until both are gone, and the watchdog can delete them.
    /// With `user`, the watchdog gives up root for that user as netfault does.
    init(queue: UInt16, stallMilliseconds: Int32, ownerSocket: Int32?, user: String?) throws(SystemError) {
        var ends: [Int32] = [-1, -1]
        try syscall("creating the watchdog's heartbeat pipe", "pipe") { pipe(&ends) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        do {
            var command = [try ownExecutablePath(), "watchdog", "--queue", "\(queue)", "--stall-ms", "\(stallMilliseconds)"]
            if ownerSocket != nil { command += ["--owner-socket", "\(Watchdog.ownerSocketDescriptor)"] }
            if let user { command += ["--user", user] }
            var descriptors: [Int32: Int32] = [0: ends[0]]
            if let ownerSocket { descriptors[Watchdog.ownerSocketDescriptor] = ownerSocket }
            process = try ChildProcess(command, descriptors: descriptors, closingOthers: true, ownProcessGroup: true)
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[0])
        pipeEnd = ends[1]
        _ = fcntl(pipeEnd, F_SETFL, fcntl(pipeEnd, F_GETFL) | O_NONBLOCK)
    }

    /// Tells the watchdog netfault is alive.
    func beat() { send(Watchdog.heartbeat) }

    /// Tells the watchdog netfault is stopping in order and removes its hooks itself.
    func stopping() { send(Watchdog.stopping) }

    /// Tells the watchdog netfault's hooks are gone: it ends without touching anything. Until it
    /// hears this, it removes the hooks when netfault's end of the heartbeat closes.
    func hooksRemoved() { send(Watchdog.removed) }

    /// Closes the heartbeat and waits for the watchdog to end (killing it after 5 s).
    func finish() {
        if pipeEnd >= 0 {
            close(pipeEnd)
            pipeEnd = -1
        }
        for _ in 0..<500 where process.reap() == nil { usleep(10_000) }
        process.kill()
    }

    private func send(_ byte: UInt8) {
        guard pipeEnd >= 0 else { return }
        var value = byte
        _ = write(pipeEnd, &value, 1)  // a full pipe already holds heartbeats enough
    }
}
