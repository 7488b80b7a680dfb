import CNetfilterQueue
import Foundation
import Testing
import NetFaultCore
@testable import NetFaultLinux

/// The nftables expressions and netlink batches netfault's owner tables are made of, checked
/// without root. (The lab's Lifecycle tests check what the kernel and `nft` make of them.)
struct NftDiversionTests {
    static func diversion(_ yaml: String) throws -> NftDiversion {
        NftDiversion(plan: DiversionPlan(try RuleFile.parse(yaml, name: "r.yaml").ruleSet))
    }

    static let twoRules = """
        queue: 3
        hooks: [forward, output, input]
        rules:
          - name: a
            match: {server: 198.18.0.0/15, server_port: 8080-8090}
            action: drop
          - name: b
            match: {protocol: udp, server: 2001:db8::1, server_port: 53}
            action: drop
        """

    @Test func divertQueuesBothDirectionsAndAcceptsInjectedPacketsFirst() throws {
        let diversion = try Self.diversion(Self.twoRules)
        #expect(diversion.tableName == "netfault-3")
        #expect(diversion.families == [.v4, .v6])
        let v4 = diversion.divertRules(for: .v4).map { $0.map(\.description) }
        #expect(v4 == [
            ["meta load mark => reg 1", "cmp equal reg 1 0x0100666e", "immediate accept"],
            ["meta load l4proto => reg 1", "cmp equal reg 1 0x06",
             "payload load 4b @ network header + 16 => reg 1", "bitwise reg 1 & 0xfffe0000", "cmp equal reg 1 0xc6120000",
             "payload load 2b @ transport header + 2 => reg 1", "cmp atLeast reg 1 0x1f90", "cmp atMost reg 1 0x1f9a",
             "immediate jump enqueue"],
            ["meta load l4proto => reg 1", "cmp equal reg 1 0x06",
             "payload load 4b @ network header + 12 => reg 1", "bitwise reg 1 & 0xfffe0000", "cmp equal reg 1 0xc6120000",
             "payload load 2b @ transport header + 0 => reg 1", "cmp atLeast reg 1 0x1f90", "cmp atMost reg 1 0x1f9a",
             "immediate jump enqueue"],
            ["meta load l4proto => reg 1", "cmp equal reg 1 0x01", "payload load 1b @ transport header + 0 => reg 1",
             "cmp equal reg 1 0x03", "immediate jump enqueue"],
        ])
        #expect(diversion.enqueueRule.map(\.description) == ["counter", "target NFQUEUE num 3 total 1 bypass"],
                "one counter of every packet diverted, which a change of the filters leaves as it is")
        let v6 = diversion.divertRules(for: .v6).map { $0.map(\.description) }
        #expect(v6[1] == ["meta load l4proto => reg 1", "cmp equal reg 1 0x11",
                          "payload load 16b @ network header + 24 => reg 1", "cmp equal reg 1 0x20010db8000000000000000000000001",
                          "payload load 2b @ transport header + 2 => reg 1", "cmp equal reg 1 0x0035",
                          "immediate jump enqueue"], "a whole address needs no mask")
        #expect(v6.last?[1] == "cmp equal reg 1 0x3a" && v6.last?[3] == "cmp equal reg 1 0x01", "ICMPv6 destination unreachable")
    }

    @Test func inputSkipsLoopbackOnlyWhenOutputIsHookedToo() throws {
        let both = try Self.diversion(Self.twoRules)
        #expect(both.hookRule(.input).map(\.description)
                == ["meta load inputInterfaceName => reg 1", "cmp notEqual reg 1 0x6c6f0000000000000000000000000000", "immediate jump divert"])
        #expect(both.hookRule(.output).map(\.description) == ["immediate jump divert"])
        let inputOnly = try Self.diversion("hooks: [input]\nrules:\n  - {name: a, match: {server_port: 1}, action: drop}\n")
        #expect(inputOnly.hookRule(.input).map(\.description) == ["immediate jump divert"])
    }

    @Test(arguments: [(0, [0, 0, 0, 0]), (1, [0x80, 0, 0, 0]), (15, [0xff, 0xfe, 0, 0]), (24, [0xff, 0xff, 0xff, 0]), (32, [0xff, 0xff, 0xff, 0xff])])
    func prefixMasks(_ length: Int, _ mask: [UInt8]) {
        #expect(NftDiversion.prefixMask(length: length, bytes: 4) == mask)
    }

    @Test func aZeroPrefixMatchesEveryAddress() throws {
        #expect(NftDiversion.match(try CIDR(parsing: "0.0.0.0/0"), offset: 12).isEmpty)
    }

    /// The install batch: begin, one table per family with the owner flag, every message asking for
    /// an acknowledgement and named for errors, end.
    @Test func theInstallBatchIsOneTransactionOfAcknowledgedMessages() throws {
        let diversion = try Self.diversion(Self.twoRules)
        let batch = diversion.installBatch(firstSequence: 100)
        let messages = batch.bytes.withUnsafeBytes { buffer in
            NetlinkMessage.messages(in: buffer).map { (type: $0.type, flags: $0.flags, sequence: $0.sequence, family: $0.payload[0],
                                                       table: $0.attributes(after: 4).first(1)?.string,
                                                       tableFlags: $0.attributes(after: 4).first(2)?.bigEndianUInt32) }
        }
        #expect(messages.count == 2 + 2 * (1 + 2 + 1 + 4 + 3 * 2), "per family: table, enqueue and divert, their 1 and 4 rules, 3 hooks × (chain, rule)")
        #expect(messages.first?.type == 0x10 && messages.last?.type == 0x11, "NFNL_MSG_BATCH_BEGIN … NFNL_MSG_BATCH_END")
        #expect(messages.map(\.sequence) == Array(100..<UInt32(100 + messages.count)))
        let inner = messages.dropFirst().dropLast()
        #expect(inner.allSatisfy { $0.flags & Netlink.acknowledge != 0 && batch.labels[$0.sequence] != nil })
        let tables = inner.filter { $0.type == 0x0a00 }
        #expect(tables.map(\.family) == [2, 10])
        #expect(tables.allSatisfy { $0.table == "netfault-3" && $0.tableFlags == 2 && $0.flags & Netlink.exclusive != 0 }, "owner flag, exclusive")
        #expect(batch.labels[101] == "creating table ip netfault-3")
    }

    /// Only the base chains' jump rules go: deleting a base chain unregisters its hook, and the
    /// kernel then drops every packet still queued or held.
    /// `queues: 4`: the NFQUEUE target spreads over four queues from the first, as
    /// `--queue-balance` does.
    @Test func severalQueuesAreOneTargetWithATotal() throws {
        let diversion = try Self.diversion("queue: 3\nqueues: 4\nhooks: [forward]\nrules:\n  - {name: a, match: {server_port: 80}, action: drop}\n")
        #expect(diversion.enqueueRule.last?.description == "target NFQUEUE num 3 total 4 bypass")
    }

    @Test func detachRemovesOnlyTheJumpsIntoDivert() throws {
        let batch = try Self.diversion(Self.twoRules).detachBatch(firstSequence: 1)
        #expect(batch.labels.values.sorted().first == "removing the jump of chain ip netfault-3 forward")
        #expect(batch.labels.count == 2 * 3, "per family and hook: its jump rule, no chain")
        #expect(!batch.labels.values.contains { $0.contains("divert") })
    }

    /// A rule dump as the kernel sends it: the counters of every rule are summed, other
    /// expressions and messages are passed over.
    @Test func countedPacketsSumsTheCountersOfARuleDump() {
        var writer = NetlinkWriter()
        for packets: UInt64 in [5, 1 << 40] {
            writer.beginMessage(type: NftDiversion.messageType(NFT_MSG_NEWRULE), flags: 2, sequence: 1, family: 2)
            writer.put(attribute(NFTA_RULE_TABLE), string: "netfault-0")
            writer.nest(attribute(NFTA_RULE_EXPRESSIONS)) { list in
                NftExpression.meta(.l4proto).write(to: &list)
                list.nest(attribute(NFTA_LIST_ELEM)) { element in
                    element.put(attribute(NFTA_EXPR_NAME), string: "counter")
                    element.nest(attribute(NFTA_EXPR_DATA)) {
                        $0.put(attribute(NFTA_COUNTER_BYTES), bytes: withUnsafeBytes(of: UInt64(999).bigEndian) { Array($0) })
                        $0.put(attribute(NFTA_COUNTER_PACKETS), bytes: withUnsafeBytes(of: packets.bigEndian) { Array($0) })
                    }
                }
                NftExpression.queue(number: 0, total: 1, bypass: true).write(to: &list)
            }
            writer.endMessage()
        }
        writer.beginMessage(type: NetlinkMessage.doneType, flags: 2, sequence: 1, family: 0)
        writer.endMessage()
        let dump = writer.bytes
        #expect(dump.withUnsafeBytes { NftDumps.countedPackets(inRuleDump: $0) } == 5 + (1 << 40))
        // Cut anywhere, it counts what is whole and never traps.
        for cut in stride(from: 0, to: dump.count, by: 3) {
            let counted = Array(dump[..<cut]).withUnsafeBytes { NftDumps.countedPackets(inRuleDump: $0) }
            #expect(counted == 0 || counted == 5 || counted == 5 + (1 << 40))
        }
    }

    @Test func anAcknowledgementNamesItsRequest() {
        var bytes = [UInt8]()
        for value: UInt32 in [36, 2, 7, 0] { withUnsafeBytes(of: value) { bytes += $0 } }  // len, type|flags, seq, pid
        withUnsafeBytes(of: Int32(-EEXIST)) { bytes += $0 }
        for value: UInt32 in [20, 0x0a00, 41, 0] { withUnsafeBytes(of: value) { bytes += $0 } }  // the request's header
        let answer = bytes.withUnsafeBytes { Array(NetlinkMessage.messages(in: $0)).first?.errorCode }
        #expect(answer?.errno == EEXIST && answer?.sequence == 41)
    }
}
