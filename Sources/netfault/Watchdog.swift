import ArgumentParser
import NetFaultLinux

extension Netfault {
    /// Started by `apply` and `run`, never by hand: removes the hooks if netfault dies or hangs.
    struct Watchdog: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the hooks of a netfault that died or hangs (started by apply and run).",
            shouldDisplay: false
        )

        @Option(help: "The queue whose hooks to watch.")
        var queue: UInt16

        @Option(help: "Milliseconds without a heartbeat before the hooks are removed.")
        var stallMs: Int32 = 2000

        @Option(help: "The inherited descriptor of the socket that owns netfault's nftables tables.")
        var ownerSocket: Int32?

        @Option(help: "Give up root for this user, as the netfault that started the watchdog does.")
        var user: String?

        func run() throws {
            do { try Privileges.keepOnlyNetworkAdministration(user: user) } catch {
                printError("netfault watchdog: \(error); it keeps running with the privileges it was started with")
            }
            _ = NetFaultLinux.Watchdog(queue: queue, stallMilliseconds: stallMs, ownerSocket: ownerSocket, log: { printError($0) }).run()
        }
    }
}
