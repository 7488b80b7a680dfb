import ArgumentParser
import NetFaultLinux

extension Netfault {
    /// Removes hooks left by a controller that was killed before it could remove them.
    struct Cleanup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove firewall hooks left by a netfault that was killed (needs root).",
            discussion: """
                Removes only netfault's own iptables chains (NETFAULT-<queue>, made with --hooks iptables) and the jumps \
                to them; nothing else, and never those of a netfault still running (its queue is bound): it exits 1 \
                naming them. netfault's nftables tables (netfault-<queue>, the default) need no cleanup: the \
                kernel removes them when the netfault that made them exits, however it exits.
                """
        )

        @Option(help: "Only this queue's hooks (default: every queue's).")
        var queue: UInt16?

        func run() throws {
            let installer = IptablesHooks()
            do {
                let installed = try installer.installedQueues()
                let queues = queue.map { [$0] } ?? installed
                let bound = BoundQueues.inThisNamespace()
                var removed: [UInt16] = []
                var refused = false
                for queue in queues {
                    // A running netfault removes its own hooks when it stops, and its watchdog when
                    // it dies; removing them under it would end its faults with its report saying
                    // they held.
                    if let port = bound[queue], installed.contains(queue) {
                        printError("netfault cleanup: the hooks of queue \(queue) belong to a running netfault (its queue is bound, netlink port \(port)); "
                                   + "left in place: stop it (Ctrl-C, SIGTERM) and it removes them")
                        refused = true
                        continue
                    }
                    if try installer.remove(queue: queue) > 0 { removed.append(queue) }
                }
                if !removed.isEmpty {
                    print("netfault cleanup: removed the hooks of queue \(removed.map(String.init).joined(separator: ", "))")
                } else if !refused {
                    print("netfault cleanup: nothing to remove")
                }
                for table in (try? NftHookTables.installed()) ?? [] where queue == nil || table.queue == queue {
                    print("netfault cleanup: table \(table.family) netfault-\(table.queue) belongs to a running netfault"
                          + (table.ownerPort.map { " (netlink port \($0))" } ?? "")
                          + "; it goes when that netfault exits")
                }
                if refused { throw ExitCode.failure }
            } catch let exit as ExitCode {
                throw exit
            } catch {
                printError("netfault cleanup: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
