import Yams

extension Action {
    /// `{reorder: {probability: 25%, gap: 5}}`: a packet chosen with `probability` (the others go
    /// on to the later rules) is taken out of its connection's stream and sent again once `gap`
    /// later packets of the connection have passed, so it arrives after them — a receiver sees it
    /// out of order. Should the connection fall silent first, it goes once `timeout` (default 1s)
    /// has passed, with the next packet netfault handles, or when the run stops.
    /// netem instead sends some packets without the delay the others wait (`reorder` needs a
    /// `delay`); here no delay is needed.
    public struct Reorder: ActionUnit {
        static let kind = Kind.reorder
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "a reordering: {reorder: {probability: 25%, gap: 5}}"
        static let companionKeys: [String] = []

        public var probability: Double
        /// Later packets of the connection that pass before the chosen one.
        public var gap: Int
        public var timeout: Duration

        public init(probability: Double = 1, gap: Int = 3, timeout: Duration = .seconds(1)) {
            self.probability = probability
            self.gap = gap
            self.timeout = timeout
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Reorder? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            let path = reading.path
            guard let entries = reader.mapping(setting, path, allowed: ["probability", "gap", "timeout"], what: "a reordering") else { return nil }
            var reorder = Reorder()
            var valid = true
            for entry in entries {
                let fieldPath = "\(path).\(entry.key)"
                switch entry.key {
                case "probability":
                    if let share = reader.actionChance(entry.value, fieldPath, what: "reordered") { reorder.probability = share } else { valid = false }
                case "gap":
                    if let gap = reader.integer(entry.value, fieldPath, in: 1...1000, what: "a packet count") { reorder.gap = gap } else { valid = false }
                case "timeout":
                    if let timeout = reader.holdDuration(entry.value, fieldPath) { reorder.timeout = timeout } else { valid = false }
                default: break
                }
            }
            return valid ? reorder : nil
        }

        var action: Action { .reorder(self) }

        public var summary: String {
            let chance = probability < 1 ? "\(Units.percentText(probability)) of the packets" : "every packet"
            return "send \(chance) again after \(gap) later packet\(gap == 1 ? "" : "s") of the connection (at most \(timeout.ruleText) later)"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard !packet.isCaptureTruncated else { return .accept }
            // Sent again by netfault, it must carry complete checksums (the sender may have left them to the NIC).
            engine.reorderPending.append(PendingReorder(flow: engine.table[context.flowSlot].key, bytes: packet.rewritten(with: HeaderRewrite()),
                                                       toward: context.side.other, remaining: gap,
                                                       due: context.now.nanoseconds + timeout.nanoseconds, packet: engine.statistics.packets))
            return Decision(.drop)
        }
    }
}

/// A packet `reorder` took out of its stream, waiting for `remaining` later packets of `flow`.
struct PendingReorder: Sendable {
    let flow: FlowKey
    let bytes: [UInt8]
    let toward: Side
    var remaining: Int
    /// Nanoseconds: when it goes regardless.
    let due: Int64
    /// The engine's packet count when it was taken: that packet is not one of the later ones.
    let packet: Int
}

extension Engine {
    /// Every packet `reorder` still holds back, for the stop to send: nothing taken is lost.
    public mutating func takeAllReordered() -> [Injection] {
        defer { reorderPending.removeAll() }
        return reorderPending.map { Injection(bytes: $0.bytes, toward: $0.toward) }
    }

    /// Counts `key`'s packet against the packets `reorder` holds back, and adds to `decision` those
    /// now due: after their gap, or their timeout (with any connection's packet).
    mutating func releaseReordered(after key: FlowKey, at now: Instant, into decision: inout Decision) {
        var index = 0
        while index < reorderPending.count {
            if reorderPending[index].flow == key, reorderPending[index].packet != statistics.packets { reorderPending[index].remaining -= 1 }
            if reorderPending[index].remaining <= 0 || now.nanoseconds >= reorderPending[index].due {
                let released = reorderPending.remove(at: index)
                decision.injections.append(Injection(bytes: released.bytes, toward: released.toward))
            } else {
                index += 1
            }
        }
    }
}
