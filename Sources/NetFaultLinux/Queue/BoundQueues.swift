import Foundation

/// The NFQUEUE numbers some process has bound in this network namespace, each with the netlink
/// port of its socket, from /proc/net/netfilter/nfnetlink_queue. A bound queue means a consumer
/// is running: a netfault, for netfault's queue numbers.
public enum BoundQueues {
    /// Queue number → netlink port; empty when no queue is bound (or the file is absent: the
    /// module is not loaded, so nothing can be bound).
    public static func inThisNamespace() -> [UInt16: UInt32] {
        guard let text = try? String(contentsOfFile: "/proc/net/netfilter/nfnetlink_queue", encoding: .utf8) else { return [:] }
        return parse(text)
    }

    /// One line per queue: number, peer port, then counters.
    static func parse(_ text: String) -> [UInt16: UInt32] {
        var bound: [UInt16: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let queue = UInt16(fields[0]), let port = UInt32(fields[1]) { bound[queue] = port }
        }
        return bound
    }
}
