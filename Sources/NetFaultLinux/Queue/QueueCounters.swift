import Foundation

/// The kernel's own counters for one queue, from /proc/net/netfilter/nfnetlink_queue.
public struct QueueCounters: Sendable, Equatable {
    /// Packets waiting for a verdict right now.
    public var waiting: Int
    /// Packets dropped because the queue was full (without fail-open) or could not be delivered.
    public var queueDropped: Int
    /// Packets dropped because netlink could not deliver them to netfault (receive buffer full).
    public var userDropped: Int
    /// The last packet id handed out: how many packets the queue has seen.
    public var lastID: Int

    /// Nil when the queue is not bound (the file lists bound queues only).
    public static func read(queue: UInt16) -> QueueCounters? {
        guard let text = try? String(contentsOfFile: "/proc/net/netfilter/nfnetlink_queue", encoding: .utf8) else { return nil }
        return parse(text, queue: queue)
    }

    /// Columns: queue, peer port id, waiting, copy mode, copy range, queue dropped, user dropped, id sequence, 1.
    static func parse(_ text: String, queue: UInt16) -> QueueCounters? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { Int($0) }
            guard fields.count >= 8, fields[0] == Int(queue) else { continue }
            return QueueCounters(waiting: fields[2], queueDropped: fields[5], userDropped: fields[6], lastID: fields[7])
        }
        return nil
    }
}
