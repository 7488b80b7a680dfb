#if canImport(Glibc)
import Glibc
#endif
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

    /// Where `--pcap` writes the faulted connections' packets; nil for no capture.
    public let capturePath: String?
    /// Once started, run as this user (keeping CAP_NET_ADMIN and CAP_NET_RAW); nil: stay root.
    public var user: String?
    /// Where the hooks go: nftables owner tables, or iptables chains.
    public var hookBackend: HookBackend = .auto

    public init(ruleSet: RuleSet, ruleFile: String, seed: UInt64, capturePath: String? = nil, log: @escaping (String) -> Void,
                progress: ((Progress) -> Void)? = nil) {
        self.ruleSet = ruleSet
        self.ruleFile = ruleFile
        self.seed = seed
        self.capturePath = capturePath
        self.log = log
        self.progress = progress
    }

    /// Runs until stopped; with `command`, runs it once the hooks are in place and stops when it
    /// exits, passing SIGINT, SIGTERM and SIGHUP on to it. Throws only when nothing was installed
    /// (a refusal at start); an error after start stops the run in order and is reported.
    public func run(command: [String]? = nil) throws -> Result {
        let signals = try StopSignals()
        let injector = try PacketInjector()
        // Headers are all the engine needs unless a rule reads or rebuilds payload, or --pcap keeps it.
        let socket = try QueueSocket(queue: ruleSet.queue, copyBytes: ruleSet.needsWholePackets || capturePath != nil
                                     ? QueueSocket.wholePacket : QueueSocket.headerCopyBytes)
        let parking = ruleSet.canHold ? try ParkingLot(queue: ruleSet.queue, maximumHeld: ruleSet.maxHeld) : nil
        let capture = try capturePath.map { try PcapWriter(path: $0) }
        defer { capture?.close() }
        let hooks = try InstalledHooks.install(DiversionPlan(ruleSet), backend: hookBackend, log: log)
        let watchdog: WatchdogLink
        do {
            watchdog = try WatchdogLink(queue: ruleSet.queue, stallMilliseconds: Self.stallMilliseconds, ownerSocket: hooks.ownerSocket)
        } catch {
            _ = try? hooks.remove()
            throw error
        }
        log("netfault: watchdog pid \(watchdog.process.pid) removes the hooks if netfault dies or hangs for \(Self.stallMilliseconds) ms")

        var state = RunState(engine: Engine(ruleSet: ruleSet, seed: seed), socket: socket, injector: injector, parking: parking)
        if let capture {
            state.captureFile = capture
            state.captureChooser = FaultedFlowCapture()
        }
        let start = monotonicNow()
        let startedAt = Date()
        let end = ruleSet.duration.map { start + $0 }
        log("netfault: queue \(ruleSet.queue) diverting at \(ruleSet.hooks.map(\.rawValue).joined(separator: ", "))"
            + "\(socket.copiesWholePackets ? "" : " (copying headers only: no rule needs payload)")"
            + "\(parking.map { "; held packets wait in queue \($0.socket.queue) (up to \(ruleSet.maxHeld))" } ?? ""); seed \(seed); "
            + (end == nil ? "Ctrl-C to stop" : "for \(ruleSet.duration!.ruleText)"))

        var stopReason: String
        var failed = false
        var child: ChildProcess?
        do {
            // The command runs with the privileges netfault was given; netfault keeps only what it
            // still needs: CAP_NET_ADMIN to remove its hooks, CAP_NET_RAW to inject.
            if let command { child = try ChildProcess(command) }
            try Privileges.keepOnlyNetworkAdministration(user: user)
            log("netfault: keeping CAP_NET_ADMIN and CAP_NET_RAW only\(user.map { ", as user \($0)" } ?? "")")
            stopReason = try loop(&state, signals: signals, end: end, child: child, watchdog: watchdog)
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
        state.finish()
        do {
            diverted = try hooks.removeCounting()
        } catch {
            stopReason += "; removing the hooks failed: \(error) — \(hooks.leftoverAdvice)"
            failed = true
        }
        watchdog.finish()
        let queue = statistics(state, socket: socket, injector: injector, diverted: diverted)
        socket.close()
        parking?.socket.close()
        if let child, child.reap() == nil {
            log("netfault: faults lifted; waiting for \(child.command[0]) (pid \(child.pid)) to exit")
            waitForExit(child, signals: signals)
        }
        let report = RunReport(engine: state.engine, ruleFile: ruleFile, stopReason: stopReason,
                               startedAt: ISO8601DateFormatter().string(from: startedAt), start: start, end: stopped, queue: queue)
        return Result(report: report, commandExit: child?.exit, failed: failed)
    }

    private func statistics(_ state: RunState, socket: QueueSocket, injector: PacketInjector, diverted: Int?) -> RunReport.QueueStatistics {
        var queue = RunReport.QueueStatistics()
        queue.queue = ruleSet.queue
        queue.packets = state.received
        queue.verdicts = state.verdicts + (state.parking?.verdicts ?? 0)
        queue.heldPeak = state.parking?.held.peak ?? 0
        queue.heldReleasedEarly = (state.parking).map { $0.held.releasedEarly + $0.passedByKernel } ?? 0
        queue.unreadable = state.unreadable
        queue.injected = injector.sent
        queue.injectionFailures = injector.failures
        let kernel = QueueCounters.read(queue: ruleSet.queue)
        queue.kernelDropped = kernel.map { Int($0.queueDropped) }
        queue.receiveBufferDropped = kernel.map { Int($0.userDropped) + socket.overruns }
        if let diverted {
            // Diverted packets that were neither received nor dropped by the kernel went through
            // unseen: the queue was full and fail-open let them pass.
            queue.escapedFailOpen = max(0, diverted - state.received - (queue.kernelDropped ?? 0) - (queue.receiveBufferDropped ?? 0))
        }
        return queue
    }

    /// How long netfault may give no sign of life before its watchdog removes the hooks.
    static let stallMilliseconds: Int32 = 2000

    private func loop(_ state: inout RunState, signals: StopSignals, end: Instant?, child: ChildProcess?,
                      watchdog: WatchdogLink) throws -> String {
        var descriptors = [pollfd(fd: state.socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: watchdog.process.pidDescriptor, events: Int16(POLLIN), revents: 0)]
        // Nothing should arrive in the parking queue unasked; what does is let go at once.
        if let parking = state.parking { descriptors.append(pollfd(fd: parking.socket.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        let childIndex = descriptors.count
        if let child { descriptors.append(pollfd(fd: child.pidDescriptor, events: Int16(POLLIN), revents: 0)) }
        let start = monotonicNow()
        var nextTick = start + .seconds(1)
        var nextBeat = start
        var packetsAtTick = 0
        var signalsReceived = 0
        while true {
            var now = monotonicNow()
            if let end, now >= end { return "duration \(ruleSet.duration!.ruleText) elapsed" }
            if now >= nextBeat {
                watchdog.beat()
                nextBeat = now + .milliseconds(250)
            }
            var wake = min(nextTick, nextBeat, end ?? .distantFuture)
            if let due = state.parking?.nextDeadline { wake = min(wake, due) }
            // Rounded up to the next millisecond, so a deadline is never polled for in a busy loop.
            let timeout = Int32(clamping: (max(0, wake.since(now)) + 999_999) / 1_000_000)
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("waiting for packets", call: "poll", errno: errno)
            }
            if descriptors[1].revents != 0, let signal = signals.take() {
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
            if descriptors[2].revents != 0 {
                watchdog.process.reap()
                throw WatchdogEnded(stallMilliseconds: Self.stallMilliseconds)
            }
            if let child, descriptors[childIndex].revents != 0, let exit = child.reap() {
                return "\(child.command[0]) \(exit)"
            }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                // Bounded, so that a flood never keeps the heartbeat from going out.
                try state.socket.drain(limit: 4096) { packet in try state.handle(packet) }
                try state.flushAccepted()
            }
            try state.parking?.collect()
            now = monotonicNow()
            try state.parking?.releaseDue(at: now)
            if now >= nextTick {
                state.engine.expire(at: now)
                progress?(Progress(elapsedSeconds: Double(now.since(start)) / 1e9, packetsPerSecond: state.received - packetsAtTick,
                                   connections: state.engine.trackedFlowCount,
                                   faults: state.engine.ruleStatistics.reduce(0) { $0 + $1.fired }))
                packetsAtTick = state.received
                nextTick = now + .seconds(1)
            }
        }
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

/// What the queue loop owns while it runs.
struct RunState {
    var engine: Engine
    let socket: QueueSocket
    let injector: PacketInjector
    /// Where held packets wait; nil when no rule holds.
    var parking: ParkingLot?
    /// `--pcap`: what to write, and the file.
    var captureChooser: FaultedFlowCapture?
    var captureFile: PcapWriter?
    var received = 0
    /// Verdicts given in the diverting queue, moves to the parking queue not counted.
    var verdicts = 0
    var unreadable = 0
    /// Accepted packets whose verdict is still to go: one NFQNL_MSG_VERDICT_BATCH accepts every
    /// queued packet up to the highest id. Every packet read before it has had its own verdict
    /// already (drops, replacements and moves to the parking queue go at once), so the batch
    /// accepts only what it should.
    var batchedThrough: UInt32?
    var batchedCount = 0

    mutating func handle(_ queued: QueuedPacket) throws {
        received += 1
        let packet: Packet
        do {
            packet = try Packet(parsing: queued.bytes, originalLength: queued.originalLength)
        } catch {
            unreadable += 1
            try accept(queued.id)
            return
        }
        let now = monotonicNow()
        let decision = engine.process(packet, at: now, checksum: queued.checksumNotReady ? .partial : .full)
        if let file = captureFile { record(queued.bytes, packet, decision, at: now, to: file) }
        switch decision.verdict {
        case .accept: try accept(queued.id)
        case .drop: try verdict(queued.id, .drop)
        case .acceptAfter(let deadline): try hold(queued, until: deadline)
        case .holdUntilEnd: try hold(queued, until: nil)
        case .replace(let bytes):
            try bytes.withUnsafeBytes { replacement in try verdict(queued.id, .accept, replacement: replacement) }
        }
        for injection in decision.injections { injector.send(injection.bytes) }
    }

    /// Writes the packet, its replacement and the injections to the capture when their connection is faulted.
    mutating func record(_ bytes: UnsafeRawBufferPointer, _ packet: Packet, _ decision: Decision, at now: Instant, to file: PcapWriter) {
        guard let transport = packet.transport, captureChooser != nil else { return }
        let faulted = decision.rule.map { engine.ruleSet.rules[$0].action != .pass } ?? false
        captureChooser!.seen(bytes, key: FlowKey(packet, transport: transport), faulted: faulted, at: now, write: file.write)
        if case .replace(let replacement) = decision.verdict { captureChooser!.emitted(replacement, at: now, write: file.write) }
        for injection in decision.injections { captureChooser!.emitted(injection.bytes, at: now, write: file.write) }
    }

    /// Accepts packet `id` in the next batch verdict.
    mutating func accept(_ id: UInt32) throws {
        batchedThrough = id
        batchedCount += 1
    }

    /// Sends the batch verdict for the packets `accept` collected.
    mutating func flushAccepted() throws {
        guard let through = batchedThrough else { return }
        batchedThrough = nil
        try socket.acceptAll(through: through)
        verdicts += batchedCount
        batchedCount = 0
    }

    mutating func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer? = nil) throws {
        try socket.verdict(id, verdict, replacement: replacement)
        verdicts += 1
    }

    /// Moves the packet to the parking queue until `deadline` (nil: the run's end). Only a rule
    /// set that holds decides so, and such a rule set always has a parking queue.
    mutating func hold(_ queued: QueuedPacket, until deadline: Instant?) throws {
        guard parking != nil else { return try accept(queued.id) }
        try parking!.park(queued, until: deadline, from: socket)
    }

    /// The run is over and nothing is diverted any more: accept what is still queued, release what
    /// is held (before the hooks go, which would drop them).
    /// Verdict failures here are not fatal: the kernel passes what it cannot match (bypass).
    mutating func finish() {
        try? flushAccepted()
        var pending: [(UInt32, QueueVerdict)] = []
        _ = try? socket.drain { packet in pending.append((packet.id, .accept)) }
        received += pending.count
        for (id, verdict) in pending { try? self.verdict(id, verdict) }
        parking?.releaseAll()
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
