import CNetfilterQueue

/// Reads what nf_tables answers to a dump request, trusting none of it (`fuzz-netlink` feeds it
/// arbitrary bytes): a malformed message or attribute is skipped, never a trap.
public enum NftDumps {
    /// The packets counted by the `counter` expressions in a rule dump (NFT_MSG_NEWRULE messages):
    /// for netfault's `divert` chain, how many packets the hooks queued.
    public static func countedPackets(inRuleDump buffer: UnsafeRawBufferPointer) -> Int {
        var total: UInt64 = 0
        for message in NetlinkMessage.messages(in: buffer) where message.type == NftDiversion.messageType(NFT_MSG_NEWRULE) {
            guard let expressions = message.attributes(after: 4).first(attribute(NFTA_RULE_EXPRESSIONS)) else { continue }
            for element in expressions.nested where element.type == attribute(NFTA_LIST_ELEM) {
                let parts = element.nested
                guard parts.first(attribute(NFTA_EXPR_NAME))?.string == "counter",
                      let packets = parts.first(attribute(NFTA_EXPR_DATA))?.nested.first(attribute(NFTA_COUNTER_PACKETS))?.bigEndianUInt64
                else { continue }
                total &+= packets
            }
        }
        return Int(clamping: total)
    }

    /// One table in a table dump (NFT_MSG_NEWTABLE messages).
    public struct Table: Equatable, Sendable {
        /// NFPROTO_IPV4, NFPROTO_IPV6, ...
        public var family: UInt8
        public var name: String
        public var flags: UInt32
        /// The netlink port of the socket that owns it; nil for a table without the owner flag.
        public var owner: UInt32?

        /// The queue of a `netfault-<queue>` table.
        public var netfaultQueue: UInt16? {
            name.hasPrefix("netfault-") ? UInt16(name.dropFirst("netfault-".count)) : nil
        }
    }

    public static func tables(inDump buffer: UnsafeRawBufferPointer) -> [Table] {
        var tables: [Table] = []
        for message in NetlinkMessage.messages(in: buffer)
        where message.type == NftDiversion.messageType(NFT_MSG_NEWTABLE) && message.payload.count >= 4 {
            let attributes = message.attributes(after: 4)
            guard let name = attributes.first(attribute(NFTA_TABLE_NAME))?.string else { continue }
            let flags = attributes.first(attribute(NFTA_TABLE_FLAGS))?.bigEndianUInt32 ?? 0
            let owner = flags & UInt32(NFT_TABLE_F_OWNER.rawValue) != 0 ? attributes.first(attribute(NFTA_TABLE_OWNER))?.bigEndianUInt32 : nil
            tables.append(Table(family: message.payload[0], name: name, flags: flags, owner: owner))
        }
        return tables
    }
}
