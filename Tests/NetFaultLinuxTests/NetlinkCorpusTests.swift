import Foundation
import Testing
import NetFaultCore
@testable import NetFaultLinux

/// Replays fuzz-netlink's seeds (datagrams the kernel really sent netfault, Fuzz/capture-netlink-corpus)
/// and every input that ever crashed it (Fuzz/regressions/netlink) on every `swift test`.
struct NetlinkCorpusTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static var inputs: [String] {
        ["corpus/netlink", "regressions/netlink"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: fuzzDirectory.appendingPathComponent(folder).path)) ?? [])
                .filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    static func read(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: fuzzDirectory.appendingPathComponent(name)))
    }

    /// The real captures hold every kind the parsers read: queued packets of both families,
    /// acknowledgements, table and rule dumps.
    @Test func theSeedsCoverEveryKindOfMessage() throws {
        var packets: [Int: Int] = [:]
        var tables = 0
        var ruleDumps = 0
        var acknowledgements = 0
        for name in Self.inputs where name.hasPrefix("corpus/") {
            try Self.read(name).withUnsafeBytes { buffer in
                for message in NetlinkMessage.messages(in: buffer) {
                    if let queued = QueuePacketMessage(message), let packet = try? Packet(parsing: queued.packet) {
                        packets[packet.source.family == .v4 ? 4 : 6, default: 0] += 1
                    }
                    if message.errorCode?.errno == 0 { acknowledgements += 1 }
                }
                tables += NftDumps.tables(inDump: buffer).filter { $0.netfaultQueue == 0 && $0.owner != nil }.count
                if NftDumps.countedPackets(inRuleDump: buffer) > 0 { ruleDumps += 1 }
            }
        }
        #expect(packets[4, default: 0] > 0 && packets[6, default: 0] > 0, "\(packets)")
        #expect(acknowledgements > 0 && tables > 0 && ruleDumps > 0, "\(acknowledgements) \(tables) \(ruleDumps)")
    }

    @Test(arguments: inputs)
    func aDatagramIsReadWithinItsBounds(_ name: String) throws {
        let bytes = try Self.read(name)
        bytes.withUnsafeBytes { buffer in
            for message in NetlinkMessage.messages(in: buffer) {
                _ = message.errorCode
                if let queued = QueuePacketMessage(message), let start = queued.packet.baseAddress {
                    #expect(start >= buffer.baseAddress! && start + queued.packet.count <= buffer.baseAddress! + buffer.count)
                }
            }
            _ = NftDumps.countedPackets(inRuleDump: buffer)
            _ = NftDumps.tables(inDump: buffer)
        }
    }
}
