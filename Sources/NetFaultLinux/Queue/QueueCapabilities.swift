import NetFaultCore

/// What a run's queues are bound for, fixed for the life of the process: whether the kernel
/// copies whole packets or headers only, whether it hands over GSO super-packets or the segments
/// they become, and whether there is a parking queue for held packets.
/// A rule that needs more than the queues give is refused (by the control API: 409).
public struct QueueCapabilities: Sendable, Equatable {
    /// Payload copied: `payload:` matches, `rewrite`, `duplicate`, `--pcap`.
    public var wholePackets: Bool
    /// A parking queue: `hold`, `delay`.
    public var parking: Bool
    /// Segments as they go on the wire, not GSO super-packets (the kernel segments them before
    /// queueing, which costs a copy of each): `size:` matches, `corrupt`.
    public var segments: Bool

    public init(wholePackets: Bool, parking: Bool, segments: Bool = false) {
        self.wholePackets = wholePackets
        self.parking = parking
        self.segments = segments
    }

    /// Ready for any rule: what a netfault started without rules, or with `--any-rules`, binds.
    public static let anyRule = QueueCapabilities(wholePackets: true, parking: true, segments: true)

    /// What `ruleSet` needs (and `capture`: a `--pcap` keeps payload).
    public init(for ruleSet: RuleSet, capture: Bool) {
        wholePackets = ruleSet.needsWholePackets || capture
        parking = ruleSet.canHold
        segments = ruleSet.needsSegments
    }

    /// Why `ruleSet` cannot run on queues bound like this; nil when it can.
    public func refusal(of ruleSet: RuleSet) -> String? {
        if ruleSet.needsWholePackets, !wholePackets {
            let rule = ruleSet.enabledRules.first(where: \.needsWholePackets)!
            return "rule '\(rule.name)' reads or rebuilds payload, but this netfault's queue copies packet headers only "
                + "(no rule needed payload when it started); restart it with --any-rules, or without a rule file"
        }
        if ruleSet.canHold, !parking {
            let rule = ruleSet.enabledRules.first(where: \.canHold)!
            return "rule '\(rule.name)' holds packets, but this netfault has no parking queue "
                + "(no rule held packets when it started); restart it with --any-rules, or without a rule file"
        }
        if !segments, let rule = ruleSet.enabledRules.first(where: \.needsSegments), let reason = rule.segmentsReason {
            return "rule '\(rule.name)' \(reason), "
                + "but this netfault's queue takes GSO super-packets whole (no rule needed segments when it started); "
                + "restart it with --any-rules, or without a rule file"
        }
        return nil
    }
}
