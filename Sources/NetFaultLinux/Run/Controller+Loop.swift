#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import NetFaultCore

extension Controller {
    /// What the controller's loop waits on.
    enum LoopEvent: Hashable {
        /// SIGINT, SIGTERM or SIGHUP (a signalfd).
        case signal
        /// The watchdog process ended (its pidfd).
        case watchdogEnded
        /// A queue's thread failed (the shared eventfd).
        case queueFailed
        /// The wrapped command exited (its pidfd).
        case commandExited
        /// The process whose namespace is faulted (`--netns pid:`, `container:`) exited (its pidfd).
        case targetExited
        /// The control API has requests waiting (the mailbox's eventfd).
        case control
    }

    /// How often a run whose command has exited checks whether its connections have closed.
    static let lingerCheckMilliseconds: Int64 = 20

    /// How often the controller checks that every queue's thread turned or waits for packets, and
    /// then beats. A thread that waits for packets does so in its socket's receive, or turns
    /// within `QueueSocket.longestWaitMilliseconds` (and the jiffies it is rounded to), so a
    /// thread that is merely idle never misses a check; the watchdog fires only after
    /// `stallMilliseconds` of missed checks in a row.
    static let beatMilliseconds: Int32 = 250

    /// The controller's own loop, while the queues' threads answer packets: signals, the watchdog,
    /// the wrapped command, the threads' failures, and once a second the engine's expiry and the
    /// status line. The watchdog hears a heartbeat only while every queue's thread is moving: a
    /// stuck queue stops it as surely as a stopped process. Returns why the run stops.
    func loop(_ run: StartedRun, linger: Duration) throws -> String {
        var events = PollSet<LoopEvent>([.signal: run.signals.fileDescriptor, .watchdogEnded: run.watchdog.process.pidDescriptor,
                                         .queueFailed: run.failures])
        if let child = run.child { events.watch(.commandExited, child.pidDescriptor) }
        if let targetProcess = run.targetProcess { events.watch(.targetExited, targetProcess) }
        let live = LiveRun(run: run, controller: self)
        if let mailbox { events.watch(.control, mailbox.descriptor) }
        let end = ruleSet.duration.map { run.start + $0 }
        var nextTick = run.start + .seconds(1)
        var nextBeat = run.start
        var decisionsAtTick = 0
        var signalsReceived = 0
        var progressAtBeat = run.threads.map { _ in QueueThread.Progress(turns: -1, waitingForPackets: false) }
        // After the command exited: why the run will stop, and until when it watches the
        // connections close (their last FIN and ACK are part of what it reports).
        var lingering: (reason: String, until: Instant)?
        while true {
            var now = monotonicNow()
            if let end, now >= end { return lingering?.reason ?? "duration \(ruleSet.duration!.ruleText) elapsed" }
            if let lingering, now >= lingering.until || run.engine.openConnections == 0 { return lingering.reason }
            if now >= nextBeat {
                // A process's namespace is watched through its pidfd; a named one by its file.
                if let namespace, namespace.pid == nil, !namespace.isStillThere { return Self.targetGone(namespace) }
                let progress = run.threads.map(\.progress)
                if Self.everyQueueIsLive(progress, since: progressAtBeat) { run.watchdog.beat() }
                progressAtBeat = progress
                nextBeat = now + .milliseconds(Int64(Self.beatMilliseconds))
            }
            var wake = min(nextTick, nextBeat, end ?? .distantFuture)
            if let lingering { wake = min(wake, lingering.until, now + .milliseconds(Self.lingerCheckMilliseconds)) }
            // Rounded up to the next millisecond, so a deadline is never polled for in a busy loop.
            let timeout = Int32(clamping: (max(0, wake.since(now)) + 999_999) / 1_000_000)
            try events.wait(timeoutMilliseconds: timeout, "waiting for signals and the threads")
            if events.isReady(.signal), let signal = run.signals.take() {
                if let lingering { return "\(lingering.reason); \(signal.name) received while connections closed" }
                guard let child = run.child else { return "\(signal.name) received" }
                signalsReceived += 1
                if signalsReceived >= 3 {
                    child.kill()
                    return "\(signal.name) received a third time: \(child.command[0]) killed"
                }
                // Ctrl-C reached the command already (same process group); a kill aimed at netfault did not.
                if !signal.fromTerminal { child.forward(signal.number) }
                log("netfault: \(signal.name) passed on to \(child.command[0]); waiting for it to exit")
            }
            if events.isReady(.watchdogEnded) {
                run.watchdog.process.reap()
                throw WatchdogEnded(stallMilliseconds: Self.stallMilliseconds)
            }
            if events.isReady(.targetExited), let namespace { return Self.targetGone(namespace) }
            if events.isReady(.control) { mailbox?.runWaiting(with: live) }
            if events.isReady(.queueFailed), let failure = run.threads.lazy.compactMap(\.failure).first {
                throw failure
            }
            if let child = run.child, lingering == nil, events.isReady(.commandExited), let exit = child.reap() {
                let reason = "\(child.command[0]) \(exit)"
                guard linger > .zero else { return reason }
                lingering = (reason, monotonicNow() + linger)
                events.ignore(.commandExited)
            }
            now = monotonicNow()
            if now >= nextTick {
                let status = run.engine.tick(at: now)
                progress?(Progress(elapsedSeconds: Double(now.since(run.start)) / 1e9, packetsPerSecond: status.decisions - decisionsAtTick,
                                   connections: status.connections, faults: status.faults))
                decisionsAtTick = status.decisions
                nextTick = now + .seconds(1)
            }
        }
    }

    /// The stop reason when the faulted namespace went away: its process exited (a container
    /// stopped or restarted), or its name or file was removed.
    static func targetGone(_ namespace: ResolvedNamespace) -> String {
        let how = namespace.pid != nil ? "its process \(namespace.pid!) exited" : "\(namespace.path) was removed"
        return "target namespace gone: \(namespace.description): \(how)"
    }

    /// Every queue's thread turned its loop since the last heartbeat, or waits for packets in its
    /// receive now (`QueueThread.progress`, then and now): none is stuck, so netfault may tell its
    /// watchdog it is alive.
    static func everyQueueIsLive(_ progress: [QueueThread.Progress], since previous: [QueueThread.Progress]) -> Bool {
        zip(progress, previous).allSatisfy { now, then in now.waitingForPackets || now.turns != then.turns }
    }
}
