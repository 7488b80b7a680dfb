import CNetfilterQueue
import NetFaultCore

/// The nftables objects that divert a `DiversionPlan`'s traffic, and the netlink batches that make
/// and unmake them. Per address family, one table `netfault-<queue>` created with the `owner` flag
/// (the kernel destroys it when the netlink socket that made it closes: a killed netfault leaves
/// nothing behind), holding:
///
/// - `divert`: accepts netfault's own injected packets (by mark), then one rule per filter:
///   match, `jump enqueue`; replaced as a whole, in one transaction, when the rules change;
/// - `enqueue`: `counter`, `queue num <queue> bypass`: one counter of every diverted packet,
///   which a change of the filters leaves as it is;
/// - one base chain per hook (`forward`, `output`, `input`; type filter, priority mangle) that
///   jumps to `divert`, skipping `lo` at input when output is hooked too.
///
/// Pure: it only builds and reads bytes, so it is tested without root; `NftHookTables` sends them.
struct NftDiversion {
    let plan: DiversionPlan

    static func tableName(queue: UInt16) -> String { "netfault-\(queue)" }
    static let divertChain = "divert"
    static let enqueueChain = "enqueue"
    /// NF_IP_PRI_MANGLE, where iptables' mangle table sits.
    static let priority: Int32 = -150

    var tableName: String { Self.tableName(queue: plan.queue) }

    /// Both families get a table, with filters or none: a rule added later may divert either.
    var families: [IPAddress.Family] { [.v4, .v6] }

    static func protocolFamily(_ family: IPAddress.Family) -> UInt8 {
        UInt8(family == .v4 ? NFPROTO_IPV4 : NFPROTO_IPV6)
    }

    static func chainName(_ hook: Hook) -> String { hook.rawValue }

    static func hookNumber(_ hook: Hook) -> UInt32 {
        switch hook {
        case .input: return UInt32(NF_INET_LOCAL_IN.rawValue)
        case .forward: return UInt32(NF_INET_FORWARD.rawValue)
        case .output: return UInt32(NF_INET_LOCAL_OUT.rawValue)
        }
    }

    // MARK: Rules

    /// The one rule of the `enqueue` chain: count, and queue (bypassed when the queue is full or unbound).
    var enqueueRule: [NftExpression] {
        [.counter, .queue(number: plan.queue, total: UInt16(plan.queues), bypass: true)]
    }

    /// The rules of the `divert` chain for `family`, in order.
    func divertRules(for family: IPAddress.Family) -> [[NftExpression]] {
        let queue = NftExpression.verdict(.jump(Self.enqueueChain))
        var rules: [[NftExpression]] = [
            // The mark lives in the socket buffer in host byte order.
            [.meta(.mark), .compare(.equal, withUnsafeBytes(of: PacketInjector.mark) { Array($0) }), .verdict(.accept)],
        ]
        for filter in plan.filters(for: family) {
            rules.append(Self.match(filter, family: family) + [queue])
        }
        if plan.divertsUnreachables(for: family) {
            // ICMP type 3 / ICMPv6 type 1: destination unreachable (RFC 792, RFC 4443 §3.1).
            let (icmp, unreachable): (UInt8, UInt8) = family == .v4 ? (1, 3) : (58, 1)
            rules.append([.meta(.l4proto), .compare(.equal, [icmp]), .payload(.transport, offset: 0, length: 1),
                          .compare(.equal, [unreachable]), queue])
        }
        return rules
    }

    /// The one rule of a hook's base chain.
    func hookRule(_ hook: Hook) -> [NftExpression] {
        var rule: [NftExpression] = []
        if plan.skipsLoopback(at: hook) {
            var name = Array("lo".utf8)
            name += Array(repeating: 0, count: 16 - name.count)  // IFNAMSIZ, as nft compares it
            rule += [.meta(.inputInterfaceName), .compare(.notEqual, name)]
        }
        return rule + [.verdict(.jump(Self.divertChain))]
    }

    /// The expressions that match one filter's packets.
    static func match(_ filter: DiversionPlan.Filter, family: IPAddress.Family) -> [NftExpression] {
        let transport: UInt8
        switch filter.transport {
        case .tcp: transport = 6
        case .udp: transport = 17
        case .icmp: transport = family == .v4 ? 1 : 58
        }
        var expressions: [NftExpression] = [.meta(.l4proto), .compare(.equal, [transport])]
        // IPv4 source at 12, destination at 16 (RFC 791); IPv6 at 8 and 24 (RFC 8200).
        let (sourceOffset, destinationOffset): (UInt32, UInt32) = family == .v4 ? (12, 16) : (8, 24)
        if let source = filter.source { expressions += match(source, offset: sourceOffset) }
        if let destination = filter.destination { expressions += match(destination, offset: destinationOffset) }
        // Source port at 0, destination port at 2, for TCP and UDP alike.
        if let ports = filter.sourcePorts { expressions += match(ports, offset: 0) }
        if let ports = filter.destinationPorts { expressions += match(ports, offset: 2) }
        return expressions
    }

    static func match(_ block: CIDR, offset: UInt32) -> [NftExpression] {
        guard block.prefixLength > 0 else { return [] }
        let address = block.network.bytes
        var expressions: [NftExpression] = [.payload(.network, offset: offset, length: UInt32(address.count))]
        if block.prefixLength < address.count * 8 {
            expressions.append(.mask(prefixMask(length: block.prefixLength, bytes: address.count)))
        }
        return expressions + [.compare(.equal, address)]
    }

    static func prefixMask(length: Int, bytes: Int) -> [UInt8] {
        (0..<bytes).map { index in
            let bits = min(8, max(0, length - index * 8))
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
        }
    }

    static func match(_ ports: PortRange, offset: UInt32) -> [NftExpression] {
        func bigEndian(_ port: UInt16) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 0xff)] }
        let load = NftExpression.payload(.transport, offset: offset, length: 2)
        if ports.lower == ports.upper { return [load, .compare(.equal, bigEndian(ports.lower))] }
        // nft compares registers bytewise, so big-endian ports compare as numbers.
        return [load, .compare(.atLeast, bigEndian(ports.lower)), .compare(.atMost, bigEndian(ports.upper))]
    }
}
