import Foundation
import Testing

extension LabTests {
    /// Link conditions (issue 26) on real TCP between the lab's namespaces, seen where they land:
    /// in the receiving stack's own counters (`nstat`).
    @Suite struct LinkConditions {
        /// A counter of the server namespace's stack (`nstat -az NAME`), absolute.
        static func serverCounter(_ lab: Lab, _ name: String) throws -> Int {
            let line = try lab.run(lab.server, ["nstat", "-az", name]).output.split(separator: "\n").last ?? ""
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }

        /// An upload of `bytes` from the client through netfault with `action` on the client's
        /// segments; how many segments the server's stack queued out of order meanwhile. The client
        /// keeps the connection a second after sending, so that everything has arrived before the
        /// stop (which lets later segments pass unheld while it releases the held ones).
        static func outOfOrderSegments(_ lab: Lab, _ family: Lab.Family, action: String, bytes: Int = 4_000_000) throws -> Int {
            let netfault = try lab.netfault(.forward, rules: """
                rules:
                  - name: link
                    match: {server_port: 8080, from: client}
                    action: \(action)
                """)
            let before = try serverCounter(lab, "TcpExtTCPOFOQueue")
            let upload = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "8080", "--upload", "\(bytes)", "--hold", "1", "--timeout", "30"])
            #expect(upload["errno"] == nil || upload["errno"] is NSNull, "\(upload)")
            let stopped = lab.stop(netfault)
            #expect(try stopped.report.rule("link")?.fired ?? 0 > 10)
            return try serverCounter(lab, "TcpExtTCPOFOQueue") - before
        }

        /// A delay with jitter wider than the gap between segments reorders them, as netem's does;
        /// with `keep_order: true` the server's stack never queues one out of order.
        @Test(arguments: Lab.Family.allCases)
        func keepOrderStopsJitterFromReordering(_ family: Lab.Family) throws {
            try withLab { lab in
                _ = try lab.peerServer(["stream-server", "8080", "--sink"])
                let reordered = try Self.outOfOrderSegments(lab, family, action: "{delay: 4ms, jitter: 3ms, distribution: normal}")
                #expect(reordered > 0, "jitter reorders: \(reordered) segments out of order")
                let ordered = try Self.outOfOrderSegments(lab, family, action: "{delay: 4ms, jitter: 3ms, distribution: normal, keep_order: true}")
                #expect(ordered == 0, "\(ordered) segments out of order")
            }
        }
    }
}
