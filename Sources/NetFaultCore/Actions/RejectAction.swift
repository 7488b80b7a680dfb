import Yams

extension Action {
    /// `{reject: tcp-reset | icmp-port-unreachable | icmp-host-unreachable | icmp-admin-prohibited}`:
    /// the sender is answered as a REJECTing firewall answers, and the packet dropped. A rejected
    /// SYN fails the connect: ECONNREFUSED (10061) for an RST or a port unreachable, EHOSTUNREACH
    /// (10065; EACCES over IPv6 for prohibited) for the others.
    ///
    /// `{reject: icmp-frag-needed | icmp6-packet-too-big, mtu: 1280}`: the packet is dropped and its
    /// sender told the path takes at most `mtu` bytes, as a router before a smaller link does; the
    /// sender lowers its path MTU and sends again in smaller packets.
    public struct Reject: ActionUnit {
        static let kind = Kind.reject
        static let needs: ActionNeeds = []
        static let settingUsage: String? = "a kind: {reject: tcp-reset | icmp-port-unreachable | icmp-host-unreachable | icmp-admin-prohibited | icmp-frag-needed | icmp6-packet-too-big}"
        static let companionKeys = ["mtu"]
        /// The MTU a packet-too-big rejection announces when `mtu:` is not given: IPv6's minimum.
        static let defaultMTU = 1280

        public var answer: RejectKind
        /// The MTU announced by `icmp-frag-needed` and `icmp6-packet-too-big`; nil for the others.
        public var mtu: Int?

        public init(_ answer: RejectKind, mtu: Int? = nil) {
            self.answer = answer
            self.mtu = answer.isPacketTooBig ? mtu ?? Self.defaultMTU : nil
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Reject? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  let answer = reader.keyword(setting, reading.path, as: RejectKind.self, what: "a reject kind") else { return nil }
            if answer == .tcpReset, !reader.requireTCP(reading.transport, setting, reading.path, what: "reject: tcp-reset") { return nil }
            guard let mtu = reading.companions["mtu"] else { return Reject(answer) }
            let mtuPath = reading.path(of: "mtu")
            guard answer.isPacketTooBig else {
                reader.error(mtu.value, mtuPath, "goes with icmp-frag-needed or icmp6-packet-too-big, not \(answer.rawValue)")
                return nil
            }
            // IPv4's smallest MTU is 68 (RFC 791); IPv6 takes no less than 1280 (RFC 8200 §5), and
            // Linux ignores a smaller packet-too-big.
            let smallest = answer == .icmpFragNeeded ? 68 : 1280
            return reader.integer(mtu.value, mtuPath, in: smallest...65535, what: "an MTU in bytes").map { Reject(answer, mtu: $0) }
        }

        var action: Action { .reject(self) }

        public var summary: String {
            if let mtu { return "drop, telling the sender the path's MTU is \(mtu) (ICMP packet too big)" }
            return answer == .tcpReset ? "reject with a TCP reset to the sender" : "reject with ICMP \(answer.rawValue.dropFirst(5)) to the sender"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            let side = context.side
            let bytes: [UInt8]
            if let mtu {
                bytes = PacketBuilder.icmpPacketTooBig(mtu: mtu, quoting: packet, from: packet.destination)
            } else if let reason = answer.unreachableReason {
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
