import Foundation
import Testing

extension LabTests {
    /// `queues: 2`: two queues, each read by a thread of its own, one engine. The kernel spreads
    /// connections by their addresses, so the client speaks from 16 addresses of its own.
    @Suite struct MultiQueue {
        static let clientAddresses = (10..<26).map { "198.18.1.\($0)" }

        /// A lab whose client also speaks from `clientAddresses`.
        static func labWithClientAddresses() throws -> Lab {
            let lab = try Lab()
            do {
                for address in clientAddresses {
                    _ = try lab.run(lab.client, ["ip", "addr", "add", "\(address)/24", "dev", "eth0"])
                }
            } catch {
                lab.close()
                throw error
            }
            return lab
        }

        /// Every connection is seen whole whichever queue carries it, and rules count connections
        /// across both queues: `connection: "9-"` refuses the 9th connection on, wherever the
        /// first eight went. Both queues carry packets; every packet gets one verdict. With either
        /// hook backend (NFQUEUE `total` through nft, `--queue-balance` through iptables).
        @Test(arguments: Lifecycle.Backend.allCases)
        func connectionsAreCountedAcrossQueues(_ backend: Lifecycle.Backend) throws {
            let lab = try Self.labWithClientAddresses()
            defer { lab.close() }
            _ = try lab.httpServer(files: ["page": Data(count: 20_000)])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                queue: 4
                queues: 2
                rules:
                  - name: refuse-from-the-ninth
                    match: {server_port: 8080, flags: [syn], connection: "9-"}
                    action: {reject: tcp-reset}
                    expect: {outcome: refused, fired: 8}
                """, backend.options)
            #expect(netfault.errors.contains("queues 4-5 diverting"), "\(netfault.errors)")
            var statuses: [Int32] = []
            for address in Self.clientAddresses {
                statuses.append(try lab.curl(.v4, "page", ["--interface", address, "--max-time", "10"]).status)
            }
            #expect(statuses == Array(repeating: 0, count: 8) + Array(repeating: 7, count: 8), "curl exit statuses: \(statuses)")
            let report = try lab.stop(netfault).report
            let connections = report.connections(toPort: 8080)
            #expect(connections.map(\.outcome) == Array(repeating: "closed", count: 8) + Array(repeating: "refused", count: 8),
                    "\(connections.map { "\($0.client) \($0.outcome)" })")
            #expect(report.rule("refuse-from-the-ninth")?.passed == true)
            let perQueue = report.queue.packets_per_queue
            #expect(perQueue.count == 2 && perQueue.allSatisfy { $0 > 0 }, "16 client addresses all on one queue: \(perQueue)")
            #expect(perQueue.reduce(0, +) == report.queue.packets)
            #expect(report.queue.verdicts == report.queue.packets && report.queue.escaped_fail_open == 0, "\(report.queue)")
        }

        /// Each queue parks its own held packets (queues 4 and 5 park in 32772 and 32773), and the
        /// stop delivers every one: 16 addresses × 20 datagrams delayed a minute, all 320 arrive.
        @Test func everyQueuesHeldPacketsAreDelivered() throws {
            let lab = try Self.labWithClientAddresses()
            defer { lab.close() }
            let sink = try lab.peerServer(["udp-sink", "7002", "--seconds", "12"])
            let netfault = try lab.netfault(in: lab.middlebox, rules: """
                hooks: [forward]
                queue: 4
                queues: 2
                rules:
                  - name: hold-a-minute
                    match: {protocol: udp, server_port: 7002, from: client}
                    action: {delay: 60s}
                """)
            for address in Self.clientAddresses {
                let blast = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[.v4]!, "7002", "--count", "20", "--bind", address])
                #expect(blast["sent"] as? Int == 20, "\(blast)")
            }
            usleep(500_000)
            let waiting = try lab.packetsWaiting(in: lab.middlebox)
            #expect((waiting[32772] ?? 0) > 0 && (waiting[32773] ?? 0) > 0 && (waiting[32772] ?? 0) + (waiting[32773] ?? 0) == 320,
                    "\(waiting)")
            let report = try lab.stop(netfault).report
            #expect(report.queue.held_peak == 320 && report.queue.verdicts == report.queue.packets, "\(report.queue)")
            #expect(lab.datagramsReceived(by: sink) == 320, "the server: \(sink.output)")
        }
    }
}
