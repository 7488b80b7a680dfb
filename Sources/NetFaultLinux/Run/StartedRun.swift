#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetFaultCore

/// What a run holds between its start and its stop sequence: everything the stop must undo.
/// The queues, the failure descriptor and an unclosed capture are released when it goes.
final class StartedRun {
    let signals: StopSignals
    let engine: SharedEngine
    let workers: [LiveQueueWorker]
    let threads: [QueueThread]
    /// An eventfd a queue's thread writes to when it fails.
    let failures: Int32
    let hooks: InstalledHooks
    let watchdog: WatchdogLink
    /// Open files kept for the stop (`OpenFileBudget`).
    let reserve: DescriptorReserve
    /// The `--pcap` capture; nil once closed by the stop (or for none).
    var capture: PcapWriter?
    /// The wrapped command, once started (`netfault run`).
    var child: ChildProcess?
    /// A pidfd of the process whose namespace is faulted (`--netns pid:`, `container:`).
    var targetProcess: Int32?
    /// What the queues are bound for: a rule that needs more is refused.
    let capabilities: QueueCapabilities
    /// Diverted packets counted by iptables rules that a change of rules removed.
    var divertedByReplacedRules = 0
    let start: Instant
    let startedAt: Date

    init(signals: StopSignals, engine: SharedEngine, workers: [LiveQueueWorker], threads: [QueueThread], failures: Int32,
         hooks: InstalledHooks, watchdog: WatchdogLink, reserve: DescriptorReserve, capture: PcapWriter?,
         capabilities: QueueCapabilities) {
        self.capabilities = capabilities
        self.signals = signals
        self.engine = engine
        self.workers = workers
        self.threads = threads
        self.failures = failures
        self.hooks = hooks
        self.watchdog = watchdog
        self.reserve = reserve
        self.capture = capture
        start = monotonicNow()
        startedAt = Date()
    }

    deinit {
        try? capture?.close()
        if let targetProcess { close(targetProcess) }
        for worker in workers { worker.close() }
        close(failures)
    }
}
