/// The traffic a rule set sends to the queue: at each hook, packets of either direction of any
/// connection some rule could match. Everything else never leaves the kernel's fast path.
public struct DiversionPlan: Sendable, Equatable {
    /// One packet filter, as a firewall rule would express it.
    public struct Filter: Hashable, Sendable, CustomStringConvertible {
        /// nil: both IPv4 and IPv6.
        public var family: IPAddress.Family?
        public var transport: Transport
        public var source: CIDR?
        public var destination: CIDR?
        public var sourcePorts: PortRange?
        public var destinationPorts: PortRange?

        /// Whether every packet `other` takes is taken by this one too. After `normalized`, two
        /// filters that cover each other are equal.
        func covers(_ other: Filter) -> Bool {
            guard transport == other.transport, family == nil || family == other.family else { return false }
            func coversCIDR(_ mine: CIDR?, _ theirs: CIDR?) -> Bool {
                guard let mine else { return true }
                guard let theirs else { return false }
                return mine.family == theirs.family && mine.prefixLength <= theirs.prefixLength && mine.contains(theirs.network)
            }
            func coversPorts(_ mine: PortRange?, _ theirs: PortRange?) -> Bool {
                guard let mine else { return true }
                guard let theirs else { return false }
                return mine.lower <= theirs.lower && theirs.upper <= mine.upper
            }
            return coversCIDR(source, other.source) && coversCIDR(destination, other.destination)
                && coversPorts(sourcePorts, other.sourcePorts) && coversPorts(destinationPorts, other.destinationPorts)
        }

        public var description: String {
            var words = [family.map { "ipv\($0.rawValue)" } ?? "ipv4+ipv6", transport.rawValue]
            if let source { words.append("from \(source)") }
            if let sourcePorts { words.append("source port \(sourcePorts)") }
            if let destination { words.append("to \(destination)") }
            if let destinationPorts { words.append("destination port \(destinationPorts)") }
            if words.count == 2 { words.append("all packets") }
            return words.joined(separator: " ")
        }
    }

    /// The first queue, and how many from it the kernel spreads connections over.
    public let queue: UInt16
    public let queues: Int
    public let hooks: [Hook]
    /// Applied at every hook; none covers another.
    public let filters: [Filter]
    /// ICMP destination-unreachable messages are diverted too (when TCP or UDP is, and ICMP is not
    /// already): they tell a connection that was refused or unreachable from one that timed out.
    public let divertsUnreachables: Bool

    public init(_ ruleSet: RuleSet) {
        queue = ruleSet.queue
        queues = ruleSet.queues
        hooks = ruleSet.hooks
        // Each filter once, the first of those that take the same packets (`198.18.1.7/24` is `198.18.1.0/24`).
        var candidates: [Filter] = []
        var seen = Set<Filter>()
        for match in ruleSet.enabledRules.map(\.match) + ruleSet.observe {
            let family = match.client?.family ?? match.server?.family
            // Client to server, then server to client: both directions of the connection.
            let forward = Filter(family: family, transport: match.transport, source: match.client, destination: match.server,
                                 sourcePorts: match.clientPort, destinationPorts: match.serverPort)
            let backward = Filter(family: family, transport: match.transport, source: match.server, destination: match.client,
                                  sourcePorts: match.serverPort, destinationPorts: match.clientPort)
            for filter in [forward, backward] where seen.insert(filter.normalized).inserted { candidates.append(filter) }
        }
        filters = Self.uncovered(candidates)
        divertsUnreachables = !filters.contains { $0.transport == .icmp && $0.source == nil && $0.destination == nil }
    }

    /// Loopback traffic passes OUTPUT and then INPUT: when both are hooked, INPUT skips `lo`, so
    /// each packet is queued (held, counted, dropped) once, not twice.
    public func skipsLoopback(at hook: Hook) -> Bool {
        hook == .input && hooks.contains(.output)
    }

    /// Whether `family` gets the ICMP destination-unreachable filter.
    public func divertsUnreachables(for family: IPAddress.Family) -> Bool {
        divertsUnreachables && filters(for: family).contains { $0.transport != .icmp }
    }

    /// The filters that apply to one address family.
    public func filters(for family: IPAddress.Family) -> [Filter] {
        filters.filter { $0.family == nil || $0.family == family }
    }
}
