import Foundation
import Testing
@testable import NetFaultCore

/// Replays the fuzzers' seeds (real packets captured through netfault) and every input that ever
/// crashed them (Fuzz/regressions) through the codec and the engine, on every `swift test`.
struct FuzzReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static var inputs: [String] {
        ["corpus/packets", "regressions/packets"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: fuzzDirectory.appendingPathComponent(folder).path)) ?? [])
                .filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    @Test func theSeedCorpusIsThere() {
        #expect(Self.inputs.filter { $0.hasPrefix("corpus/") }.count >= 30, "\(Self.fuzzDirectory.path)")
    }

    @Test(arguments: inputs)
    func anInputParsesOrIsRefusedAndWhatNetfaultBuildsFromItParses(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.fuzzDirectory.appendingPathComponent(name)))
        var engine = Engine(ruleSet: try RuleFile.parse("""
            rules:
              - {name: reset, match: {protocol: tcp}, action: {reset: both}}
              - {name: icmp, match: {protocol: udp}, action: {reject: icmp-port-unreachable}}
            """, name: "replay.yaml").ruleSet, seed: 1)
        try bytes.withUnsafeBytes { buffer in
            guard let packet = try? Packet(parsing: buffer) else { return }
            _ = packet.quotedHeader
            var produced = [packet.rewritten(with: HeaderRewrite(window: 1, ttl: 2, truncate: 10))]
            produced += packet.segmented(maxPayload: 500)
            if packet.transport != nil { produced.append(PacketBuilder.icmpUnreachable(.port, quoting: packet, from: packet.destination)) }
            produced += engine.process(packet, at: .zero).injections.map(\.bytes)
            for output in produced {
                try output.withUnsafeBytes { _ = try Packet(parsing: $0) }
            }
        }
    }
}
