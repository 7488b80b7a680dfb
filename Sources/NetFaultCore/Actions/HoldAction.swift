import Yams

extension Action {
    /// `{hold: 3s}`: the packet waits in the parking queue, then goes on; `{hold: forever}` keeps
    /// it until the run ends, then drops it. A held SYN-ACK makes a slow handshake; a held data
    /// segment, a scanning proxy.
    public struct Hold: ActionUnit {
        static let kind = Kind.hold
        static let needs: ActionNeeds = [.parking]
        static let settingUsage: String? = "a time: {hold: 3s} or {hold: forever}"
        static let companionKeys: [String] = []

        /// nil: until the run ends.
        public var duration: Duration?

        public init(_ duration: Duration?) { self.duration = duration }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Hold? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            if case .scalar(let scalar) = setting, scalar.string == "forever" { return Hold(nil) }
            return reader.holdDuration(setting, reading.path).map { Hold($0) }
        }

        var action: Action { .hold(self) }

        public var summary: String {
            duration.map { "hold \($0.ruleText), then let through" } ?? "hold until the run ends, then drop"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            duration.map { Decision(.acceptAfter(context.now + $0)) } ?? Decision(.holdUntilEnd)
        }
    }
}
