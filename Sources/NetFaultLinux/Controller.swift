#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore

/// `netfault apply`: binds the queue, installs the hooks, runs every queued packet through the
/// engine and carries out its decisions, until a signal, the rule set's `duration`, or a fatal
/// error. Every stop is the same: hooks removed, packets still queued accepted, held packets
/// released as their rule says, a summary returned. Every packet id gets exactly one verdict.
public final class Controller {
    public struct Summary {
        public var stopReason: String
        public var seed: UInt64
        public var engine: Engine
        public var verdicts = 0
        public var packetsReceived = 0
        /// Packets the codec could not read (accepted untouched).
        public var unreadable = 0
        public var injected = 0
        public var injectionFailures = 0
        public var heldPeak = 0
        public var overruns = 0
        public var kernel: QueueCounters?
    }

    public let ruleSet: RuleSet
    public let seed: UInt64
    private let log: (String) -> Void
    private let installer = HookInstaller()

    public init(ruleSet: RuleSet, seed: UInt64, log: @escaping (String) -> Void) {
        self.ruleSet = ruleSet
        self.seed = seed
        self.log = log
    }

    /// Runs until stopped. Throws only when nothing was installed (a refusal at start); an error
    /// after start stops the run in order and is reported in the summary's stop reason.
    public func run() throws -> Summary {
        let signals = try StopSignals()
        let injector = try PacketInjector()
        let socket = try QueueSocket(queue: ruleSet.queue)
        let hooks = HookRules(DiversionPlan(ruleSet))
        try installer.install(hooks)

        var state = RunState(engine: Engine(ruleSet: ruleSet, seed: seed), socket: socket, injector: injector)
        let start = monotonicNow()
        let end = ruleSet.duration.map { start + $0 }
        log("netfault: queue \(ruleSet.queue) diverting at \(ruleSet.hooks.map(\.rawValue).joined(separator: ", ")); seed \(seed); \(end == nil ? "Ctrl-C to stop" : "for \(ruleSet.duration!.ruleText)")")

        var stopReason: String
        do {
            stopReason = try loop(&state, signals: signals, end: end)
        } catch {
            stopReason = "error: \(error)"
        }
        var removalError: Error?
        do { try installer.remove(queue: ruleSet.queue) } catch { removalError = error }
        state.finish()
        var summary = Summary(stopReason: stopReason, seed: seed, engine: state.engine)
        summary.verdicts = state.verdicts
        summary.packetsReceived = state.received
        summary.unreadable = state.unreadable
        summary.injected = injector.sent
        summary.injectionFailures = injector.failures
        summary.heldPeak = state.held.peak
        summary.overruns = socket.overruns
        summary.kernel = QueueCounters.read(queue: ruleSet.queue)
        socket.close()
        if let removalError {
            summary.stopReason += "; removing the hooks failed: \(removalError) — run `netfault cleanup --queue \(ruleSet.queue)`"
        }
        return summary
    }

    private func loop(_ state: inout RunState, signals: StopSignals, end: Instant?) throws -> String {
        var descriptors = [pollfd(fd: state.socket.fileDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: signals.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        var nextExpiry = monotonicNow() + .seconds(1)
        while true {
            var now = monotonicNow()
            if let end, now >= end { return "duration \(ruleSet.duration!.ruleText) elapsed" }
            var wake = min(nextExpiry, end ?? .distantFuture)
            if let due = state.held.nextDeadline { wake = min(wake, due) }
            // Rounded up to the next millisecond, so a deadline is never polled for in a busy loop.
            let timeout = Int32(clamping: (max(0, wake.since(now)) + 999_999) / 1_000_000)
            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemError("waiting for packets", call: "ppoll", errno: errno)
            }
            if descriptors[1].revents != 0, let signal = signals.take() { return "\(signal) received" }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                try state.socket.drain { packet in try state.handle(packet) }
            }
            now = monotonicNow()
            try state.releaseDue(at: now)
            if now >= nextExpiry {
                state.engine.expire(at: now)
                nextExpiry = now + .seconds(1)
            }
        }
    }
}

/// What the queue loop owns while it runs.
struct RunState {
    var engine: Engine
    let socket: QueueSocket
    let injector: PacketInjector
    var held = HoldQueue(capacity: 4096)
    var received = 0
    var verdicts = 0
    var unreadable = 0

    mutating func handle(_ queued: QueuedPacket) throws {
        received += 1
        let packet: Packet
        do {
            packet = try Packet(parsing: queued.bytes)
        } catch {
            unreadable += 1
            try verdict(queued.id, .accept)
            return
        }
        let decision = engine.process(packet, at: monotonicNow(), checksum: queued.checksumNotReady ? .partial : .full)
        switch decision.verdict {
        case .accept: try verdict(queued.id, .accept)
        case .drop: try verdict(queued.id, .drop)
        case .acceptAfter(let deadline): held.hold(queued.id, until: deadline)
        case .holdUntilEnd: held.hold(queued.id, until: nil)
        case .replace(let bytes):
            try bytes.withUnsafeBytes { replacement in try verdict(queued.id, .accept, replacement: replacement) }
        }
        for injection in decision.injections { injector.send(injection.bytes) }
    }

    mutating func verdict(_ id: UInt32, _ verdict: QueueVerdict, replacement: UnsafeRawBufferPointer? = nil) throws {
        try socket.verdict(id, verdict, replacement: replacement)
        verdicts += 1
    }

    mutating func releaseDue(at now: Instant) throws {
        var due: [UInt32] = []
        held.releaseDue(at: now) { due.append($0.packetID) }
        for id in due { try verdict(id, .accept) }
    }

    /// The run is over and the hooks are gone: accept what is still queued, release what is held.
    /// Verdict failures here are not fatal: the kernel passes what it cannot match (bypass).
    mutating func finish() {
        var pending: [(UInt32, QueueVerdict)] = []
        _ = try? socket.drain { packet in pending.append((packet.id, .accept)) }
        received += pending.count
        held.releaseAll { pending.append(($0.packetID, $0.acceptAtEnd ? .accept : .drop)) }
        for (id, verdict) in pending { try? self.verdict(id, verdict) }
    }
}
