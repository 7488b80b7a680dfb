import NetFaultCore

/// The firewall rules that divert a rule set's traffic to its queue, as iptables-restore input for
/// the mangle table: a chain of netfault's own (`NETFAULT-<queue>`) that returns injected packets
/// and queues the rest with `--queue-bypass`, jumped to from each hook's built-in chain.
/// Pure text, so it is tested without root; `IptablesHooks` feeds it to the kernel.
public struct IptablesRules: Sendable {
    public let queue: UInt16
    public let hooks: [Hook]
    public let plan: DiversionPlan

    public init(_ plan: DiversionPlan) {
        self.plan = plan
        queue = plan.queue
        hooks = plan.hooks
    }

    public static func chainName(queue: UInt16) -> String { "NETFAULT-\(queue)" }
    public var chain: String { Self.chainName(queue: queue) }

    static func builtInChain(_ hook: Hook) -> String {
        switch hook {
        case .output: return "OUTPUT"
        case .input: return "INPUT"
        case .forward: return "FORWARD"
        }
    }

    /// Both families get the chain, with filters or none: a rule added later may divert either.
    public var families: [IPAddress.Family] { [.v4, .v6] }

    /// The NFQUEUE target's options: one queue, or a range the kernel spreads connections over.
    var target: String {
        let queues = plan.queues > 1 ? "--queue-balance \(queue):\(Int(queue) + plan.queues - 1)" : "--queue-num \(queue)"
        return queues + " --queue-bypass"
    }

    /// iptables-restore (`.v4`) or ip6tables-restore (`.v6`) input, for `--noflush`: creates the
    /// chain and the jumps in one transaction.
    public func installScript(for family: IPAddress.Family) -> String {
        var lines = ["*mangle", ":\(chain) - [0:0]"] + chainRules(for: family)
        for hook in hooks {
            lines.append("-I \(Self.builtInChain(hook)) 1 \(jumpCondition(hook))-j \(chain)")
        }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// iptables-restore input, for `--noflush`, that replaces the chain's rules with this plan's
    /// in one transaction (the jumps to it stay).
    public func replaceFiltersScript(for family: IPAddress.Family) -> String {
        (["*mangle", "-F \(chain)"] + chainRules(for: family) + ["COMMIT"]).joined(separator: "\n") + "\n"
    }

    /// The `-A` lines of netfault's chain: injected packets return, the filters' packets are queued.
    private func chainRules(for family: IPAddress.Family) -> [String] {
        var lines = ["-A \(chain) -m mark --mark 0x\(String(PacketInjector.mark, radix: 16)) -j RETURN"]
        for filter in plan.filters(for: family) {
            lines.append("-A \(chain) \(Self.arguments(filter, family: family)) -j NFQUEUE \(target)")
        }
        if plan.divertsUnreachables(for: family) {
            let match = family == .v4 ? "-p icmp --icmp-type destination-unreachable" : "-p ipv6-icmp --icmpv6-type destination-unreachable"
            lines.append("-A \(chain) \(match) -j NFQUEUE \(target)")
        }
        return lines
    }

    /// The jump's own match: see `DiversionPlan.skipsLoopback(at:)`.
    func jumpCondition(_ hook: Hook) -> String {
        plan.skipsLoopback(at: hook) ? "! -i lo " : ""
    }

    /// The iptables match arguments of one filter.
    static func arguments(_ filter: DiversionPlan.Filter, family: IPAddress.Family) -> String {
        var words: [String] = []
        switch filter.transport {
        case .tcp: words.append("-p tcp")
        case .udp: words.append("-p udp")
        case .icmp: words.append(family == .v4 ? "-p icmp" : "-p ipv6-icmp")
        }
        if let source = filter.source { words.append("-s \(source)") }
        if let destination = filter.destination { words.append("-d \(destination)") }
        if let ports = filter.sourcePorts { words.append("--sport \(portArgument(ports))") }
        if let ports = filter.destinationPorts { words.append("--dport \(portArgument(ports))") }
        return words.joined(separator: " ")
    }

    static func portArgument(_ ports: PortRange) -> String {
        ports.lower == ports.upper ? "\(ports.lower)" : "\(ports.lower):\(ports.upper)"
    }

    /// iptables-restore input that removes every jump to `queue`'s chain found in `saved` (the
    /// output of `iptables-save -t mangle`), then the chain itself. Nil when there is nothing of
    /// netfault's for that queue. Rules netfault did not create are never named.
    public static func removalScript(queue: UInt16, saved: String) -> String? {
        let chain = chainName(queue: queue)
        let chainExists = saved.split(separator: "\n").contains { $0.hasPrefix(":\(chain) ") }
        let deletions = jumpDeletions(queue: queue, saved: saved)
        guard chainExists || !deletions.isEmpty else { return nil }
        var lines = ["*mangle"] + deletions
        if chainExists { lines += ["-F \(chain)", "-X \(chain)"] }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// iptables-restore input that removes only the jumps to `queue`'s chain: no packet enters it
    /// any more, and its counters are final. Nil when there is no jump.
    public static func detachScript(queue: UInt16, saved: String) -> String? {
        let deletions = jumpDeletions(queue: queue, saved: saved)
        guard !deletions.isEmpty else { return nil }
        return (["*mangle"] + deletions + ["COMMIT"]).joined(separator: "\n") + "\n"
    }

    /// `-D` lines for every jump from a built-in chain of the mangle table to `queue`'s chain.
    static func jumpDeletions(queue: UInt16, saved: String) -> [String] {
        let chain = chainName(queue: queue)
        var deletions: [String] = []
        var inMangle = false
        for line in saved.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("*") { inMangle = line == "*mangle" }
            guard inMangle else { continue }
            let words = line.split(separator: " ")
            if words.count >= 4, words[0] == "-A", ["OUTPUT", "INPUT", "FORWARD", "PREROUTING", "POSTROUTING"].contains(words[1]),
               words[words.count - 2] == "-j", words[words.count - 1] == chain {
                deletions.append("-D" + line.dropFirst(2))
            }
        }
        return deletions
    }

    /// The packets `queue`'s NFQUEUE rules sent to the queue, from `iptables-save -c` output
    /// (`[packets:bytes] -A NETFAULT-0 ... -j NFQUEUE ...`).
    public static func divertedPackets(queue: UInt16, savedWithCounters saved: String) -> Int {
        let prefix = "-A \(chainName(queue: queue)) "
        var total = 0
        for line in saved.split(separator: "\n") where line.hasPrefix("[") && line.contains(" -j NFQUEUE") {
            guard let close = line.firstIndex(of: "]"), line[line.index(after: close)...].dropFirst().hasPrefix(prefix) else { continue }
            let counters = line[line.index(after: line.startIndex)..<close].split(separator: ":")
            if let packets = counters.first.flatMap({ Int($0) }) { total += packets }
        }
        return total
    }

    /// Whether `saved` (iptables-save output) holds netfault's chain for `queue`.
    public static func isInstalled(queue: UInt16, saved: String) -> Bool {
        saved.split(separator: "\n").contains { $0.hasPrefix(":\(chainName(queue: queue)) ") }
    }
}
