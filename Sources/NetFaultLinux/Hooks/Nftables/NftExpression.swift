import CNetfilterQueue

/// One nftables rule expression, as the kernel's nf_tables API takes it: the same few that
/// iptables-nft emits for an NFQUEUE rule (`nft --debug=netlink list ruleset` shows them), so the
/// kernel runs netfault's diversion exactly as it would run `iptables -j NFQUEUE`.
enum NftExpression: Equatable, CustomStringConvertible {
    /// Loads packet metadata (`meta load l4proto => reg 1`).
    case meta(MetaKey)
    /// Loads `length` bytes at `offset` from a header (`payload load 2b @ transport header + 2 => reg 1`).
    case payload(PayloadBase, offset: UInt32, length: UInt32)
    /// Keeps only the bits of `mask` (`bitwise reg 1 = (reg 1 & 0xffffff00) ^ 0x0`): a prefix.
    case mask([UInt8])
    /// Compares the register with `data`; a false comparison ends the rule.
    case compare(CompareOperator, [UInt8])
    /// Counts the packets and bytes that reach it.
    case counter
    /// Ends evaluation of the chain: accept, or jump to a chain.
    case verdict(Verdict)
    /// The xtables NFQUEUE target (revision 3) through nft's compat layer, as iptables-nft puts it:
    /// kernels without nft's native `queue` statement still run it.
    case queue(number: UInt16, total: UInt16, bypass: Bool)

    enum MetaKey: Equatable {
        case l4proto, mark, inputInterfaceName

        var kernelKey: UInt32 {
            switch self {
            case .l4proto: return NFT_META_L4PROTO.rawValue
            case .mark: return NFT_META_MARK.rawValue
            case .inputInterfaceName: return NFT_META_IIFNAME.rawValue
            }
        }
    }

    enum PayloadBase: Equatable {
        case network, transport

        var kernelBase: UInt32 {
            self == .network ? NFT_PAYLOAD_NETWORK_HEADER.rawValue : NFT_PAYLOAD_TRANSPORT_HEADER.rawValue
        }
    }

    enum CompareOperator: Equatable {
        case equal, notEqual, atLeast, atMost

        var kernelOperator: UInt32 {
            switch self {
            case .equal: return NFT_CMP_EQ.rawValue
            case .notEqual: return NFT_CMP_NEQ.rawValue
            case .atLeast: return NFT_CMP_GTE.rawValue
            case .atMost: return NFT_CMP_LTE.rawValue
            }
        }
    }

    enum Verdict: Equatable {
        case accept
        case jump(String)
    }

    /// Every expression reads or writes register 1 (16 bytes: an IPv6 address fits).
    static let register = UInt32(NFT_REG_1.rawValue)

    var name: String {
        switch self {
        case .meta: return "meta"
        case .payload: return "payload"
        case .mask: return "bitwise"
        case .compare: return "cmp"
        case .counter: return "counter"
        case .verdict: return "immediate"
        case .queue: return "target"
        }
    }

    /// Appends this expression as one element of NFTA_RULE_EXPRESSIONS.
    func write(to writer: inout NetlinkWriter) {
        writer.nest(attribute(NFTA_LIST_ELEM)) { element in
            element.put(attribute(NFTA_EXPR_NAME), string: name)
            element.nest(attribute(NFTA_EXPR_DATA)) { data in
                switch self {
                case .meta(let key):
                    data.put(attribute(NFTA_META_DREG), bigEndian: Self.register)
                    data.put(attribute(NFTA_META_KEY), bigEndian: key.kernelKey)
                case .payload(let base, let offset, let length):
                    data.put(attribute(NFTA_PAYLOAD_DREG), bigEndian: Self.register)
                    data.put(attribute(NFTA_PAYLOAD_BASE), bigEndian: base.kernelBase)
                    data.put(attribute(NFTA_PAYLOAD_OFFSET), bigEndian: offset)
                    data.put(attribute(NFTA_PAYLOAD_LEN), bigEndian: length)
                case .mask(let mask):
                    data.put(attribute(NFTA_BITWISE_SREG), bigEndian: Self.register)
                    data.put(attribute(NFTA_BITWISE_DREG), bigEndian: Self.register)
                    data.put(attribute(NFTA_BITWISE_LEN), bigEndian: UInt32(mask.count))
                    data.nest(attribute(NFTA_BITWISE_MASK)) { $0.put(attribute(NFTA_DATA_VALUE), bytes: mask) }
                    data.nest(attribute(NFTA_BITWISE_XOR)) { $0.put(attribute(NFTA_DATA_VALUE), bytes: Array(repeating: 0, count: mask.count)) }
                case .compare(let operation, let value):
                    data.put(attribute(NFTA_CMP_SREG), bigEndian: Self.register)
                    data.put(attribute(NFTA_CMP_OP), bigEndian: operation.kernelOperator)
                    data.nest(attribute(NFTA_CMP_DATA)) { $0.put(attribute(NFTA_DATA_VALUE), bytes: value) }
                case .counter:
                    break
                case .verdict(let verdict):
                    data.put(attribute(NFTA_IMMEDIATE_DREG), bigEndian: UInt32(NFT_REG_VERDICT.rawValue))
                    data.nest(attribute(NFTA_IMMEDIATE_DATA)) { immediate in
                        immediate.nest(attribute(NFTA_DATA_VERDICT)) { code in
                            switch verdict {
                            case .accept:
                                code.put(attribute(NFTA_VERDICT_CODE), bigEndian: UInt32(NF_ACCEPT))
                            case .jump(let chain):
                                code.put(attribute(NFTA_VERDICT_CODE), bigEndian: UInt32(bitPattern: NFT_JUMP.rawValue))
                                code.put(attribute(NFTA_VERDICT_CHAIN), string: chain)
                            }
                        }
                    }
                case .queue(let number, let total, let bypass):
                    data.put(attribute(NFTA_TARGET_NAME), string: "NFQUEUE")
                    data.put(attribute(NFTA_TARGET_REV), bigEndian: 3)
                    // struct xt_NFQ_info_v3 { u16 queuenum, queues_total, flags } in host byte
                    // order, padded to XT_ALIGN (8) as the kernel's size check expects.
                    var info: [UInt8] = []
                    for field in [number, total, bypass ? UInt16(NFQ_FLAG_BYPASS) : 0] { withUnsafeBytes(of: field) { info += $0 } }
                    data.put(attribute(NFTA_TARGET_INFO), bytes: info + [0, 0])
                }
            }
        }
    }

    /// Roughly what `nft --debug=netlink` prints, for test failures and logs.
    var description: String {
        func hex(_ bytes: [UInt8]) -> String { "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        switch self {
        case .meta(let key): return "meta load \(key) => reg 1"
        case .payload(let base, let offset, let length): return "payload load \(length)b @ \(base) header + \(offset) => reg 1"
        case .mask(let mask): return "bitwise reg 1 & \(hex(mask))"
        case .compare(let operation, let value): return "cmp \(operation) reg 1 \(hex(value))"
        case .counter: return "counter"
        case .verdict(.accept): return "immediate accept"
        case .verdict(.jump(let chain)): return "immediate jump \(chain)"
        case .queue(let number, let total, let bypass): return "target NFQUEUE num \(number) total \(total)\(bypass ? " bypass" : "")"
        }
    }
}

/// A kernel attribute enumerator as the 16-bit netlink attribute type.
func attribute<T: RawRepresentable>(_ value: T) -> UInt16 where T.RawValue: BinaryInteger { UInt16(value.rawValue) }
