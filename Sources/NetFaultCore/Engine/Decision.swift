/// What the engine decided for one packet. The queue loop carries it out: one verdict for the
/// packet itself, then the injections, in order.
public struct Decision: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// Let the packet through as it is.
        case accept
        /// Discard it.
        case drop
        /// Keep it and let it through at the deadline.
        case acceptAfter(Instant)
        /// Keep it until the run ends, then drop it (`hold: forever`).
        case holdUntilEnd
        /// Let these bytes through instead of the packet (a rewrite; checksums already recomputed).
        case replace([UInt8])

        /// Whether the packet waits in netfault before it goes on.
        public var isHeld: Bool {
            if case .acceptAfter = self { return true }
            return false
        }

        /// Whether the packet reaches its receiver (now or after a hold), rewritten or not.
        public var delivers: Bool {
            switch self {
            case .accept, .acceptAfter, .replace: return true
            case .drop, .holdUntilEnd: return false
            }
        }
    }

    public var verdict: Verdict
    /// Packets to send, e.g. RSTs, ICMP errors, duplicates; each is a complete IP packet.
    public var injections: [Injection] {
        get { toInject ?? [] }
        set { toInject = newValue.isEmpty ? nil : newValue }
    }
    /// Whether `injections` has any. A test of a register: `injections.isEmpty` reads the array's
    /// storage, a cache miss on the per-packet path, and the decision's end then releases it.
    public var hasInjections: Bool { toInject != nil }
    /// `injections`, nil when there are none (most decisions).
    private var toInject: [Injection]?
    /// The id of the rule that acted among the engine's `knownRules`, nil when none did (its
    /// index in the rule set while the rules never changed).
    public var rule: Int?

    public init(_ verdict: Verdict, injections: [Injection] = [], rule: Int? = nil) {
        self.verdict = verdict
        toInject = injections.isEmpty ? nil : injections
        self.rule = rule
    }

    /// Let the packet through, no rule acted. Computed: a stored static is initialized lazily, and
    /// each read on the per-packet path paid for the check.
    public static var accept: Decision { Decision(.accept) }
}

/// A packet netfault sends on its own, and which side of the connection it is for.
public struct Injection: Sendable, Equatable {
    /// A complete IPv4 or IPv6 packet with correct checksums.
    public var bytes: [UInt8]
    public var toward: Side

    public init(bytes: [UInt8], toward: Side) {
        self.bytes = bytes
        self.toward = toward
    }
}
