import Yams

extension Action {
    /// `pass`: the packet goes through untouched. An exception before a broader rule (`keep-health`
    /// before `server-crash`); the connection is still tracked and reported.
    public struct Pass: ActionUnit {
        static let kind = Kind.pass
        static let needs: ActionNeeds = []
        static let settingUsage: String? = nil
        static let companionKeys: [String] = []

        public init() {}

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Pass? {
            reader.noSetting(setting, reading, kind) ? Pass() : nil
        }

        var action: Action { .pass(self) }
        public var summary: String { "let through untouched" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision { .accept }
    }
}
