import Yams

/// A validated rule file (rule language version 1). Built by `RuleFileReader`, so every value
/// here has already been checked: ranges hold, names are unique, actions fit their protocol.
public struct RuleSet: Sendable {
    /// The first NFQUEUE number.
    public var queue: UInt16 = 0
    /// How many queues, numbered from `queue`, each read by a thread of its own. The kernel picks
    /// a connection's queue from its two addresses and protocol (`--queue-balance`), so a
    /// connection stays on one queue, and so do all connections between the same two hosts.
    public var queues = 1
    /// Where traffic is diverted to the queue.
    public var hooks: [Hook] = [.output, .input]
    /// Lift all faults after this long; nil runs until interrupted.
    public var duration: Duration?
    /// Seeds every probability and jitter; nil means the controller picks one and reports it.
    public var seed: UInt64?
    /// First match wins.
    public var rules: [Rule] = []
    /// Connections diverted and reported but never faulted (address, port and protocol fields only).
    public var observe: [Match] = []
    /// How many connections the engine tracks and the report lists.
    public var flows = FlowLimits()
    /// Packets held (`hold`, `delay`) at once; holding one more lets the earliest due go first.
    public var maxHeld = 65_536

    /// Where queue `queue`'s held packets wait: the same number with its top bit flipped.
    public static func parkingQueue(for queue: UInt16) -> UInt16 { queue ^ 0x8000 }

    /// The parking queues of every queue, as text: "32771", a range "32771-32772", or each number
    /// when the range wraps past 65535 ("65535, 0").
    public var parkingQueueNames: String {
        let numbers = (0..<queues).map { Self.parkingQueue(for: queue &+ UInt16($0)) }
        return numbers.count == 1 || numbers.last! < numbers.first!
            ? numbers.map(String.init).joined(separator: ", ") : "\(numbers.first!)-\(numbers.last!)"
    }

    /// The queues traffic is diverted to, as text: "3", or "3-4" with `queues: 2`.
    public var queueRange: String {
        queues == 1 ? "\(queue)" : "\(queue)-\(Int(queue) + queues - 1)"
    }

    /// The rules that act: all but those with `enabled: false`.
    public var enabledRules: [Rule] { rules.filter(\.enabled) }

    /// Whether some rule keeps packets back (`hold`, `delay`): the parking queue is needed.
    public var canHold: Bool { enabledRules.contains(where: \.canHold) }

    /// Whether some rule must see segments as they go on the wire, not GSO super-packets of up to
    /// 64 KiB (the kernel then segments them before queueing).
    public var needsSegments: Bool { enabledRules.contains(where: \.needsSegments) }

    /// Whether some rule reads or rebuilds whole packets. If none does, the queue need copy only
    /// each packet's headers to netfault: the engine decides from them, and a verdict without a
    /// replacement lets the kernel's own packet go on.
    public var needsWholePackets: Bool { enabledRules.contains(where: \.needsWholePackets) }

    public init(queue: UInt16 = 0, hooks: [Hook] = [.output, .input], duration: Duration? = nil,
                seed: UInt64? = nil, rules: [Rule] = []) {
        self.queue = queue
        self.hooks = hooks
        self.duration = duration
        self.seed = seed
        self.rules = rules
    }
}

/// A netfilter hook that traffic can be diverted from.
public enum Hook: String, Sendable, CaseIterable {
    /// Packets this host sends.
    case output
    /// Packets addressed to this host.
    case input
    /// Packets this host routes between others (a middlebox).
    case forward
}

/// Which end of a connection: the client opened it (sent the first SYN, or the first UDP datagram).
public enum Side: String, Sendable, CaseIterable {
    case client, server

    public var other: Side { self == .client ? .server : .client }
}

/// One rule: when `match` holds for a packet, `action` decides its fate.
public struct Rule: Sendable {
    /// Whether it keeps packets back (`hold`, `delay`, `rate`): the parking queue is needed.
    public var canHold: Bool { action.kind.needs.contains(.parking) }

    /// Whether it must see segments rather than GSO super-packets (`segmentsReason` says why).
    public var needsSegments: Bool { segmentsReason != nil }

    /// Why it must see segments, in words for a refusal that names the rule; nil when it need not:
    /// a `size:` match measures the wire; a share of packets (`probability`, a loss model, a rolled
    /// `corrupt` or `reorder`) is a share of those on the wire — 1% loss of super-packets of up to
    /// 45 segments would lose whole windows at once; and an action that needs `.segments` changes
    /// bytes the kernel would checksum anew when it cut a super-packet (`corrupt`).
    public var segmentsReason: String? {
        if match.size != nil { return "matches packet sizes" }
        if match.probability != nil || action.roll != nil { return "acts on a share of the packets on the wire" }
        if action.kind.needs.contains(.segments) { return "changes bytes the kernel would sum anew" }
        return nil
    }

    /// Whether it reads or rebuilds whole packets (`payload:`, `tls_sni:`, `http:`, `dns:`;
    /// `rewrite`, `duplicate`, a `dns` answer, …).
    public var needsWholePackets: Bool { match.readsPayload || action.kind.needs.contains(.wholePackets) }

    public var name: String
    public var match: Match
    public var action: Action
    /// What the rule should have done by the end of the run; nil: nothing stated (it should fire).
    public var expect: Expectation?
    /// Once the rule acts on a connection, it acts on every later packet of it, whatever the
    /// match says (a firewall that forgot a connection keeps dropping it).
    public var sticky: Bool
    /// False: the rule is listed but does not act (`enabled: false`, or `PATCH /v1/rules/NAME`).
    public var enabled = true
    /// The rule as its file wrote it (after parameters were put in): what `GET /v1/rules` gives
    /// back. Nil for a rule built in code.
    public var source: RuleSource?

    public init(name: String, match: Match = Match(), action: Action, expect: Expectation? = nil, sticky: Bool = false) {
        self.name = name
        self.match = match
        self.action = action
        self.expect = expect
        self.sticky = sticky
    }

    /// Whether `other` is this rule unchanged: the same name, match, action, expectation and
    /// stickiness (how the file spelled them, and `enabled`, aside). A rule replaced by itself
    /// keeps its counters and its per-connection state.
    public func hasSameDefinition(as other: Rule) -> Bool {
        name == other.name && match == other.match && action == other.action && expect == other.expect && sticky == other.sticky
    }
}

/// A rule's YAML as read, kept to be written back (`GET /v1/rules`) without being written out
/// for every rule read: a YAML node is an immutable value, shared safely between threads.
public struct RuleSource: @unchecked Sendable {
    let node: Node
}

/// An inclusive port range; a single port is `lower == upper`.
public struct PortRange: Hashable, Sendable, CustomStringConvertible {
    public var lower: UInt16
    public var upper: UInt16

    public init(_ lower: UInt16, _ upper: UInt16) {
        self.lower = lower
        self.upper = upper
    }

    public init(_ port: UInt16) { self.init(port, port) }

    @inlinable
    public func contains(_ port: UInt16) -> Bool { lower <= port && port <= upper }

    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}

/// Connections counted from 1 in order of first packet: `3`, `2-4` or `11-`.
public struct ConnectionRange: Hashable, Sendable, CustomStringConvertible {
    public var lower: Int
    /// nil: no upper end (`11-`).
    public var upper: Int?

    public init(_ lower: Int, _ upper: Int?) {
        self.lower = lower
        self.upper = upper
    }

    @inlinable
    public func contains(_ ordinal: Int) -> Bool { ordinal >= lower && (upper.map { ordinal <= $0 } ?? true) }

    public var description: String {
        switch upper {
        case lower?: return "\(lower)"
        case let upper?: return "\(lower)-\(upper)"
        case nil: return "\(lower)-"
        }
    }
}

/// The conditions of a rule; every field given must hold.
public struct Match: Sendable, Equatable {
    public var transport: Transport = .tcp
    public var client: CIDR?
    public var server: CIDR?
    public var clientPort: PortRange?
    public var serverPort: PortRange?
    /// Which side sent the packet.
    public var from: Side?
    /// The packet's flags among syn ack fin rst psh urg are exactly these; ece and cwr, when listed,
    /// are set too (when not listed, either way).
    public var flags: TCPFlags?
    /// The IP packet's length on the wire is in this range (a GSO super-packet counts as its segments).
    public var size: PacketSizeRange?
    /// The TCP header carries every one of these options.
    public var options: TCPOptionKinds?
    /// The payload contains these bytes.
    public var payload: [UInt8]?
    /// Payload bytes the connection carried before this packet, both directions, at least this many.
    public var afterBytes: UInt64?
    /// At least this long since the connection's first packet.
    public var after: Duration?
    /// The connection was silent at least this long before this packet.
    public var idle: Duration?
    /// Only the nth packet of the connection that satisfies the rest of this match.
    public var nth: Int?
    /// Only these connections among those matching this rule's address/port fields.
    public var connection: ConnectionRange?
    /// Only connections that began while at least this many others matching this rule's address/port fields were open.
    public var concurrentOver: Int?
    /// Act on a matching packet with this probability.
    public var probability: Double?
    /// How much each probability roll depends on the rule's previous one (0 to 1), with the
    /// probability kept: losses come in runs.
    public var correlation: Double?
    /// A TLS ClientHello from the client whose server name matches this glob (the packet that completes the hello).
    public var tlsSNI: NameGlob?
    /// An HTTP/1.x request at the start of a client segment.
    public var http: HTTPRequestMatch?
    /// A DNS query from the client.
    public var dns: DNSQueryMatch?

    public init() {}

    /// Whether the match reads the packet's payload (`payload:`, `tls_sni:`, `http:`, `dns:`): the
    /// queue must copy whole packets.
    public var readsPayload: Bool { payload != nil || tlsSNI != nil || http != nil || dns != nil }

    /// True when the match constrains nothing but the protocol: every packet of it matches.
    public var isUnconditional: Bool {
        client == nil && server == nil && clientPort == nil && serverPort == nil && from == nil && flags == nil
            && size == nil && options == nil && payload == nil && afterBytes == nil && after == nil && idle == nil && nth == nil
            && connection == nil && concurrentOver == nil && probability == nil && correlation == nil
            && tlsSNI == nil && http == nil && dns == nil
    }

    /// Whether the rule keeps per-rule connection state (ordinals, open-connection counts).
    public var countsConnections: Bool { connection != nil || concurrentOver != nil }
}

/// Who receives the RSTs of a `reset` action.
public enum ResetTarget: String, Sendable, CaseIterable {
    case client, server, both

    public func includes(_ side: Side) -> Bool { self == .both || rawValue == side.rawValue }

    /// The one side.
    public init(_ side: Side) { self = side == .client ? .client : .server }
}

/// How a `reject` answers.
public enum RejectKind: String, Sendable, CaseIterable {
    case tcpReset = "tcp-reset"
    case icmpPortUnreachable = "icmp-port-unreachable"
    case icmpHostUnreachable = "icmp-host-unreachable"
    case icmpAdminProhibited = "icmp-admin-prohibited"
    /// What a router on a path of smaller MTU answers a packet too big for it (IPv4 3/4, "fragmentation
    /// needed and DF set", RFC 1191); either name answers each family with its own message.
    case icmpFragNeeded = "icmp-frag-needed"
    /// The same for IPv6 (ICMPv6 type 2, RFC 8201).
    case icmp6PacketTooBig = "icmp6-packet-too-big"

    /// Whether this rejection tells the sender the path's MTU (`mtu:`) rather than refusing.
    public var isPacketTooBig: Bool { self == .icmpFragNeeded || self == .icmp6PacketTooBig }

    /// The ICMP destination-unreachable this rejection sends; nil for `tcp-reset` and packet too big.
    public var unreachableReason: UnreachableReason? {
        switch self {
        case .tcpReset, .icmpFragNeeded, .icmp6PacketTooBig: return nil
        case .icmpPortUnreachable: return .port
        case .icmpHostUnreachable: return .host
        case .icmpAdminProhibited: return .adminProhibited
        }
    }
}

/// The flow table's bounds (`flows:` in the rule file), which keep memory flat however many
/// connections pass.
public struct FlowLimits: Sendable, Equatable {
    /// Connections tracked at once; beyond it the least recently active one is forgotten (evicted).
    public var maxTracked = 262_144
    /// Ended connections listed one by one in the report; beyond it they are only counted by outcome.
    public var maxListed = 100_000

    public init(maxTracked: Int = 262_144, maxListed: Int = 100_000) {
        self.maxTracked = maxTracked
        self.maxListed = maxListed
    }
}
