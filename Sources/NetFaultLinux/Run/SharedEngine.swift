#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore
import Synchronization

/// The engine and the `--pcap` capture, shared by the threads of a run with several queues. The
/// kernel keeps each connection on one queue, but rules count connections across all of them
/// and an ICMP error can arrive on another queue than the connection it reports, so there is one
/// engine, behind a lock. A decision takes about 1 µs of the 10 µs a forwarded packet costs its
/// thread (the verdict's system call carries the packet on through the kernel), so the lock
/// leaves most of the work parallel.
final class SharedEngine: @unchecked Sendable {
    /// A futex lock whose uncontended path is one atomic instruction inlined here (a pthread mutex
    /// was two calls into libc per packet). Guards the state below, not a value of its own.
    private let mutex = Mutex<Void>(())
    // Touched only under `mutex`: the run-time exclusivity checks (a call into the runtime per
    // access, on every packet) could never fire, and are off for the per-packet state.
    @exclusivity(unchecked) private var engine: Engine
    @exclusivity(unchecked) private var captureChooser: FaultedFlowCapture?
    private let captureFile: PcapWriter?
    /// Packets decided so far, for the once-a-second status line.
    @exclusivity(unchecked) private var decisions = 0
    /// The latest time the engine ran at (a packet judged, or a tick).
    @exclusivity(unchecked) private var latest = Instant.zero
    /// Packets the engine asked to inject (RSTs, ICMP errors, copies).
    @exclusivity(unchecked) private var injectionsDecided = 0
    /// Per queue (by index from the first), packets by what was decided: `Fate.allCases` in order.
    @exclusivity(unchecked) private var fates: [Int]

    /// What became of a packet, for `netfault_verdicts_total{verdict}`.
    enum Fate: Int, CaseIterable {
        case accept, drop, replace, hold, unreadable

        var name: String {
            switch self {
            case .accept: return "accept"
            case .drop: return "drop"
            case .replace: return "replace"
            case .hold: return "hold"
            case .unreadable: return "unreadable"
            }
        }

        init(_ verdict: Decision.Verdict) {
            switch verdict {
            case .accept: self = .accept
            case .drop: self = .drop
            case .replace: self = .replace
            case .acceptAfter, .holdUntilEnd: self = .hold
            }
        }
    }

    init(_ engine: Engine, capture: PcapWriter?, queues: Int = 1) {
        self.engine = engine
        captureFile = capture
        captureChooser = capture == nil ? nil : FaultedFlowCapture()
        fates = Array(repeating: 0, count: max(1, queues) * Fate.allCases.count)
    }

    /// Runs `packet` (as queued: `bytes`) through the engine at `time` (when its read returned), and
    /// writes it to the capture when its connection is faulted. Queues read on threads of their
    /// own: a time earlier than one already judged counts as that one, so the engine's clock never
    /// runs back.
    ///
    /// `queueIndex`: which of the run's queues read it, from 0.
    func decide(_ packet: Packet, bytes: UnsafeRawBufferPointer, at time: Instant, queueIndex: Int = 0) -> Decision {
        locked {
            let now = advanceClock(to: time)
            let decision = engine.process(packet, at: now)
            decisions += 1
            fates[queueIndex &* Fate.allCases.count &+ Fate(decision.verdict).rawValue] &+= 1
            if decision.hasInjections { injectionsDecided &+= decision.injections.count }
            if let captureFile { record(bytes, packet, decision, at: now, to: captureFile) }
            return decision
        }
    }

    /// Once a second: forgets the connections idle past their timeout, and returns the packets
    /// decided so far, the connections tracked, and the faults applied, for the status line.
    func tick(at time: Instant) -> (decisions: Int, connections: Int, faults: Int) {
        locked {
            engine.expire(at: advanceClock(to: time))
            return (decisions, engine.trackedFlowCount, engine.ruleStatistics.reduce(0) { $0 + $1.fired })
        }
    }

    /// A packet that did not parse, accepted untouched, on queue `queueIndex`.
    func noteUnreadable(queueIndex: Int) {
        locked { fates[queueIndex &* Fate.allCases.count &+ Fate.unreadable.rawValue] &+= 1 }
    }

    /// Packets the engine asked to inject so far, for the control API.
    var injections: Int { locked { injectionsDecided } }

    /// Per queue, from the first, the packets so far by fate (`Fate.allCases` in order).
    var packetsByFate: [[Int]] {
        locked { stride(from: 0, to: fates.count, by: Fate.allCases.count).map { Array(fates[$0..<$0 + Fate.allCases.count]) } }
    }

    /// Puts `ruleSet` in force from the next packet on (`Engine.replaceRules`), on every queue at once.
    func replaceRules(with ruleSet: RuleSet) {
        locked { engine.replaceRules(with: ruleSet) }
    }

    /// A mark at `time` (`Engine.mark`), on the engine's clock.
    func mark(_ name: String, at time: Instant) -> ReportMark {
        locked { engine.mark(name, at: advanceClock(to: time)) }
    }

    /// The engine itself, for the report.
    func withEngine<T>(_ body: (inout Engine) throws -> T) rethrows -> T {
        try locked { try body(&engine) }
    }

    /// TCP connections seen from their start that are still open: neither both FINs nor an RST
    /// has ended them. `run` lingers after its command exits until there are none.
    var openConnections: Int {
        locked { engine.flows.count { $0.transport == .tcp && $0.sawOpening && !$0.isClosed } }
    }

    /// The engine's time for `time`: never earlier than a time it has already judged at. Under the lock.
    private func advanceClock(to time: Instant) -> Instant {
        latest = max(time, latest)
        return latest
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        mutex._unsafeLock()
        defer { mutex._unsafeUnlock() }
        return try body()
    }

    /// Writes the packet, its replacement and the injections to the capture when their connection is faulted.
    private func record(_ bytes: UnsafeRawBufferPointer, _ packet: Packet, _ decision: Decision, at now: Instant, to file: PcapWriter) {
        guard let transport = packet.transport, captureChooser != nil else { return }
        let faulted = decision.rule.map { engine.knownRules[$0].action.kind != .pass } ?? false
        captureChooser!.seen(bytes, key: FlowKey(packet, transport: transport), faulted: faulted, at: now, write: file.write)
        if case .replace(let replacement) = decision.verdict { captureChooser!.emitted(replacement, at: now, write: file.write) }
        for injection in decision.injections { captureChooser!.emitted(injection.bytes, at: now, write: file.write) }
    }
}
