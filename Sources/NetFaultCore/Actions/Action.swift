import Yams

/// What happens to a packet a rule matched. Each case carries the setting of one action unit, a
/// file of its own in this folder (`HoldAction.swift`, …) that reads the setting from a rule file,
/// says what it does, and decides a packet's fate. The switches below are the only places that
/// list the actions, and they have no `default:`: a new case does not compile until each names
/// its unit. See "Adding an action" in the README.
public enum Action: Sendable, Equatable {
    /// Let it through untouched: an exception before a broader rule.
    case pass(Pass)
    /// Discard silently.
    case drop(Drop)
    /// Keep the packet, then let it through (or, held to the run's end, drop it).
    case hold(Hold)
    /// Let it through after `delay ± jitter`.
    case delay(Delay)
    /// The packet does not arrive; RSTs go to the named sides.
    case reset(Reset)
    /// Answer the sender as a REJECTing firewall would, and drop the packet.
    case reject(Reject)
    /// Change header fields (or cut the payload) in flight.
    case rewrite(Rewrite)
    /// Let it through plus extra copies.
    case duplicate(Duplicate)
    /// `{strip_options: [wscale]}`
    case stripOptions(StripOptions)
    /// `{clamp_mss: 1200}`
    case clampMSS(ClampMSS)
    /// `{slice: {size: 64}}`
    case slice(Slice)
    /// `{loss: {model: gilbert-elliott, p: 1%, r: 30%}}`
    case loss(Loss)
    /// `{rate: 10Mbit, burst: 32KiB, queue: 100ms}`
    case rate(Rate)
    /// `{corrupt: {probability: 0.1%, bits: 1, checksum: keep}}`
    case corrupt(Corrupt)
    /// `{reorder: {probability: 25%, gap: 5}}`
    case reorder(Reorder)
    /// `{shift_seq: random}`
    case shiftSeq(ShiftSeq)
    /// `{close: both}`
    case close(Close)
    /// `{dns: nxdomain}`: answer a DNS query in the server's place.
    case dns(DNSAnswer)

    /// Every action's name as written in rule files; the names, the error lists and the
    /// descriptions all come from here.
    public enum Kind: String, Sendable, CaseIterable {
        case pass, drop, hold, delay, reset, reject, rewrite, duplicate
        case stripOptions = "strip_options"
        case clampMSS = "clamp_mss"
        case slice
        case loss
        case rate
        case corrupt
        case reorder
        case shiftSeq = "shift_seq"
        case close
        case dns

        /// The unit that implements the action.
        var unit: any ActionUnit.Type {
            switch self {
            case .pass: return Pass.self
            case .drop: return Drop.self
            case .hold: return Hold.self
            case .delay: return Delay.self
            case .reset: return Reset.self
            case .reject: return Reject.self
            case .rewrite: return Rewrite.self
            case .duplicate: return Duplicate.self
            case .stripOptions: return StripOptions.self
            case .clampMSS: return ClampMSS.self
            case .slice: return Slice.self
            case .loss: return Loss.self
            case .rate: return Rate.self
            case .corrupt: return Corrupt.self
            case .reorder: return Reorder.self
            case .shiftSeq: return ShiftSeq.self
            case .close: return Close.self
            case .dns: return DNSAnswer.self
            }
        }

        /// What the queue and the engine must provide for the action.
        public var needs: ActionNeeds { unit.needs }
    }

    public var kind: Kind {
        switch self {
        case .pass: return .pass
        case .drop: return .drop
        case .hold: return .hold
        case .delay: return .delay
        case .reset: return .reset
        case .reject: return .reject
        case .rewrite: return .rewrite
        case .duplicate: return .duplicate
        case .stripOptions: return .stripOptions
        case .clampMSS: return .clampMSS
        case .slice: return .slice
        case .loss: return .loss
        case .rate: return .rate
        case .corrupt: return .corrupt
        case .reorder: return .reorder
        case .shiftSeq: return .shiftSeq
        case .close: return .close
        case .dns: return .dns
        }
    }

    /// The action's name as written in rule files.
    public var keyword: String { kind.rawValue }

    /// What the rule rolls when its match holds, before it acts: `loss`'s model, `corrupt`'s and
    /// `reorder`'s chance. A packet the roll spares goes on to the later rules.
    var roll: ActionRoll? {
        switch self {
        case .loss(let loss): return .model(loss.model)
        case .corrupt(let corrupt): return corrupt.probability < 1 ? .chance(corrupt.probability) : nil
        case .reorder(let reorder): return reorder.probability < 1 ? .chance(reorder.probability) : nil
        case .pass, .drop, .hold, .delay, .reset, .reject, .rewrite, .duplicate, .stripOptions, .clampMSS, .slice, .rate,
             .shiftSeq, .close, .dns:
            return nil
        }
    }

    /// Whether the action keeps state per connection (in the flow table's rule states).
    var keepsConnectionState: Bool {
        switch self {
        case .delay(let delay): return delay.keepOrder
        case .pass, .drop, .hold, .reset, .reject, .rewrite, .duplicate, .stripOptions, .clampMSS, .slice, .loss, .rate,
             .corrupt, .reorder, .shiftSeq, .close, .dns:
            return false
        }
    }

    /// The action in plain words, for `netfault check` and the report.
    public var summary: String {
        switch self {
        case .pass(let unit): return unit.summary
        case .drop(let unit): return unit.summary
        case .hold(let unit): return unit.summary
        case .delay(let unit): return unit.summary
        case .reset(let unit): return unit.summary
        case .reject(let unit): return unit.summary
        case .rewrite(let unit): return unit.summary
        case .duplicate(let unit): return unit.summary
        case .stripOptions(let unit): return unit.summary
        case .clampMSS(let unit): return unit.summary
        case .slice(let unit): return unit.summary
        case .loss(let unit): return unit.summary
        case .rate(let unit): return unit.summary
        case .corrupt(let unit): return unit.summary
        case .reorder(let unit): return unit.summary
        case .shiftSeq(let unit): return unit.summary
        case .close(let unit): return unit.summary
        case .dns(let unit): return unit.summary
        }
    }

    /// The fate of `packet`, matched by the rule `context.rule`: each unit's `decide`, called
    /// directly (no dynamic dispatch on the per-packet path).
    func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
        switch self {
        case .pass(let unit): return unit.decide(packet, context, engine: &engine)
        case .drop(let unit): return unit.decide(packet, context, engine: &engine)
        case .hold(let unit): return unit.decide(packet, context, engine: &engine)
        case .delay(let unit): return unit.decide(packet, context, engine: &engine)
        case .reset(let unit): return unit.decide(packet, context, engine: &engine)
        case .reject(let unit): return unit.decide(packet, context, engine: &engine)
        case .rewrite(let unit): return unit.decide(packet, context, engine: &engine)
        case .duplicate(let unit): return unit.decide(packet, context, engine: &engine)
        case .stripOptions(let unit): return unit.decide(packet, context, engine: &engine)
        case .clampMSS(let unit): return unit.decide(packet, context, engine: &engine)
        case .slice(let unit): return unit.decide(packet, context, engine: &engine)
        case .loss(let unit): return unit.decide(packet, context, engine: &engine)
        case .rate(let unit): return unit.decide(packet, context, engine: &engine)
        case .corrupt(let unit): return unit.decide(packet, context, engine: &engine)
        case .reorder(let unit): return unit.decide(packet, context, engine: &engine)
        case .shiftSeq(let unit): return unit.decide(packet, context, engine: &engine)
        case .close(let unit): return unit.decide(packet, context, engine: &engine)
        case .dns(let unit): return unit.decide(packet, context, engine: &engine)
        }
    }
}

/// What a rule rolls before its action acts on a packet its match took.
enum ActionRoll: Sendable {
    /// A loss model's chain, one per rule.
    case model(LossModel)
    /// An independent chance.
    case chance(Double)
}

/// What an action needs from the queue and the engine. Every unit states it (no default), so
/// forgetting that an action holds packets or rebuilds them cannot compile silently.
public struct ActionNeeds: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The whole packet, not only the headers the queue copies by default (it rebuilds packets).
    public static let wholePackets = ActionNeeds(rawValue: 1 << 0)
    /// The parking queue, where packets wait (it holds packets).
    public static let parking = ActionNeeds(rawValue: 1 << 1)
    /// Segments as they go on the wire, not GSO super-packets (it changes bytes the kernel would
    /// checksum anew when it cut a super-packet).
    public static let segments = ActionNeeds(rawValue: 1 << 2)
}

/// Where an action decides: which rule matched, on which connection, which side sent the
/// packet, and when.
struct ActionContext {
    let rule: Int
    /// The rule's index in the flow table's per-connection rule states, when it keeps any.
    let stateSlot: Int?
    let flowSlot: Int32
    let side: Side
    let now: Instant
}

/// One action of the rule language, in a file of its own: its setting as read from a rule file,
/// what it says it does, and what it does to a packet.
protocol ActionUnit: Sendable, Equatable {
    static var kind: Action.Kind { get }
    static var needs: ActionNeeds { get }
    /// What the setting looks like, for the error when it is missing: "a time: {hold: 3s}".
    /// nil: the action takes no setting (`action: drop`).
    static var settingUsage: String? { get }
    /// Keys beside the action's own in its mapping (`jitter` for `delay`).
    static var companionKeys: [String] { get }

    /// Reads the setting (`setting`: the value under the action's key; nil when the action was
    /// written alone), reporting every problem through `reader`; nil when it is invalid.
    static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Self?

    /// This setting as the rule's action: `.hold(self)`.
    var action: Action { get }

    /// The action in plain words: "hold 3s, then let through".
    var summary: String { get }

    /// The fate of `packet`, which the rule matched.
    func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision
}

/// What a unit reading its setting may need besides the value: where it stands, its companion
/// keys, and the protocol the rule matches (nil when the match was invalid).
struct ActionReading {
    /// The action as written: `drop`, `{hold: 3s}`.
    let node: Node
    /// `rules[0].action`.
    let actionPath: String
    let kind: Action.Kind
    let companions: [String: RuleFileReader.Entry]
    let transport: Transport?

    /// Where the setting stands: `rules[0].action.hold`.
    var path: String { "\(actionPath).\(kind.rawValue)" }

    /// Where a companion key stands: `rules[0].action.jitter`.
    func path(of companion: String) -> String { "\(actionPath).\(companion)" }
}
