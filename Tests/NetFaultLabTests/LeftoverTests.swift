import Foundation
import Testing

extension LabTests {
    /// Nothing left behind on any path with iptables chains (`--hooks iptables`, which outlive
    /// netfault, unlike owner tables): a SIGKILL while the chain is being installed or just after
    /// the stop began, a second Ctrl-C to the whole process group, a low open-file limit, and
    /// `cleanup` run while netfault still runs.
    @Suite struct Leftovers {
        static let iptables = ["--report", "json", "--hooks", "iptables"]

        /// `count` rules, one per server port from 10000, each dropping: iptables-restore takes
        /// about a second per 2000 to install them, a window to act in.
        static func manyRules(_ count: Int) -> String {
            "hooks: [forward]\nrules:\n" + (0..<count).map { "  - {name: port-\($0), match: {server_port: \(10000 + $0)}, action: drop}\n" }.joined()
        }

        /// Whether netfault's chains are gone from the middlebox within `timeout` seconds.
        func chainsGone(_ lab: Lab, within timeout: Double) throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try lab.netfaultRules(in: lab.middlebox).isEmpty { return true }
                usleep(50_000)
            }
            return false
        }

        /// Killed while iptables-restore is still adding its rules: the watchdog, started before
        /// the first rule, removes the chain (before, it did not exist yet: the chain stayed).
        ///
        /// The chain is seen by polling iptables-save; on a loaded machine the install can finish
        /// before a poll sees it, so a run that was too late is stopped in order and tried again
        /// with twice the rules (5 000, 10 000, 20 000).
        @Test func aKillDuringTheInstallLeavesNothing() throws {
            try withLab { lab in
                var killedDuringTheInstall = false
                for count in [5000, 10_000, 20_000] where !killedDuringTheInstall {
                    let rules = try lab.file("many-\(count).yaml", Self.manyRules(count))
                    let netfault = try lab.start(lab.middlebox, [Lab.netfaultPath, "apply", rules] + Self.iptables)
                    var appeared = false
                    for _ in 0..<1000 where !appeared && netfault.isRunning {
                        appeared = try lab.run(lab.middlebox, ["iptables-save", "-t", "mangle"]).output.contains("NETFAULT-0")
                    }
                    #expect(appeared, "\(netfault.errors)")
                    guard !netfault.errors.contains("diverting") else {
                        #expect(lab.stop(netfault).status == 0)
                        continue
                    }
                    killedDuringTheInstall = true
                    netfault.kill()
                    #expect(try chainsGone(lab, within: 6), "\((try? lab.netfaultRules(in: lab.middlebox))?.count ?? -1) rules left; \(netfault.errors)")
                }
                #expect(killedDuringTheInstall, "every install finished before a poll saw its chain")
            }
        }

        /// SIGKILL 20 ms after SIGINT, as `timeout -k`, systemd and CI cancellation do: the
        /// watchdog removes what the stop had no time to (before, it had heard "stopping" and
        /// ended without removing anything).
        @Test(arguments: [0, 20_000, 60_000])
        func aKillJustAfterTheStopBeganLeavesNothing(_ microseconds: UInt32) throws {
            try withLab { lab in
                let netfault = try lab.netfault(in: lab.middlebox, rules: Lifecycle.refuseRules, Self.iptables)
                netfault.signal(SIGINT)
                usleep(microseconds)
                netfault.kill()
                #expect(try chainsGone(lab, within: 6), "\((try? lab.netfaultRules(in: lab.middlebox)) ?? []); \(netfault.errors)")
            }
        }

        /// Two Ctrl-Cs to the terminal's process group while a 2000-rule chain is being removed:
        /// iptables-save and iptables-restore run in groups of their own, so the stop itself
        /// completes (before, they died with status 130 and the chain stayed).
        @Test func aSecondCtrlCToTheProcessGroupDoesNotKillTheStopsHelpers() throws {
            try withLab { lab in
                let rules = try lab.file("many.yaml", Self.manyRules(2000))
                let script = """
                    import os, signal, subprocess, sys, time
                    netfault = subprocess.Popen(sys.argv[1:], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    deadline = time.time() + 30
                    while time.time() < deadline and b"NETFAULT-0" not in subprocess.run(["iptables-save", "-t", "mangle"], capture_output=True).stdout:
                        time.sleep(0.05)
                    time.sleep(2)
                    os.killpg(netfault.pid, signal.SIGINT)
                    time.sleep(0.15)
                    os.killpg(netfault.pid, signal.SIGINT)
                    out, err = netfault.communicate(timeout=60)
                    print("status", netfault.returncode)
                    print(err, file=sys.stderr)
                    """
                let run = try lab.run(lab.middlebox, ["python3", "-c", script, Lab.netfaultPath, "apply", rules] + Self.iptables, timeout: 90)
                #expect(run.output.contains("status 0"), "\(run.output) \(run.errors)")
                #expect(!run.errors.contains("failed"), "\(run.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// Under an open-file limit too low for a whole run, netfault refuses at once, naming the
        /// limit (before: it crashed with a Swift fatal error at 12, and at 28 started, then failed
        /// its stop with EMFILE and left its chain).
        @Test(arguments: [12, 28])
        func aLowOpenFileLimitIsRefusedBeforeAnythingIsInstalled(_ limit: Int) throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Lifecycle.refuseRules)
                let run = try lab.run(lab.middlebox, ["sh", "-c", "ulimit -n \(limit); exec \"$0\" \"$@\"", Lab.netfaultPath, "apply", rules]
                                      + Self.iptables, timeout: 15)
                #expect(run.status == 64, "\(run.errors)")
                #expect(run.errors.contains("the open-file limit (ulimit -n) is \(limit)") && run.errors.contains("nothing was installed"), "\(run.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// At the lowest limit it accepts, with the control API holding every connection it takes,
        /// the stop still has the files it needs (a reserve kept from the start).
        @Test func atTheLowestOpenFileLimitAFullControlAPIDoesNotStopTheStop() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Lifecycle.refuseRules)
                let control = lab.directory.appendingPathComponent("api.sock").path
                let netfault = try lab.start(lab.middlebox, ["sh", "-c", "ulimit -n 112; exec \"$0\" \"$@\"", Lab.netfaultPath, "apply", rules,
                                                             "--control", control] + Self.iptables)
                #expect(netfault.waitFor("diverting", timeout: 15), "\(netfault.errors)")
                let holder = try lab.start(nil, ["python3", "-c", """
                    import socket, sys, time
                    held = []
                    for _ in range(80):
                        s = socket.socket(socket.AF_UNIX); s.settimeout(2)
                        try: s.connect(sys.argv[1]); held.append(s)
                        except OSError: break
                    print("held", len(held), flush=True)
                    time.sleep(60)
                    """, control])
                #expect(holder.waitFor("held", timeout: 20))
                let stopped = lab.stop(netfault)
                holder.kill()
                #expect(stopped.status == 0, "\(stopped.errors)")
                #expect(!stopped.errors.contains("failed") && !stopped.errors.contains("Too many open files"), "\(stopped.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// `cleanup` leaves the chain of a netfault that still runs (its queue is bound) and says
        /// so with exit 1; the run keeps faulting and removes its chain when it stops.
        @Test func cleanupLeavesARunningNetfaultsHooks() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Lifecycle.refuseRules, Self.iptables)
                for arguments in [[], ["--queue", "0"]] {
                    let cleanup = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"] + arguments)
                    #expect(cleanup.status == 1, "\(cleanup.output) \(cleanup.errors)")
                    #expect(cleanup.errors.contains("belong to a running netfault"), "\(cleanup.errors)")
                }
                #expect(try lab.curl(.v4, "index.html").status == 7, "still refused: the hooks stayed")
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0)
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
                let after = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"])
                #expect(after.status == 0 && after.output.contains("nothing to remove"), "\(after.output) \(after.errors)")
            }
        }

        /// A rule set of real size installs with either backend (nftables used to fail at about
        /// 140 rules: ENOBUFS, then EMSGSIZE from about 300), faults, and goes at the stop.
        @Test(arguments: Lifecycle.Backend.allCases)
        func tenThousandRulesInstallFaultAndGo(_ backend: Lifecycle.Backend) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("many.yaml", Self.manyRules(10_000)
                                         + "  - {name: handshakes, match: {server_port: 8080, flags: [syn]}, action: {reject: tcp-reset}}\n")
                let netfault = try lab.start(lab.middlebox, [Lab.netfaultPath, "apply", rules] + backend.options)
                #expect(netfault.waitFor("diverting", timeout: 120), "\(netfault.errors)")
                #expect(try lab.curl(.v4, "index.html").status == 7, "the last of 10 001 rules refuses")
                #expect(try lab.curl(.v6, "index.html").status == 7)
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0, "\(stopped.errors)")
                #expect(try stopped.report.rule("handshakes")?.fired == 2)
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// Two netfaults in two named namespaces at once (`ip netns exec`), each on queue 0 with
        /// its default socket: /run/netfault/<namespace>-0.sock each (both took 0.sock, and the
        /// second was refused: pid 1's namespace cannot be examined from there), and neither the
        /// socket nor its lock file stays after the stop.
        @Test func twoNamedNamespacesGetTwoDefaultSocketsAndLeaveNoFiles() throws {
            try withLab { lab in
                let first = try lab.netfault(in: lab.middlebox, rules: Lifecycle.refuseRules)
                let second = try lab.netfault(in: lab.client, rules: "hooks: [output]\nrules:\n  - {name: discard, match: {server_port: 9}, action: drop}\n")
                for (netfault, namespace) in [(first, lab.middlebox), (second, lab.client)] {
                    let path = "/run/netfault/\(namespace)-0.sock"
                    #expect(netfault.errors.contains("control API on \(path)"), "\(netfault.errors)")
                    #expect(lab.stop(netfault).status == 0)
                    #expect(!FileManager.default.fileExists(atPath: path) && !FileManager.default.fileExists(atPath: path + ".lock"))
                }
            }
        }

        /// A second netfault in a namespace where another already diverts traffic says so at start.
        @Test func aSecondNetfaultInTheNamespaceWarnsThatDelaysAddUp() throws {
            try withLab { lab in
                let first = try lab.netfault(in: lab.middlebox, rules: Lifecycle.refuseRules, Self.iptables)
                let control = lab.directory.appendingPathComponent("second.sock").path
                let second = try lab.netfault(in: lab.middlebox, rules: "queue: 5\n" + Lifecycle.refuseRules, ["--report", "json", "--control", control])
                #expect(second.errors.contains("warning: another netfault diverts traffic in this network namespace (queue 0, iptables chain NETFAULT-0)"),
                        "\(second.errors)")
                #expect(!first.errors.contains("warning"), "the first saw nobody")
                #expect(lab.stop(second).status == 0)
                #expect(lab.stop(first).status == 0)
            }
        }
    }
}
