import Foundation
import Testing

extension LabTests {
    /// How netfault's hooks come and go, in nftables owner tables (the default) and in iptables
    /// chains (`--hooks iptables`): every orderly stop removes them; a killed or hung netfault's
    /// watchdog removes them; with the watchdog killed too, the kernel removes an owner table, and
    /// an iptables chain lets traffic flow (--queue-bypass) until `cleanup` removes it.
    @Suite struct Lifecycle {
        enum Backend: String, CaseIterable {
            case nftables, iptables
            var options: [String] { ["--report", "json", "--hooks", rawValue] }
        }

        /// One rule on the handshakes to the lab's web server (port 8080), with `action`.
        static func handshakeRules(_ action: String) -> String {
            """
            hooks: [forward]
            rules:
              - name: handshakes
                match: {server_port: 8080, flags: [syn]}
                action: \(action)
            """
        }

        static let refuseRules = handshakeRules("{reject: tcp-reset}")

        @Test(arguments: Backend.allCases)
        func sigtermRemovesTheHooksOfBothFamilies(_ backend: Backend) throws {
            try withLab { lab in
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, backend.options)
                let installed = try lab.netfaultRules(in: lab.middlebox)
                switch backend {
                case .iptables:
                    #expect(installed.contains { $0.contains("NFQUEUE") && $0.contains("--queue-bypass") }, "\(installed)")
                    #expect(installed.filter { $0.contains("-j NETFAULT-0") }.count == 2, "a jump from FORWARD in each family: \(installed)")
                case .nftables:
                    #expect(installed.filter { $0 == "flags owner" }.count == 2, "an owner table in each family: \(installed)")
                    #expect(installed.filter { $0.contains("tcp dport 8080 jump enqueue") }.count == 2, "\(installed)")
                    #expect(installed.filter { $0.contains("counter packets 0 bytes 0 queue num 0 bypass") }.count == 2, "\(installed)")
                    #expect(installed.filter { $0 == "type filter hook forward priority mangle; policy accept;" }.count == 2, "\(installed)")
                    #expect(!installed.contains { $0.contains("NETFAULT") }, "no iptables chain besides: \(installed)")
                }
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0)
                #expect(try stopped.report.stop_reason == "SIGTERM received")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        @Test func aDurationEndsTheRunInOrder() throws {
            try withLab { lab in
                let netfault = try lab.netfault(in: lab.middlebox, rules: "duration: 1s\n" + Self.refuseRules)
                #expect(netfault.wait(timeout: 10), "netfault still ran 10 s into a 1 s duration")
                #expect(netfault.status == 0)
                #expect(netfault.output.contains("duration 1s elapsed"), "\(netfault.output)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// `--netns NAME` from the namespace the tests run in: netfault enters the middlebox's
        /// namespace (nothing is installed where it started), and `ip netns del` of that name ends
        /// the run in order.
        @Test func aNamedNamespaceIsFaultedUntilItIsDeleted() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                let netfault = try lab.start(nil, [Lab.netfaultPath, "apply", rules, "--netns", lab.middlebox, "--report", "json"])
                #expect(netfault.waitFor("diverting", timeout: 15), "\(netfault.errors)")
                #expect(try lab.curl(.v4, "index.html").status == 7)
                #expect(try lab.netfaultRules(in: lab.middlebox).count > 0)
                let own = try lab.run(nil, ["nft", "list", "tables"]).output
                #expect(!own.contains("netfault"), "nothing in the namespace netfault started in: \(own)")
                #expect(try lab.run(nil, ["ip", "netns", "del", lab.middlebox]).status == 0)
                #expect(netfault.wait(timeout: 5), "netfault still ran 5 s after its namespace was deleted")
                let report = try Report(json: netfault.output)
                #expect(report.stop_reason.hasPrefix("target namespace gone: namespace \(lab.middlebox)"), "\(report.stop_reason)")
                #expect(report.rule("handshakes")?.fired == 1)
            }
        }

        @Test func aSecondInterruptDuringTheStopStillRemovesTheHooks() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.handshakeRules("{hold: forever}"))
                let curl = try lab.start(lab.client, ["curl", "-s", "-o", "/dev/null", "--max-time", "20", lab.url(.v4, "index.html")])
                usleep(300_000)
                netfault.signal(SIGINT)
                netfault.signal(SIGINT)
                #expect(netfault.wait(timeout: 15))
                #expect(netfault.status == 0, "\(netfault.errors)")
                #expect(netfault.output.contains("SIGINT received"), "\(netfault.output)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
                // The held SYN was dropped at the end (hold: forever); the client's retransmitted SYN now passes.
                #expect(curl.wait(timeout: 15) && curl.status == 0, "curl exit \(curl.status)")
            }
        }

        /// The rules netfault's hooks consist of, or an empty list within `timeout` seconds.
        func rulesGone(_ lab: Lab, within timeout: Double) throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try lab.netfaultRules(in: lab.middlebox).isEmpty { return true }
                usleep(50_000)
            }
            return false
        }

        /// SIGKILL for netfault and its watchdog, netfault stopped first so that it cannot see its
        /// watchdog go and stop in order.
        func killWithItsWatchdog(_ netfault: Background) throws {
            let watchdog = try #require(watchdogPID(netfault), "\(netfault.errors)")
            netfault.signal(SIGSTOP)
            kill(watchdog, SIGKILL)
            netfault.kill()
        }

        func watchdogPID(_ netfault: Background) -> Int32? {
            guard let range = netfault.errors.range(of: #"watchdog pid (\d+)"#, options: .regularExpression) else { return nil }
            return Int32(netfault.errors[range].split(separator: " ").last ?? "")
        }

        @Test(arguments: Lab.Family.allCases, Backend.allCases)
        func afterSIGKILLTheWatchdogRemovesTheHooks(_ family: Lab.Family, _ backend: Backend) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, backend.options)
                #expect(try lab.curl(family, "index.html").status == 7, "refused while netfault runs")
                netfault.kill()
                #expect(try rulesGone(lab, within: 2), "nobody ran cleanup, yet the hooks are gone")
                #expect(try lab.curl(family, "index.html", ["--max-time", "5"]).status == 0)
                let restarted = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, backend.options)
                #expect(try lab.curl(family, "index.html").status == 7, "applies again at once")
                _ = lab.stop(restarted)
            }
        }

        /// Killed with its watchdog, netfault's owner tables go with the last socket that held them:
        /// the kernel removes them, nobody runs cleanup, and netfault starts again at once.
        @Test(arguments: Lab.Family.allCases)
        func killedWithItsWatchdogTheKernelRemovesTheOwnerTables(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules)
                #expect(netfault.errors.contains("hooks in nftables table netfault-0 (owner flag"), "\(netfault.errors)")
                #expect(try lab.curl(family, "index.html").status == 7, "refused while netfault runs")
                try killWithItsWatchdog(netfault)
                #expect(try rulesGone(lab, within: 1), "nobody was left to remove the tables, yet they are gone")
                #expect(try lab.curl(family, "index.html", ["--max-time", "5"]).status == 0)
                let cleanup = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"], timeout: 15)
                #expect(cleanup.output.contains("nothing to remove"), "\(cleanup.output)")
                let restarted = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules)
                #expect(try lab.curl(family, "index.html").status == 7, "applies again at once")
                _ = lab.stop(restarted)
            }
        }

        /// Killed with its watchdog, netfault leaves its iptables hooks; traffic passes anyway
        /// (bypass), `apply` refuses to run over them and names the fix, and `cleanup` removes them.
        @Test func killedWithItsWatchdogTrafficFlowsAndCleanupRemovesTheIptablesHooks() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, Backend.iptables.options)
                try killWithItsWatchdog(netfault)
                #expect(!(try lab.netfaultRules(in: lab.middlebox).isEmpty), "nobody was left to remove the hooks")
                #expect(try lab.curl(.v4, "index.html", ["--max-time", "5"]).status == 0, "the queue is bypassed once nobody listens")

                let rules = try lab.file("again.yaml", Self.refuseRules)
                let again = try lab.run(lab.middlebox, [Lab.netfaultPath, "apply", rules], timeout: 15)
                #expect(again.status == 1)
                #expect(again.errors.contains("netfault cleanup --queue 0"), "\(again.errors)")

                let cleanup = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"], timeout: 15)
                #expect(cleanup.status == 0, "\(cleanup.errors)")
                #expect(cleanup.output.contains("removed the hooks of queue 0"), "\(cleanup.output)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
                let nothing = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"], timeout: 15)
                #expect(nothing.output.contains("nothing to remove"), "\(nothing.output)")
            }
        }

        /// Start, SIGKILL, start again, ten times: the same rules each time, never twice.
        /// (`Scripts/soak --restarts 100` does it a hundred times.)
        @Test(arguments: Backend.allCases)
        func startKillStartInstallsTheSameRulesEachTime(_ backend: Backend) throws {
            try withLab { lab in
                var first: [String]?
                for round in 1...10 {
                    let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, backend.options)
                    let installed = try lab.netfaultRules(in: lab.middlebox).sorted()
                    if first == nil { first = installed }
                    #expect(installed == first, "round \(round): \(installed)")
                    netfault.kill()
                    #expect(try rulesGone(lab, within: 2), "round \(round)")
                }
            }
        }

        /// A stopped (hung) netfault does not black-hole traffic: after 2 s without a heartbeat its
        /// watchdog removes the hooks (an owner table through its copy of the owning socket); when
        /// netfault resumes, it stops in order and says why.
        @Test(arguments: Backend.allCases)
        func aStoppedNetfaultStopsBlackHolingWithinTwoSeconds(_ backend: Backend) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, backend.options)
                netfault.signal(SIGSTOP)
                let curl = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}", "--max-time", "10",
                                                    lab.url(.v4, "index.html")], timeout: 15)
                #expect(curl.status == 0, "the connection got through while netfault was stopped")
                #expect((Double(curl.output) ?? 99) < 5, "after the watchdog's 2 s and a SYN retransmission: \(curl.output) s")
                // The jumps go first (traffic passes), the chain a moment later.
                #expect(try rulesGone(lab, within: 2))
                netfault.signal(SIGCONT)
                #expect(netfault.wait(timeout: 10), "netfault did not stop on its own after resuming")
                #expect(netfault.status == 1)
                #expect(netfault.output.contains("the watchdog ended"), "\(netfault.output)")
            }
        }

        /// An idle netfault is not a hung one: with no packet for longer than the watchdog's stall,
        /// its queue thread waits in the receive (with no time limit unless packets may be held) and
        /// the heartbeat goes on; the faults stay, and the stop is orderly.
        @Test(arguments: ["{reject: tcp-reset}", "{hold: 1s}"])
        func anIdleRunOutlastsTheWatchdogsStall(_ action: String) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.handshakeRules(action))
                usleep(3_000_000)  // the stall is 2 s
                #expect(netfault.isRunning, "\(netfault.output)")
                #expect(try !lab.netfaultRules(in: lab.middlebox).isEmpty, "the watchdog removed the hooks of an idle run")
                let curl = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}", "--max-time", "10",
                                                    lab.url(.v4, "index.html")], timeout: 15)
                if action.contains("hold") {
                    #expect(curl.status == 0, "\(curl.output)")
                    #expect((Double(curl.output) ?? 0) >= 0.9, "the SYN was held: \(curl.output) s")
                } else {
                    #expect(curl.status == 7, "refused (curl: couldn't connect): \(curl.status)")
                }
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0, "\(stopped.output)")
                #expect(!stopped.output.contains("watchdog ended"), "\(stopped.output)")
            }
        }

        /// In a namespace whose loopback is down (a fresh `ip netns add`), netfault starts, runs its
        /// firewall commands and stops; it once hung there forever in Foundation's `Process`.
        @Test func withLoopbackDownItStartsAndStops() throws {
            try withLab { lab in
                try lab.run(lab.middlebox, ["ip", "link", "set", "lo", "down"])
                let cleanup = try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"], timeout: 10)
                #expect(cleanup.status == 0 && cleanup.output.contains("nothing to remove"), "\(cleanup.errors)")
                let rules = try lab.file("short.yaml", "duration: 1s\n" + Self.refuseRules)
                let run = try lab.run(lab.middlebox, [Lab.netfaultPath, "apply", rules, "--hooks", "iptables"], timeout: 15)
                #expect(run.status == 0, "\(run.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        @Test func cleanupLeavesOtherRulesAlone() throws {
            try withLab { lab in
                let foreign = try lab.file("foreign.rules", """
                    *mangle
                    :OTHER-TOOL - [0:0]
                    -A FORWARD -p udp --dport 5353 -j OTHER-TOOL
                    -A OTHER-TOOL -j MARK --set-mark 7
                    COMMIT

                    """)
                #expect(try lab.run(lab.middlebox, ["/usr/sbin/iptables-restore", "--noflush", foreign]).status == 0)
                let netfault = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules, Backend.iptables.options)
                try killWithItsWatchdog(netfault)
                #expect(try lab.run(lab.middlebox, [Lab.netfaultPath, "cleanup"]).status == 0)
                let saved = try lab.run(lab.middlebox, ["/usr/sbin/iptables-save", "-t", "mangle"]).output
                #expect(saved.contains("-A FORWARD -p udp -m udp --dport 5353 -j OTHER-TOOL"), "\(saved)")
                #expect(saved.contains("-A OTHER-TOOL -j MARK --set-xmark 0x7/0xffffffff"), "\(saved)")
                #expect(!saved.contains("NETFAULT"), "\(saved)")
            }
        }

        @Test func withoutPrivilegeItRefusesNamingTheCallAndInstallsNothing() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                try lab.run(nil, ["chmod", "a+rx", lab.directory.path])
                try lab.run(nil, ["chmod", "a+r", rules])
                let unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Lab.netfaultPath, "apply", rules]
                // The control socket comes first: /run/netfault is root's.
                let socket = try lab.run(lab.middlebox, unprivileged, timeout: 15)
                #expect(socket.status == 64 && socket.errors.contains("run as root"), "\(socket.errors)")
                // With a socket it may make, the queue: binding it needs CAP_NET_ADMIN.
                let control = "/tmp/\(lab.id)-unprivileged.sock"
                defer { unlink(control) }
                let result = try lab.run(lab.middlebox, unprivileged + ["--control", control], timeout: 15)
                #expect(result.status == 1)
                #expect(result.errors.contains("(EPERM)") && result.errors.contains("run as root"), "\(result.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        @Test func aSecondNetfaultOnTheSameQueueIsRefusedAndTheFirstKeepsItsHooks() throws {
            try withLab { lab in
                let first = try lab.netfault(in: lab.middlebox, rules: Self.refuseRules)
                let rules = try lab.file("second.yaml", "hooks: [forward]\nrules:\n  - name: other\n    match: {server_port: 9}\n    action: drop\n")
                // Its control socket is the first one's: refused, naming --control.
                let clash = try lab.run(lab.middlebox, [Lab.netfaultPath, "apply", rules], timeout: 15)
                #expect(clash.status == 64 && clash.errors.contains("a running netfault answers on it") && clash.errors.contains("--control"),
                        "\(clash.errors)")
                let control = lab.directory.appendingPathComponent("second.sock").path
                let second = try lab.run(lab.middlebox, [Lab.netfaultPath, "apply", rules, "--control", control], timeout: 15)
                #expect(second.status == 1)
                #expect(second.errors.contains("queue 0 is in use by another program"), "\(second.errors)")
                #expect(first.isRunning)
                #expect(try lab.netfaultRules(in: lab.middlebox).contains { $0.contains("dport 8080") }, "the first run's hooks are intact")
                #expect(lab.stop(first).status == 0)
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }

        /// After start-up netfault holds CAP_NET_ADMIN and CAP_NET_RAW only (bits 12 and 13), as
        /// root or as the user it switched to, in every thread (capabilities are per thread: with
        /// `queues: 3`, the queue threads too), and still removes its hooks when it stops. Every
        /// other thread (the main one, the control API's), which reads what any local process
        /// sends, holds none at all, also after many requests at once (the threads a burst of
        /// them starts come from the API's, never from the controller's).
        @Test(arguments: [nil, "nobody"])
        func afterStartUpOnlyNetworkAdministrationIsKept(_ user: String?) throws {
            try withLab { lab in
                try lab.run(nil, ["chmod", "a+rx", lab.directory.path])
                let control = lab.directory.appendingPathComponent("capabilities.sock").path
                let netfault = try lab.netfault(in: lab.middlebox, rules: "queues: 3\n" + Self.refuseRules,
                                                ["--report", "json", "--control", control] + (user.map { ["--user", $0] } ?? []))
                #expect(netfault.waitFor("keeping CAP_NET_ADMIN and CAP_NET_RAW only", timeout: 10), "\(netfault.errors)")
                let burst = try (0..<24).map { index in
                    try lab.start(nil, ["curl", "-s", "-o", "/dev/null", "--unix-socket", control,
                                        "http://localhost" + (index % 2 == 0 ? "/metrics" : "/v1/report")])
                }
                for request in burst { #expect(request.wait(timeout: 20)) }
                // Every thread is there once the three queue threads are.
                var tasks: [String] = []
                func name(_ task: String) -> String {
                    ((try? String(contentsOfFile: "/proc/\(netfault.pid)/task/\(task)/comm", encoding: .utf8)) ?? "")
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                }
                for _ in 0..<100 {
                    tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(netfault.pid)/task")
                    if tasks.filter({ name($0).hasPrefix("nf-queue-") }).count == 3 { break }
                    usleep(20_000)
                }
                #expect(tasks.filter { name($0).hasPrefix("nf-queue-") }.count == 3, "three queue threads: \(tasks.map(name))")
                #expect(tasks.filter { name($0) == "nf-controller" }.count == 1, "the controller's thread: \(tasks.map(name))")
                for task in tasks {
                    let status = try String(contentsOfFile: "/proc/\(netfault.pid)/task/\(task)/status", encoding: .utf8)
                    let fields = Dictionary(uniqueKeysWithValues: status.split(separator: "\n").compactMap { line -> (String, String)? in
                        let parts = line.split(separator: ":", maxSplits: 1)
                        return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
                    })
                    let isNetfaults = fields["Name"] == "nf-controller" || fields["Name"]?.hasPrefix("nf-queue-") == true
                    for set in ["CapPrm", "CapEff", "CapBnd"] {
                        let expected = !isNetfaults && set != "CapBnd" ? "0000000000000000" : "0000000000003000"
                        #expect(fields[set] == expected, "thread \(fields["Name"] ?? task) \(set): \(fields[set] ?? "?")")
                    }
                    #expect(fields["NoNewPrivs"] == "1", "thread \(fields["Name"] ?? task)")
                    #expect(fields["Uid"]?.hasPrefix(user == nil ? "0\t" : "65534\t") == true, "\(fields["Uid"] ?? "?")")
                }
                // The watchdog too: it reads only netfault's heartbeat, yet it gives up root as netfault does.
                let watchdog = try #require(watchdogPID(netfault), "\(netfault.errors)")
                let watchdogStatus = try String(contentsOfFile: "/proc/\(watchdog)/status", encoding: .utf8)
                #expect(watchdogStatus.contains("CapEff:\t0000000000003000") && watchdogStatus.contains("CapBnd:\t0000000000003000"), "\(watchdogStatus)")
                #expect(watchdogStatus.contains(user == nil ? "Uid:\t0\t" : "Uid:\t65534\t"), "\(watchdogStatus)")
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0, "\(stopped.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty, "hooks removed with the capabilities kept")
            }
        }

        /// Under a service manager that already narrowed the bounding set and withheld CAP_SETPCAP
        /// (Scripts/netfault.service), there is nothing to drop and netfault runs as usual.
        @Test func underANarrowedBoundingSetItStartsAndCleansUp() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Self.refuseRules)
                let netfault = try lab.start(lab.middlebox, ["setpriv", "--bounding-set=-all,+net_admin,+net_raw", "--",
                                                             Lab.netfaultPath, "apply", rules, "--report", "json"])
                #expect(netfault.waitFor("keeping CAP_NET_ADMIN and CAP_NET_RAW only", timeout: 15), "\(netfault.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).contains { $0.contains("queue num 0 bypass") })
                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0, "\(stopped.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }
    }
}
