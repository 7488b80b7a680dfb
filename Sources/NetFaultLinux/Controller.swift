#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import Foundation
import NetFaultCore

/// `netfault apply` and `netfault run`: binds the queue, installs the hooks, runs every queued
/// packet through the engine and carries out its decisions, until a signal, the rule set's
/// `duration`, the wrapped command's exit, or a fatal error. Every stop is the same: hooks
/// removed, packets still queued accepted, held packets released as their rule says, a report
/// returned. Every packet id gets exactly one verdict.
public final class Controller {
    /// What a run produced.
    public struct Result {
        public var report: RunReport
        /// How the wrapped command ended (`netfault run`); nil for `apply`.
        public var commandExit: ChildProcess.Exit?
        /// The run ended on an error, or its hooks could not be removed.
        public var failed: Bool
    }

    /// Once a second while the run lasts, for a status line.
    public struct Progress: Sendable {
        public var elapsedSeconds: Double
        public var packetsPerSecond: Int
        public var connections: Int
        public var faults: Int
    }

    public let ruleSet: RuleSet
    public let ruleFile: String
    public let seed: UInt64
    private let log: (String) -> Void
    private let progress: ((Progress) -> Void)?

    /// Where `--pcap` writes the faulted connections' packets, opened already; nil for no capture.
    public let captureFile: OutputFile?
    /// Once started, run as this user (keeping CAP_NET_ADMIN and CAP_NET_RAW); nil: stay root.
    public var user: String?
    /// Where the hooks go: nftables owner tables, or iptables chains.
    public var hookBackend: HookBackend = .auto

    public init(ruleSet: RuleSet, ruleFile: String, seed: UInt64, captureFile: OutputFile? = nil, log: @escaping (String) -> Void,
                progress: ((Progress) -> Void)? = nil) {
        self.ruleSet = ruleSet
        self.ruleFile = ruleFile
        self.seed = seed
        self.captureFile = captureFile
        self.log = log
        self.progress = progress
    }

    /// Runs until stopped; with `command`, runs it once the hooks are in place and stops when it
    /// exits and every connection it opened has closed, or `linger` has passed since, passing
    /// SIGINT, SIGTERM and SIGHUP on to it. Throws only when nothing was installed (a refusal at
    /// start); an error after start stops the run in order and is reported.
    public func run(command: [String]? = nil, linger: Duration = .zero) throws -> Result {
        let signals = try StopSignals()
        let capture = try captureFile.map { try PcapWriter(file: $0) }
        var captureOpen = capture != nil
        defer { if captureOpen { try? capture?.close() } }
        let engine = SharedEngine(Engine(ruleSet: ruleSet, seed: seed), capture: capture)
        // Every queue bound before any packet is diverted to it.
        let workers = try (0..<ruleSet.queues).map { index in
            try QueueWorker(queue: ruleSet.queue + UInt16(index), ruleSet: ruleSet,
                            wholePackets: ruleSet.needsWholePackets || captureFile != nil, engine: engine)
        }
        defer { for worker in workers { worker.close() } }
        let failures = eventfd(0, Int32(EFD_CLOEXEC))
        guard failures >= 0 else { throw SystemError("starting the queue threads", call: "eventfd", errno: errno) }
        defer { Glibc.close(failures) }
        let threads = workers.map { QueueThread($0, failures: failures) }
        let hooks = try InstalledHooks.install(DiversionPlan(ruleSet), backend: hookBackend, log: log)
        let watchdog: WatchdogLink
        do {
            watchdog = try WatchdogLink(queue: ruleSet.queue, stallMilliseconds: Self.stallMilliseconds, ownerSocket: hooks.ownerSocket)
        } catch {
            _ = try? hooks.remove()
            throw error
        }
        log("netfault: watchdog pid \(watchdog.process.pid) removes the hooks if netfault dies or hangs for \(Self.stallMilliseconds) ms")

        let start = monotonicNow()
        let startedAt = Date()
        let end = ruleSet.duration.map { start + $0 }
        let first = workers[0]
        log("netfault: \(queueNames) diverting at \(ruleSet.hooks.map(\.rawValue).joined(separator: ", "))"
            + "\(first.socket.copiesWholePackets ? "" : " (copying headers only: no rule needs payload)")"
            + "\(first.parking.map { "; held packets wait in \(ruleSet.queues > 1 ? "queues from " : "queue ")\($0.socket.queue) (up to \(ruleSet.maxHeld) each)" } ?? "")"
            + "; seed \(seed); " + (end == nil ? "Ctrl-C to stop" : "for \(ruleSet.duration!.ruleText)"))

        var stopReason: String
        var failed = false
        var child: ChildProcess?
        do {
            // The command runs with the privileges netfault was given; netfault keeps only what it
            // still needs: CAP_NET_ADMIN to remove its hooks, CAP_NET_RAW to inject.
            if let command { child = try ChildProcess(command) }
            try Privileges.keepOnlyNetworkAdministration(user: user)
            log("netfault: keeping CAP_NET_ADMIN and CAP_NET_RAW only\(user.map { ", as user \($0)" } ?? "")")
            // Capabilities are a thread's own: the queue threads start with what is left.
            for thread in threads { try thread.start() }
            stopReason = try loop(engine: engine, signals: signals, end: end, child: child, linger: linger, watchdog: watchdog,
                                  threads: threads, failures: failures)
        } catch {
            stopReason = "error: \(error)"
            failed = true
        }
        let stopped = monotonicNow()
        var diverted: Int?
        watchdog.stopping()
        // Diversion off first, hooks still registered: the kernel drops every packet still queued
        // or held the moment a hook goes. The last verdicts, then the hooks.
        do {
            try hooks.detach()
        } catch {
            stopReason += "; stopping the diversion failed: \(error)"
            failed = true
        }
        for thread in threads { thread.requestFinish() }
        for thread in threads { thread.awaitFinish() }
        do {
            diverted = try hooks.removeCounting()
        } catch {
            stopReason += "; removing the hooks failed: \(error) — \(hooks.leftoverAdvice)"
            failed = true
        }
        watchdog.finish()
        if let capture {
            // Every packet is in (the queues are closed): a capture that could not be written whole fails the run.
            captureOpen = false
            do {
                try capture.close()
            } catch {
                stopReason += "; \(error)"
                failed = true
            }
        }
        let queue = RunReport.QueueStatistics(combining: workers.map(\.statistics), diverted: diverted)
        if let child, child.reap() == nil {
            log("netfault: faults lifted; waiting for \(child.command[0]) (pid \(child.pid)) to exit")
            waitForExit(child, signals: signals)
        }
        var report = engine.withEngine { engine in
            RunReport(engine: engine, ruleFile: ruleFile, stopReason: stopReason,
                      startedAt: ISO8601DateFormatter().string(from: startedAt), start: start, end: stopped, queue: queue)
        }
        if let child, let exit = child.exit {
            report.command = RunReport.CommandResult(arguments: child.command, status: exit.shellStatus, ended: exit.description)
        }
        return Result(report: report, commandExit: child?.exit, failed: failed)
    }

    /// "queue 0", or "queues 0-3".
    private var queueNames: String { (ruleSet.queues == 1 ? "queue " : "queues ") + ruleSet.queueRange }

    /// How often a run whose command has exited checks whether its connections have closed.
    static let lingerCheckMilliseconds: Int64 = 20

    /// How long netfault may give no sign of life before its watchdog removes the hooks.
    static let stallMilliseconds: Int32 = 2000

    /// How often the controller checks that every queue's thread turned or waits for packets, and
    /// then beats. A thread that waits for packets does so in its socket's receive, or turns
    /// within `QueueSocket.longestWaitMilliseconds` (and the jiffies it is rounded to), so a
    /// thread that is merely idle never misses a check; the watchdog fires only after
    /// `stallMilliseconds` of missed checks in a row.
    static let beatMilliseconds: Int32 = 250

    /// The controller's own loop, while the queues' threads answer packets: signals, the watchdog,
    /// the wrapped command, the threads' failures, and once a second the engine's expiry and the
    /// status line. The watchdog hears a heartbeat only while every queue's thread is moving: a
    /// stuck queue stops it as surely as a stopped process.
    private func loop(engine: SharedEngine, signals: StopSignals, end: Instant?, child: ChildProcess?, linger: Duration,
                      watchdog: WatchdogLink, threads: [QueueThread], failures: Int32) throws -> String {
        var descriptors = [pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: watchdog.process.pidDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: failures, events: Int16(POLLIN), revents: 0)]
        let childIndex = descriptors.count
        if let child { descriptors.append(pollfd(fd: child.pidDescriptor, events: Int16(POLLIN), revents: 0)) }
        let start = monotonicNow()
        var nextTick = start + .seconds(1)
        var nextBeat = start
        var decisionsAtTick = 0
        var signalsReceived = 0
        var progressAtBeat = threads.map { _ in QueueThread.Progress(turns: -1, waitingForPackets: false) }
        // After the command exited: why the run will stop, and until when it watches the
        // connections close (their last FIN and ACK are part of what it reports).
        var lingering: (reason: String, until: Instant)?
        while true {
            var now = monotonicNow()
            if let end, now >= end { return lingering?.reason ?? "duration \(ruleSet.duration!.ruleText) elapsed" }
            if let lingering, now >= lingering.until || engine.openConnections == 0 { return lingering.reason }
            if now >= nextBeat {
                let progress = threads.map(\.progress)
                if Self.everyQueueIsLive(progress, since: progressAtBeat) { watchdog.beat() }
                progressAtBeat = progress
                nextBeat = now + .milliseconds(Int64(Self.beatMilliseconds))
            }
            var wake = min(nextTick, nextBeat, end ?? .distantFuture)
            if let lingering { wake = min(wake, lingering.until, now + .milliseconds(Self.lingerCheckMilliseconds)) }
            // Rounded up to the next millisecond, so a deadline is never polled for in a busy loop.
            let timeout = Int32(clamping: (max(0, wake.since(now)) + 999_999) / 1_000_000)
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("waiting for signals and the threads", call: "poll", errno: errno)
            }
            if descriptors[0].revents != 0, let signal = signals.take() {
                if let lingering { return "\(lingering.reason); \(signal.name) received while connections closed" }
                guard let child else { return "\(signal.name) received" }
                signalsReceived += 1
                if signalsReceived >= 3 {
                    child.kill()
                    return "\(signal.name) received a third time: \(child.command[0]) killed"
                }
                // Ctrl-C reached the command already (same process group); a kill aimed at netfault did not.
                if !signal.fromTerminal { child.forward(signal.number) }
                log("netfault: \(signal.name) passed on to \(child.command[0]); waiting for it to exit")
            }
            if descriptors[1].revents != 0 {
                watchdog.process.reap()
                throw WatchdogEnded(stallMilliseconds: Self.stallMilliseconds)
            }
            if descriptors[2].revents != 0, let failure = threads.lazy.compactMap(\.failure).first {
                throw failure
            }
            if let child, lingering == nil, descriptors[childIndex].revents != 0, let exit = child.reap() {
                let reason = "\(child.command[0]) \(exit)"
                guard linger > .zero else { return reason }
                lingering = (reason, monotonicNow() + linger)
                descriptors[childIndex].fd = -1  // poll skips it from now on
            }
            now = monotonicNow()
            if now >= nextTick {
                let status = engine.tick(at: now)
                progress?(Progress(elapsedSeconds: Double(now.since(start)) / 1e9, packetsPerSecond: status.decisions - decisionsAtTick,
                                   connections: status.connections, faults: status.faults))
                decisionsAtTick = status.decisions
                nextTick = now + .seconds(1)
            }
        }
    }

    /// Every queue's thread turned its loop since the last heartbeat, or waits for packets in its
    /// receive now (`QueueThread.progress`, then and now): none is stuck, so netfault may tell its
    /// watchdog it is alive.
    static func everyQueueIsLive(_ progress: [QueueThread.Progress], since previous: [QueueThread.Progress]) -> Bool {
        zip(progress, previous).allSatisfy { now, then in now.waitingForPackets || now.turns != then.turns }
    }

    /// After the faults are lifted (`duration`), a wrapped command still runs: wait for it,
    /// passing signals on; a third signal kills it.
    private func waitForExit(_ child: ChildProcess, signals: StopSignals) {
        var descriptors = [pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: child.pidDescriptor, events: Int16(POLLIN), revents: 0)]
        var signalsReceived = 0
        while child.reap() == nil {
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { break }
            if descriptors[0].revents != 0, let signal = signals.take() {
                signalsReceived += 1
                if signalsReceived >= 3 { child.kill() } else if !signal.fromTerminal { child.forward(signal.number) }
            }
        }
    }
}

/// The watchdog ended during the run: it removed the hooks because netfault gave no sign of life
/// (it was stopped or hung), or it was killed. Either way the faults are off; the run stops.
struct WatchdogEnded: Error, CustomStringConvertible {
    let stallMilliseconds: Int32

    var description: String {
        "the watchdog ended: netfault gave no sign of life for \(stallMilliseconds) ms (stopped or hung), or the watchdog was killed; the faults are off"
    }
}
