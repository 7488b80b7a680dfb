import Yams

extension Action {
    /// `{reset: client | server | both}`: the packet does not arrive; RSTs go to the named sides
    /// with sequence numbers their stacks take (RFC 5961), as a crashed server's or an
    /// antivirus's do. The client gets ECONNRESET (WSAECONNRESET 10054), or EPIPE after the
    /// server's FIN; TCP only.
    public struct Reset: ActionUnit {
        static let kind = Kind.reset
        static let needs: ActionNeeds = []
        static let settingUsage: String? = "a side: {reset: client | server | both}"
        static let companionKeys: [String] = []

        public var target: ResetTarget

        public init(_ target: ResetTarget) { self.target = target }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Reset? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "reset") else { return nil }
            return reader.keyword(setting, reading.path, as: ResetTarget.self, what: "a reset target").map { Reset($0) }
        }

        var action: Action { .reset(self) }

        public var summary: String { target == .both ? "drop and reset both sides" : "drop and reset the \(target.rawValue)" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            let side = context.side
            var injections: [Injection] = []
            if target.includes(side) { injections.append(Injection(bytes: ResetBuilder.towardSender(of: packet), toward: side)) }
            if target.includes(side.other) {
                let view = SequenceView(of: side, shift: engine.table[context.flowSlot].sequenceShift)
                injections.append(Injection(bytes: ResetBuilder.towardReceiver(of: packet, view: view), toward: side.other))
            }
            engine.noteInjectedReset(by: context, toward: target)
            return Decision(.drop, injections: injections)
        }
    }
}
