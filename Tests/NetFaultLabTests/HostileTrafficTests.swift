import Foundation
import Testing

extension LabTests {
    /// Hostile input through the live queue: malformed, truncated and fragmented packets and IPv6
    /// extension-header chains (peer.py `hostile-send`, raw sockets, each packet tagged), sent from
    /// the client through netfault on the middlebox, whose rules divert every TCP, UDP and ICMP
    /// packet. netfault keeps running, gives each queued packet exactly one verdict, and delivers
    /// exactly what the network delivers without it.
    @Suite struct HostileTraffic {
        static let rounds = 20

        /// Sends every hostile packet of both families `rounds` times; returns how often each tag
        /// arrived at the server.
        func sendAndCount(_ lab: Lab, rounds: Int) throws -> [String: Int] {
            let sniffer = try lab.peerServer(["tag-sniff"])
            for family in Lab.Family.allCases {
                let sent = try lab.peer(lab.client, ["hostile-send", Lab.serverAddress[family]!, "--rounds", "\(rounds)"])
                #expect(sent["sent"] as? Int == rounds * (sent["kinds"] as? Int ?? 0), "\(sent)")
            }
            usleep(300_000)
            sniffer.signal(SIGTERM)
            #expect(sniffer.wait(timeout: 10))
            let line = sniffer.output.split(separator: "\n").last.map(String.init) ?? ""
            let result = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(result?["seen"] as? [String: Int], "sniffer: \(sniffer.output) \(sniffer.errors)")
        }

        @Test func malformedAndFragmentedPacketsGetOneVerdictEachAndPassAsWithoutNetfault() throws {
            try withLab { lab in
                try lab.resolveNeighbours()
                let baseline = try sendAndCount(lab, rounds: 1)
                #expect(baseline.count >= 15, "most hostile packets cross a plain router: \(baseline)")

                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - {name: tcp, match: {protocol: tcp}, action: pass}
                      - {name: udp, match: {protocol: udp}, action: pass}
                      - {name: icmp, match: {protocol: icmp}, action: pass}
                    """)
                let seen = try sendAndCount(lab, rounds: Self.rounds)
                #expect(seen == baseline.mapValues { $0 * Self.rounds }, "every packet that crosses without netfault crosses once per round with it")
                #expect(netfault.isRunning, "netfault survived: \(netfault.errors)")

                let stopped = lab.stop(netfault)
                #expect(stopped.status == 0, "\(stopped.errors)")
                let queue = try stopped.report.queue
                #expect(queue.packets == queue.verdicts, "exactly one verdict per queued packet: \(queue)")
                #expect(queue.packets >= Self.rounds * 12, "most hostile packets went through the queue: \(queue)")
                #expect(queue.unreadable >= Self.rounds * 4, "the malformed ones were accepted untouched: \(queue)")
                #expect(queue.escaped_fail_open == 0 && queue.kernel_dropped == 0, "\(queue)")
            }
        }
    }
}
