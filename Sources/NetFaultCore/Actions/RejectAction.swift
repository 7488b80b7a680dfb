import Yams

extension Action {
    /// `{reject: tcp-reset | icmp-port-unreachable | icmp-host-unreachable | icmp-admin-prohibited}`:
    /// the sender is answered as a REJECTing firewall answers, and the packet dropped. A rejected
    /// SYN fails the connect: ECONNREFUSED (10061) for an RST or a port unreachable, EHOSTUNREACH
    /// (10065; EACCES over IPv6 for prohibited) for the others.
    public struct Reject: ActionUnit {
        static let kind = Kind.reject
        static let needs: ActionNeeds = []
        static let settingUsage: String? = "a kind: {reject: tcp-reset | icmp-port-unreachable | icmp-host-unreachable | icmp-admin-prohibited}"
        static let companionKeys: [String] = []

        public var answer: RejectKind

        public init(_ answer: RejectKind) { self.answer = answer }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Reject? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  let answer = reader.keyword(setting, reading.path, as: RejectKind.self, what: "a reject kind") else { return nil }
            if answer == .tcpReset, !reader.requireTCP(reading.transport, setting, reading.path, what: "reject: tcp-reset") { return nil }
            return Reject(answer)
        }

        var action: Action { .reject(self) }

        public var summary: String {
            answer == .tcpReset ? "reject with a TCP reset to the sender" : "reject with ICMP \(answer.rawValue.dropFirst(5)) to the sender"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            let side = context.side
            let bytes: [UInt8]
            if let reason = answer.unreachableReason {
                bytes = PacketBuilder.icmpUnreachable(reason, quoting: packet, from: packet.destination)
                engine.noteUnreachable(reason, by: context)
            } else {
                bytes = ResetBuilder.towardSender(of: packet)
                engine.noteInjectedReset(by: context, toward: ResetTarget(side))
            }
            return Decision(.drop, injections: [Injection(bytes: bytes, toward: side)])
        }
    }
}
