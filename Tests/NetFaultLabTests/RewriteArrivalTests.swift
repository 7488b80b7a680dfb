import Foundation
import Testing

extension LabTests {
    /// A rewritten packet must arrive and be accepted, not only cause an effect a drop would cause
    /// too. The lab's veth pairs keep checksum offload on (the default), so the kernel queues the
    /// client's packets with only the pseudo-header sum (CHECKSUM_PARTIAL) and does not finish the
    /// checksum of a packet handed back changed: these tests fail when netfault leaves it partial.
    @Suite struct RewriteArrival {
        /// Every client packet's TOS rewritten: the connection works, the server's stack counts no
        /// checksum error; the packet that carries "CLOSE-ME" also gets a FIN, and the server's
        /// read returns end of file while the client still holds the connection open.
        @Test(arguments: Lab.Family.allCases)
        func anAddedFINEndsTheServersRead(_ family: Lab.Family) throws {
            try withLab { lab in
                let server = try lab.peerServer(["eof-server", "9000"])
                let errorsBefore = try lab.checksumErrors(in: lab.server)
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: close-early
                        match: {server_port: 9000, from: client, payload: "CLOSE-ME"}
                        action: {rewrite: {flags: [fin, psh, ack], tos: 4}}
                      - name: mark
                        match: {server_port: 9000, from: client}
                        action: {rewrite: {tos: 4}}
                    """)
                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9000", "--send", "CLOSE-ME", "--hold", "4"])
                #expect(client["result"] as? String == "ok")
                #expect(server.waitFor("\"result\"", timeout: 10))
                let saw = try #require(try? JSONSerialization.jsonObject(with: Data(server.output.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8)) as? [String: Any],
                                       "server printed: \(server.output) \(server.errors)")
                #expect(saw["result"] as? String == "eof", "server saw \(saw)")
                #expect(saw["received"] as? Int == 8)
                #expect((saw["eof_after_s"] as? Double ?? 99) < 2, "the FIN came with the data, not with the client's close 4 s later")
                #expect(try lab.checksumErrors(in: lab.server) == errorsBefore, "the server discarded rewritten packets")
                let report = try lab.stop(netfault).report
                #expect((report.rule("close-early")?.fired ?? 0) >= 1 && (report.rule("mark")?.fired ?? 0) >= 3)
            }
        }

        /// Datagrams cut to 10 bytes and given TOS 40 (0x28) arrive so: the receiving socket reads 10
        /// bytes and the new TOS (IPv4) or traffic class (IPv6), and no checksum error is counted.
        @Test(arguments: Lab.Family.allCases)
        func aTruncatedDatagramArrivesShorterWithItsNewTOS(_ family: Lab.Family) throws {
            try withLab { lab in
                let inspector = try lab.peerServer(["udp-inspect", "9001", "--seconds", "4"])
                let errorsBefore = try lab.checksumErrors(in: lab.server)
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: cut
                        match: {protocol: udp, server_port: 9001, from: client}
                        action: {rewrite: {truncate: 10, tos: 40}}
                    """)
                _ = try lab.peer(lab.client, ["udp-blast", Lab.serverAddress[family]!, "9001", "--count", "5", "--size", "300"])
                #expect(inspector.wait(timeout: 10))
                let line = inspector.output.split(separator: "\n").last.map(String.init) ?? ""
                let result = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "inspector printed: \(inspector.output) \(inspector.errors)")
                let datagrams = result["datagrams"] as? [[String: Any]] ?? []
                #expect(datagrams.count == 5, "datagrams received: \(datagrams)")
                for datagram in datagrams {
                    #expect(datagram["length"] as? Int == 10 && datagram["tos"] as? Int == 0x28, "\(datagram)")
                }
                #expect(try lab.checksumErrors(in: lab.server) == errorsBefore, "the server discarded rewritten datagrams")
                let report = try lab.stop(netfault).report
                #expect(report.rule("cut")?.fired == 5)
            }
        }

        /// An upload whose every segment is rewritten (TOS; GSO super-packets included, which the
        /// middlebox queues whole) completes byte for byte.
        @Test(arguments: Lab.Family.allCases)
        func aRewrittenUploadCompletes(_ family: Lab.Family) throws {
            try withLab { lab in
                let sink = try lab.peerServer(["stream-server", "9002", "--sink"])
                let errorsBefore = try lab.checksumErrors(in: lab.server)
                let netfault = try lab.netfault(in: lab.middlebox, rules: """
                    hooks: [forward]
                    rules:
                      - name: mark
                        match: {server_port: 9002}
                        action: {rewrite: {tos: 4}}
                    """)
                let client = try lab.peer(lab.client, ["connect", Lab.serverAddress[family]!, "9002", "--upload", "3000000"])
                #expect(client["result"] as? String == "ok" && client["sent"] as? Int == 3_000_000, "\(client)")
                #expect(sink.waitFor("\"received\": 3000000", timeout: 10), "server: \(sink.output)")
                #expect(try lab.checksumErrors(in: lab.server) == errorsBefore)
                let report = try lab.stop(netfault).report
                let upload = try #require(report.connections(toPort: 9002).first)
                #expect(upload.outcome == "closed")
            }
        }
    }
}

extension Lab {
    /// The checksum errors `namespace`'s stack counted on receipt (TCP, UDP over IPv4 and IPv6): a
    /// packet with a wrong checksum is discarded and counted here, and nowhere else.
    func checksumErrors(in namespace: String) throws -> Int {
        let result = try run(namespace, ["nstat", "-asz", "TcpInCsumErrors", "UdpInCsumErrors", "Udp6InCsumErrors"], timeout: 10)
        guard result.status == 0 else { throw Failure(description: "nstat: \(result.errors)") }
        return result.output.split(separator: "\n").reduce(0) { total, line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return total + (fields.count >= 2 ? Int(fields[1]) ?? 0 : 0)
        }
    }
}
