import ArgumentParser
import NetFaultLinux

extension Netfault {
    /// Removes hooks left by a controller that was killed before it could remove them.
    struct Cleanup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove firewall hooks left by a netfault that was killed (needs root).",
            discussion: """
                Removes only netfault's own iptables chains (NETFAULT-<queue>, made with --hooks iptables) and the jumps \
                to them; nothing else. netfault's nftables tables (netfault-<queue>, the default) need no cleanup: the \
                kernel removes them when the netfault that made them exits, however it exits.
                """
        )

        @Option(help: "Only this queue's hooks (default: every queue's).")
        var queue: UInt16?

        func run() throws {
            let installer = IptablesHooks()
            do {
                let queues = try queue.map { [$0] } ?? installer.installedQueues()
                var removed: [UInt16] = []
                for queue in queues where try installer.remove(queue: queue) > 0 { removed.append(queue) }
                print(removed.isEmpty ? "netfault cleanup: nothing to remove"
                                      : "netfault cleanup: removed the hooks of queue \(removed.map(String.init).joined(separator: ", "))")
                for table in (try? NftHookTables.installed()) ?? [] where queue == nil || table.queue == queue {
                    print("netfault cleanup: table \(table.family) netfault-\(table.queue) belongs to a running netfault"
                          + (table.ownerPort.map { " (netlink port \($0))" } ?? "")
                          + "; it goes when that netfault exits")
                }
            } catch {
                printError("netfault cleanup: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
