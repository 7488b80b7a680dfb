#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetFaultCore

extension Controller {
    /// Every stop, whatever its cause, in this order (with the open files reserved for it):
    /// 1. the watchdog is told netfault is stopping in order (it no longer expects heartbeats, but
    ///    removes the hooks if netfault ends before telling it they are gone);
    /// 2. the diversion goes off, the hooks still registered: the kernel drops every packet still
    ///    queued or held the moment a hook goes;
    /// 3. every queue's thread gives its last verdicts, side by side: what is queued is accepted,
    ///    what is still on its way in is waited for, held packets are released as their rule says;
    /// 4. the hooks go, their counters read for the report, and the watchdog hears they are gone;
    /// 5. the watchdog ends; the capture is closed (a capture not written whole fails the run);
    /// 6. a wrapped command still running is waited for, signals passed on;
    /// 7. the report is made.
    /// Each step runs even when an earlier one failed; failures are added to the stop reason.
    func stopInOrder(_ run: StartedRun, reason: String, failed: Bool) -> Result {
        var stopReason = reason
        var failed = failed
        let stopped = monotonicNow()
        run.reserve.release()
        mailbox?.close()
        run.watchdog.stopping()
        do {
            try run.hooks.detach()
        } catch {
            stopReason += "; stopping the diversion failed: \(error)"
            failed = true
        }
        for thread in run.threads { thread.requestFinish() }
        for thread in run.threads { thread.awaitFinish() }
        var diverted: Int?
        do {
            diverted = try run.hooks.removeCounting().map { $0 + run.divertedByReplacedRules }
            run.watchdog.hooksRemoved()
        } catch {
            stopReason += "; removing the hooks failed: \(error) — \(run.hooks.leftoverAdvice)"
            failed = true
        }
        run.watchdog.finish()
        if let capture = run.capture {
            // Every packet is in (the queues are answered): a capture that could not be written
            // whole fails the run.
            run.capture = nil
            do {
                try capture.close()
            } catch {
                stopReason += "; \(error)"
                failed = true
            }
        }
        let queue = RunReport.QueueStatistics(combining: run.workers.map(\.statistics), diverted: diverted)
        if let child = run.child, child.reap() == nil {
            log("netfault: faults lifted; waiting for \(child.command[0]) (pid \(child.pid)) to exit")
            waitForExit(child, signals: run.signals)
        }
        var report = run.engine.withEngine { engine in
            RunReport(engine: engine, ruleFile: ruleFile, stopReason: stopReason,
                      startedAt: ISO8601DateFormatter().string(from: run.startedAt), start: run.start, end: stopped, queue: queue)
        }
        if let child = run.child, let exit = child.exit {
            report.command = RunReport.CommandResult(arguments: child.command, status: exit.shellStatus, ended: exit.description)
        }
        return Result(report: report, commandExit: run.child?.exit, failed: failed)
    }

    /// After the faults are lifted (`duration`), a wrapped command still runs: wait for it,
    /// passing signals on; a third signal kills it.
    private func waitForExit(_ child: ChildProcess, signals: StopSignals) {
        var events = PollSet<LoopEvent>([.signal: signals.fileDescriptor, .commandExited: child.pidDescriptor])
        var signalsReceived = 0
        while child.reap() == nil {
            guard (try? events.wait(timeoutMilliseconds: -1, "waiting for the command")) != nil else { break }
            if events.isReady(.signal), let signal = signals.take() {
                signalsReceived += 1
                if signalsReceived >= 3 { child.kill() } else if !signal.fromTerminal { child.forward(signal.number) }
            }
        }
    }
}
