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
    let log: (String) -> Void
    let progress: ((Progress) -> Void)?

    /// Where `--pcap` writes the faulted connections' packets, opened already; nil for no capture.
    public let captureFile: OutputFile?
    /// Once started, run as this user (keeping CAP_NET_ADMIN and CAP_NET_RAW); nil: stay root.
    public var user: String?
    /// Where the hooks go: nftables owner tables, or iptables chains.
    public var hookBackend: HookBackend = .auto
    /// The network namespace to fault (`--netns`) instead of netfault's own; nil: its own.
    public var namespace: ResolvedNamespace?
    /// What the queues are bound for; nil: what the rule set needs (rules that need more are
    /// refused later). `QueueCapabilities.anyRule` takes any rule the control API may add.
    public var capabilities: QueueCapabilities?
    /// Where the control API's requests arrive; nil: none (the run's rules never change).
    public var mailbox: ControlMailbox?

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
        // Entered first: the queue, the hooks, the raw sockets and the watchdog are the target's.
        let entered = try namespace.map { try NetworkNamespace(entering: $0) }
        if let namespace { log("netfault: in the network namespace of \(namespace.description)") }
        let run = try start()
        if let pid = namespace?.pid {
            let descriptor = pidfd_open(pid, 0)
            guard descriptor >= 0 else {
                if errno == ESRCH, let namespace { return stopInOrder(run, reason: Self.targetGone(namespace), failed: false) }
                let error = SystemError("watching the process whose namespace is faulted, pid \(pid)", call: "pidfd_open", errno: errno)
                return stopInOrder(run, reason: "error: \(error)", failed: true)
            }
            run.targetProcess = descriptor
        }
        var stopReason: String
        var failed = false
        do {
            // The command runs with the privileges netfault was given, where netfault was started;
            // netfault keeps only what it still needs: CAP_NET_ADMIN to remove its hooks,
            // CAP_NET_RAW to inject.
            if let command { run.child = try entered.map { try $0.inCallersNamespace { try ChildProcess(command) } } ?? ChildProcess(command) }
            try Privileges.keepOnlyNetworkAdministration(user: user)
            log("netfault: keeping CAP_NET_ADMIN and CAP_NET_RAW only\(user.map { ", as user \($0)" } ?? "")")
            // Capabilities are a thread's own: the queue threads start with what is left.
            for thread in run.threads { try thread.start() }
            stopReason = try loop(run, linger: linger)
        } catch {
            stopReason = "error: \(error)"
            failed = true
        }
        return withExtendedLifetime(entered) { stopInOrder(run, reason: stopReason, failed: failed) }
    }

    /// Binds every queue, then installs the hooks with the watchdog: every queue is bound before
    /// any packet is diverted to it, and the hooks never stand without a watchdog.
    /// A refusal on the way undoes what was done and throws.
    private func start() throws -> StartedRun {
        let signals = try StopSignals()
        let reserve = try DescriptorReserve()
        let capture = try captureFile.map { try PcapWriter(file: $0) }
        var handedOver = false
        defer { if !handedOver { try? capture?.close() } }
        let engine = SharedEngine(Engine(ruleSet: ruleSet, seed: seed), capture: capture, queues: ruleSet.queues)
        var capabilities = capabilities ?? QueueCapabilities(for: ruleSet, capture: captureFile != nil)
        if captureFile != nil { capabilities.wholePackets = true }
        if let refusal = capabilities.refusal(of: ruleSet) { throw ControllerRefusal(message: refusal) }
        let workers = try (0..<ruleSet.queues).map { index in
            try LiveQueueWorker(queue: ruleSet.queue + UInt16(index), queueIndex: index, capabilities: capabilities,
                                maximumHeld: ruleSet.maxHeld, engine: engine)
        }
        defer { if !handedOver { for worker in workers { worker.close() } } }
        let failures = eventfd(0, Int32(EFD_CLOEXEC))
        guard failures >= 0 else { throw SystemError("starting the queue threads", call: "eventfd", errno: errno) }
        defer { if !handedOver { Glibc.close(failures) } }
        let threads = workers.map { QueueThread($0, failures: failures) }
        let (hooks, watchdog) = try InstalledHooks.install(DiversionPlan(ruleSet), backend: hookBackend, log: log) { ownerSocket in
            try WatchdogLink(queue: ruleSet.queue, stallMilliseconds: Self.stallMilliseconds, ownerSocket: ownerSocket, user: user)
        }
        // The stall clock starts now: installing may take seconds, and the loop's first beat a moment.
        watchdog.beat()
        handedOver = true
        log("netfault: watchdog pid \(watchdog.process.pid) removes the hooks if netfault dies or hangs for \(Self.stallMilliseconds) ms")
        let first = workers[0]
        log("netfault: \(queueNames) diverting at \(ruleSet.hooks.map(\.rawValue).joined(separator: ", "))"
            + "\(first.socket.copiesWholePackets ? "" : " (copying headers only: no rule needs payload)")"
            + "\(first.socket.takesSuperPackets ? "" : " (as wire-size segments: GSO super-packets cut by the kernel)")"
            + (first.parking == nil ? "" : "; held packets wait in queue\(ruleSet.queues > 1 ? "s" : "") \(ruleSet.parkingQueueNames) (up to \(ruleSet.maxHeld) each)")
            + "; seed \(seed); " + (ruleSet.duration.map { "for \($0.ruleText)" } ?? "Ctrl-C to stop"))
        return StartedRun(signals: signals, engine: engine, workers: workers, threads: threads, failures: failures,
                          hooks: hooks, watchdog: watchdog, reserve: reserve, capture: capture, capabilities: capabilities)
    }

    /// "queue 0", or "queues 0-3".
    private var queueNames: String { (ruleSet.queues == 1 ? "queue " : "queues ") + ruleSet.queueRange }

    /// How long netfault may give no sign of life before its watchdog removes the hooks.
    static let stallMilliseconds: Int32 = 2000
}

/// A start refused before anything was installed: the rule set needs more than the queues were asked to give.
struct ControllerRefusal: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The watchdog ended during the run: it removed the hooks because netfault gave no sign of life
/// (it was stopped or hung), or it was killed. Either way the faults are off; the run stops.
struct WatchdogEnded: Error, CustomStringConvertible {
    let stallMilliseconds: Int32

    var description: String {
        "the watchdog ended: netfault gave no sign of life for \(stallMilliseconds) ms (stopped or hung), or the watchdog was killed; the faults are off"
    }
}
