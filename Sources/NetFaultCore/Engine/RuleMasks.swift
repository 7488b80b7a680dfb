/// Which of the first 64 rules can match a packet, from what is known before any rule is walked:
/// the side that sent it and its flags. With the per-connection mask (`Flow.possibleRules`: the
/// rule's address, port and connection fields) most packets leave only a rule or two, often none,
/// to check field by field.
struct RuleMasks {
    /// Bit N: rule N matches packets from the client (index 0) or the server (1).
    private let bySide: [UInt64]
    /// Bit N: rule N's `flags:` (if any) equals these six matchable flags, indexed by their bits.
    private let byFlags: [UInt64]

    /// How many rules, from the first, have a bit in the masks.
    static let ruleCount = UInt64.bitWidth

    init(_ rules: [CompiledRule]) {
        var bySide: [UInt64] = [0, 0]
        var byFlags = [UInt64](repeating: 0, count: Int(TCPFlags.matchable.rawValue) + 1)
        for (index, rule) in rules.prefix(Self.ruleCount).enumerated() {
            let bit: UInt64 = 1 << UInt64(index)
            if rule.from != .server { bySide[0] |= bit }
            if rule.from != .client { bySide[1] |= bit }
            for flags in byFlags.indices where rule.flags.map({ $0.rawValue == flags }) ?? true {
                byFlags[flags] |= bit
            }
        }
        self.bySide = bySide
        self.byFlags = byFlags
    }

    /// The rules that can match a packet from `side` with `flags`.
    func candidates(from side: Side, flags: TCPFlags) -> UInt64 {
        bySide[side == .client ? 0 : 1] & byFlags[Int(flags.intersection(.matchable).rawValue)]
    }
}
