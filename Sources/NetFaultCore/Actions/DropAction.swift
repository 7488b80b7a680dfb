import Yams

extension Action {
    /// `drop`: the packet is discarded silently, as a firewall's DROP does. A dropped SYN makes
    /// the client retransmit until its connect times out (ETIMEDOUT); a dropped segment is
    /// retransmitted, and if every one is, the sender gives up (ETIMEDOUT, WSAECONNABORTED).
    public struct Drop: ActionUnit {
        static let kind = Kind.drop
        static let needs: ActionNeeds = []
        static let settingUsage: String? = nil
        static let companionKeys: [String] = []

        public init() {}

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Drop? {
            reader.noSetting(setting, reading, kind) ? Drop() : nil
        }

        var action: Action { .drop(self) }
        public var summary: String { "drop silently" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision { Decision(.drop) }
    }
}
