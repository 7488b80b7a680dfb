import CNetfilterQueue
import NetFaultCore

/// The netlink batches of `NftDiversion`: each a transaction the kernel applies whole or not at all.
extension NftDiversion {
    static func messageType(_ message: nf_tables_msg_types) -> UInt16 {
        UInt16(NFNL_SUBSYS_NFTABLES << 8) | UInt16(message.rawValue)
    }

    /// A batch: NFNL_MSG_BATCH_BEGIN, the messages `body` writes, NFNL_MSG_BATCH_END. Every message
    /// asks for an acknowledgement; sequence numbers count up from `firstSequence`.
    static func batch(firstSequence: UInt32, _ body: (inout BatchWriter) -> Void) -> NftBatch {
        var batch = BatchWriter(sequence: firstSequence)
        batch.writer.beginMessage(type: UInt16(NFNL_MSG_BATCH_BEGIN), flags: Netlink.request, sequence: batch.sequence,
                                  family: UInt8(AF_UNSPEC), resourceID: UInt16(NFNL_SUBSYS_NFTABLES))
        batch.writer.endMessage()
        batch.sequence += 1
        body(&batch)
        batch.writer.beginMessage(type: UInt16(NFNL_MSG_BATCH_END), flags: Netlink.request, sequence: batch.sequence,
                                  family: UInt8(AF_UNSPEC), resourceID: UInt16(NFNL_SUBSYS_NFTABLES))
        batch.writer.endMessage()
        return NftBatch(bytes: batch.writer.bytes, beginSequence: firstSequence, labels: batch.labels)
    }

    struct BatchWriter {
        var writer = NetlinkWriter()
        var sequence: UInt32
        var labels: [UInt32: String] = [:]

        /// One acknowledged message of the batch; `label` names it in an error.
        mutating func message(_ type: nf_tables_msg_types, family: UInt8, flags: UInt16 = 0, label: String,
                              _ body: (inout NetlinkWriter) -> Void) {
            writer.beginMessage(type: NftDiversion.messageType(type), flags: Netlink.request | Netlink.acknowledge | flags,
                                sequence: sequence, family: family)
            body(&writer)
            writer.endMessage()
            labels[sequence] = label
            sequence += 1
        }
    }

    /// Creates the tables, chains and rules of every family in one transaction. The table is
    /// created exclusively: a table of the same name (a running netfault on this queue) fails the
    /// whole batch with EEXIST.
    func installBatch(firstSequence: UInt32) -> NftBatch {
        Self.batch(firstSequence: firstSequence) { batch in
            for family in families {
                let protocolFamily = Self.protocolFamily(family)
                batch.message(NFT_MSG_NEWTABLE, family: protocolFamily, flags: Netlink.create | Netlink.exclusive,
                              label: "creating table \(family.tableFamily) \(tableName)") {
                    $0.put(attribute(NFTA_TABLE_NAME), string: tableName)
                    $0.put(attribute(NFTA_TABLE_FLAGS), bigEndian: UInt32(NFT_TABLE_F_OWNER.rawValue))
                }
                for chain in [Self.enqueueChain, Self.divertChain] {
                    batch.message(NFT_MSG_NEWCHAIN, family: protocolFamily, flags: Netlink.create,
                                  label: "creating chain \(family.tableFamily) \(tableName) \(chain)") {
                        $0.put(attribute(NFTA_CHAIN_TABLE), string: tableName)
                        $0.put(attribute(NFTA_CHAIN_NAME), string: chain)
                    }
                }
                appendRule(enqueueRule, chain: Self.enqueueChain, family: family, to: &batch)
                for rule in divertRules(for: family) {
                    appendRule(rule, chain: Self.divertChain, family: family, to: &batch)
                }
                for hook in plan.hooks {
                    batch.message(NFT_MSG_NEWCHAIN, family: protocolFamily, flags: Netlink.create,
                                  label: "creating chain \(family.tableFamily) \(tableName) \(Self.chainName(hook)) (hook \(hook.rawValue))") {
                        $0.put(attribute(NFTA_CHAIN_TABLE), string: tableName)
                        $0.put(attribute(NFTA_CHAIN_NAME), string: Self.chainName(hook))
                        $0.nest(attribute(NFTA_CHAIN_HOOK)) { hookAttributes in
                            hookAttributes.put(attribute(NFTA_HOOK_HOOKNUM), bigEndian: Self.hookNumber(hook))
                            hookAttributes.put(attribute(NFTA_HOOK_PRIORITY), bigEndian: UInt32(bitPattern: Self.priority))
                        }
                        $0.put(attribute(NFTA_CHAIN_POLICY), bigEndian: UInt32(NF_ACCEPT))
                        $0.put(attribute(NFTA_CHAIN_TYPE), string: "filter")
                    }
                    appendRule(hookRule(hook), chain: Self.chainName(hook), family: family, to: &batch)
                }
            }
        }
    }

    /// Replaces the filters of `divert` in every family with this diversion's, in one
    /// transaction: each packet meets the old filters or the new ones. The `enqueue` counter and
    /// the hook chains stay as they are.
    func replaceFiltersBatch(firstSequence: UInt32) -> NftBatch {
        Self.batch(firstSequence: firstSequence) { batch in
            for family in families {
                batch.message(NFT_MSG_DELRULE, family: Self.protocolFamily(family),
                              label: "emptying chain \(family.tableFamily) \(tableName) \(Self.divertChain)") {
                    $0.put(attribute(NFTA_RULE_TABLE), string: tableName)
                    $0.put(attribute(NFTA_RULE_CHAIN), string: Self.divertChain)
                }
                for rule in divertRules(for: family) {
                    appendRule(rule, chain: Self.divertChain, family: family, to: &batch)
                }
            }
        }
    }

    private func appendRule(_ expressions: [NftExpression], chain: String, family: IPAddress.Family, to batch: inout BatchWriter) {
        let text = expressions.map(\.description).joined(separator: "; ")
        batch.message(NFT_MSG_NEWRULE, family: Self.protocolFamily(family), flags: Netlink.create | Netlink.append,
                      label: "adding to \(family.tableFamily) \(tableName) \(chain) the rule [\(text)]") {
            $0.put(attribute(NFTA_RULE_TABLE), string: tableName)
            $0.put(attribute(NFTA_RULE_CHAIN), string: chain)
            $0.nest(attribute(NFTA_RULE_EXPRESSIONS)) { list in
                for expression in expressions { expression.write(to: &list) }
            }
        }
    }

    /// Deletes the jump rules of the hooks' base chains: no packet enters `divert` any more, so its
    /// counters are final. The base chains themselves stay until the tables go: unregistering a
    /// hook makes the kernel drop every packet waiting in any queue of the namespace
    /// (nf_queue_nf_hook_drop), and held packets must leave as their rule says first.
    func detachBatch(firstSequence: UInt32) -> NftBatch {
        Self.batch(firstSequence: firstSequence) { batch in
            for family in families {
                for hook in plan.hooks {
                    batch.message(NFT_MSG_DELRULE, family: Self.protocolFamily(family),
                                  label: "removing the jump of chain \(family.tableFamily) \(tableName) \(Self.chainName(hook))") {
                        $0.put(attribute(NFTA_RULE_TABLE), string: tableName)
                        $0.put(attribute(NFTA_RULE_CHAIN), string: Self.chainName(hook))
                    }
                }
            }
        }
    }

    /// Deletes queue `queue`'s tables in the given families.
    static func deleteBatch(queue: UInt16, families: [IPAddress.Family], firstSequence: UInt32) -> NftBatch {
        batch(firstSequence: firstSequence) { batch in
            for family in families {
                batch.message(NFT_MSG_DELTABLE, family: protocolFamily(family),
                              label: "deleting table \(family.tableFamily) \(tableName(queue: queue))") {
                    $0.put(attribute(NFTA_TABLE_NAME), string: tableName(queue: queue))
                }
            }
        }
    }

    /// A dump request for the rule of `enqueue` in `family`'s table: its counter is every packet diverted.
    func enqueueRuleRequest(family: IPAddress.Family, sequence: UInt32) -> [UInt8] {
        var writer = NetlinkWriter()
        writer.beginMessage(type: Self.messageType(NFT_MSG_GETRULE), flags: Netlink.request | Netlink.dump, sequence: sequence,
                            family: Self.protocolFamily(family))
        writer.put(attribute(NFTA_RULE_TABLE), string: tableName)
        writer.put(attribute(NFTA_RULE_CHAIN), string: Self.enqueueChain)
        writer.endMessage()
        return writer.bytes
    }

    /// A dump request for every nftables table, all families.
    static func tablesRequest(sequence: UInt32) -> [UInt8] {
        var writer = NetlinkWriter()
        writer.beginMessage(type: messageType(NFT_MSG_GETTABLE), flags: Netlink.request | Netlink.dump, sequence: sequence,
                            family: UInt8(NFPROTO_UNSPEC))
        writer.endMessage()
        return writer.bytes
    }
}

/// A batch of nftables messages ready to send, with what each acknowledged message does.
struct NftBatch {
    var bytes: [UInt8]
    /// NFNL_MSG_BATCH_BEGIN's sequence number: a refusal of the whole batch answers it.
    var beginSequence: UInt32
    var labels: [UInt32: String]
}

extension IPAddress.Family {
    /// The nft family keyword: `ip` or `ip6`.
    var tableFamily: String { self == .v4 ? "ip" : "ip6" }
}
