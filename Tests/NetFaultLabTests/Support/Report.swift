import Foundation

/// netfault's JSON report (`--report json`), decoded for assertions: the documented keys.
struct Report: Decodable {
    struct Queue: Decodable {
        var packets: Int
        var verdicts: Int
        var held_peak: Int
        var held_released_early: Int
        var packets_per_queue: [Int]
        var unreadable: Int
        var escaped_fail_open: Int?
        var kernel_dropped: Int?
        var injected: Int
        var injection_failures: Int
    }

    struct Rule: Decodable {
        var name: String
        var fired: Int
        var connections: Int
        var passed: Bool
        var failure: String?
    }

    struct PerSide<Value: Decodable>: Decodable {
        var client: Value
        var server: Value
    }

    struct ResetBy: Decodable {
        var sender: String
        var rule: String?
        var toward: String
    }

    struct Fault: Decodable {
        var rule: String
        var action: String
        var count: Int
    }

    struct Connection: Decodable {
        var `protocol`: String
        var client: String
        var server: String
        var outcome: String
        /// Each side's error (`{client, server}`, null for a side that got none).
        var errno: PerSide<String?>
        var winsock: PerSide<String?>
        var winsock_code: PerSide<Int?>
        var reset_by: ResetBy?
        /// Who closed the connection with FINs (`close`): `{sender: netfault, rule, toward}`.
        var closed_by: ResetBy?
        var aborted_side: String?
        var handshake_ms: Double?
        var duration_ms: Double
        var packets: PerSide<Int>
        var bytes: PerSide<Int>
        var retransmissions: PerSide<Int>
        var largest_retransmission_gap_ms: PerSide<Double>
        var faults: [Fault]
    }

    /// The flow table over the run.
    struct Flows: Decodable {
        var max_tracked: Int
        var max_listed: Int
        var peak_tracked: Int
        var created: Int
        var expired: Int
        var evicted: Int
    }

    struct Command: Decodable {
        var argv: [String]
        var status: Int
        var ended: String
    }

    var seed: String
    var stop_reason: String
    var command: Command?
    var queue: Queue
    var rules: [Rule]
    var connections: [Connection]
    var flows: Flows

    init(json: String) throws {
        self = try JSONDecoder().decode(Report.self, from: Data(json.utf8))
    }

    func rule(_ name: String) -> Rule? { rules.first { $0.name == name } }

    /// Connections to `port` of the server, in the order they began.
    func connections(toPort port: Int) -> [Connection] {
        connections.filter { $0.server.hasSuffix(":\(port)") }
    }

    /// The connections some fault touched.
    var faulted: [Connection] { connections.filter { !$0.faults.isEmpty } }
}
