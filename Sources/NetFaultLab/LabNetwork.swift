import Foundation
import NetFaultCore
import NetFaultLinux

/// A private network of three namespaces, client — middlebox — server, joined by veth pairs, with
/// addresses from the benchmarking ranges only (198.18.0.0/15, 2001:db8::/32). The middlebox
/// forwards; netfault runs there with `hooks: [forward]`. Nothing is added to the namespace that
/// creates the lab: the veth pairs are created inside the lab's namespaces.
public struct LabNetwork: Sendable {
    public static let clientAddress: [IPAddress.Family: String] = [.v4: "198.18.1.2", .v6: "2001:db8:1::2"]
    public static let serverAddress: [IPAddress.Family: String] = [.v4: "198.18.2.2", .v6: "2001:db8:2::2"]

    /// The namespaces' names: `<prefix>-client`, `<prefix>-mbox`, `<prefix>-server`.
    public let client: String
    public let middlebox: String
    public let server: String

    public init(prefix: String) {
        client = "\(prefix)-client"
        middlebox = "\(prefix)-mbox"
        server = "\(prefix)-server"
    }

    public var namespaces: [String] { [client, middlebox, server] }

    /// Whether any of the lab's namespaces exists.
    public var exists: Bool {
        let listed = (try? Self.ip(["netns", "list"])) ?? ""
        let names = Set(listed.split(separator: "\n").map { String($0.split(separator: " ")[0]) })
        return namespaces.contains { names.contains($0) }
    }

    /// Creates the namespaces, links, addresses and routes; on failure removes what it made.
    public func create() throws {
        do {
            for name in namespaces {
                try Self.ip(["netns", "add", name])
                try Self.ip(["-n", name, "link", "set", "lo", "up"])
            }
            try Self.ip(["-n", client, "link", "add", "eth0", "type", "veth", "peer", "name", "toclient", "netns", middlebox])
            try Self.ip(["-n", server, "link", "add", "eth0", "type", "veth", "peer", "name", "toserver", "netns", middlebox])
            let plan: [(String, String, [String])] = [
                (client, "eth0", ["198.18.1.2/24", "2001:db8:1::2/64"]),
                (middlebox, "toclient", ["198.18.1.1/24", "2001:db8:1::1/64"]),
                (middlebox, "toserver", ["198.18.2.1/24", "2001:db8:2::1/64"]),
                (server, "eth0", ["198.18.2.2/24", "2001:db8:2::2/64"]),
            ]
            for (namespace, device, addresses) in plan {
                for address in addresses {
                    try Self.ip(["-n", namespace, "addr", "add", address, "dev", device] + (address.contains(":") ? ["nodad"] : []))
                }
                try Self.ip(["-n", namespace, "link", "set", device, "up"])
            }
            for (namespace, v4, v6) in [(client, "198.18.1.1", "2001:db8:1::1"), (server, "198.18.2.1", "2001:db8:2::1")] {
                try Self.ip(["-n", namespace, "route", "add", "default", "via", v4])
                try Self.ip(["-n", namespace, "-6", "route", "add", "default", "via", v6])
            }
            try Self.run(["/usr/sbin/ip", "netns", "exec", middlebox, "sysctl", "-qw",
                          "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"], doing: "enabling forwarding")
        } catch {
            destroy()
            throw error
        }
    }

    /// Kills every process still in the lab's namespaces and deletes them. Never fails.
    public func destroy() {
        for name in namespaces {
            if let pids = try? Self.ip(["netns", "pids", name]) {
                for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? Self.ip(["netns", "del", name])
        }
    }

    /// One datagram each way between client and server in both families, the server's first, so
    /// that no packet that is timed waits on ARP or NDP. (A server whose first packet toward its
    /// router is an ICMPv6 error loses it, and the next for about a second, while its neighbour
    /// entry resolves.) Needs python3.
    public func resolveNeighbours() throws {
        for (namespace, addresses) in [(server, Self.clientAddress), (client, Self.serverAddress)] {
            for family in [IPAddress.Family.v4, .v6] {
                let domain = family == .v4 ? "AF_INET" : "AF_INET6"
                _ = try run(namespace, ["python3", "-c",
                    "import socket; socket.socket(socket.\(domain), socket.SOCK_DGRAM).sendto(b'x', ('\(addresses[family]!)', 9))"])
            }
        }
    }

    /// Runs `command` in `namespace` and returns its exit status, standard output and standard error.
    public func run(_ namespace: String, _ command: [String]) throws -> (status: Int32, output: String, errors: String) {
        let result = try CommandOutput.of(["/usr/sbin/ip", "netns", "exec", namespace] + command)
        return (result.status, result.output, result.errors)
    }

    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        try run(["/usr/sbin/ip"] + arguments, doing: "setting up the lab")
    }

    @discardableResult
    static func run(_ command: [String], doing: String) throws -> String {
        let result = try CommandOutput.of(command)
        guard result.status == 0 else {
            throw CommandError(doing: doing, command: command.joined(separator: " "), status: result.status,
                                             output: result.errors)
        }
        return result.output
    }
}
