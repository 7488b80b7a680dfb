import Yams

extension Action {
    /// `{close: client | server | both}`: a graceful close. The packet does not arrive; the named
    /// sides get a FIN|ACK in their peer's name, with the numbers their stacks take in order, as
    /// a proxy that ends a response after N bytes (toxiproxy's `limit_data`) or a load balancer
    /// that closes idle connections does. The client reads end of file: curl exits 18 ("transfer
    /// closed with N bytes remaining") where an RST gave 56.
    ///
    /// Afterwards netfault stands for the proxy that closed (`Close.answer`): nothing more passes
    /// between the two peers. A side it closed is answered as a stack whose application called
    /// close() answers (Linux FIN-WAIT-2, RFC 1122 §4.2.2.13): its ACKs are taken in silence, its
    /// FIN acknowledged, and data it still sends (the rest of a response, retransmissions of the
    /// packet that never arrived) answered with an RST — its next send then fails with EPIPE. The
    /// packets of a side it did not close go nowhere, as to a proxy that stopped reading.
    public struct Close: ActionUnit {
        static let kind = Kind.close
        static let needs: ActionNeeds = []
        static let settingUsage: String? = "a side: {close: client | server | both}"
        static let companionKeys: [String] = []

        public var target: ResetTarget

        public init(_ target: ResetTarget) { self.target = target }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Close? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "close") else { return nil }
            return reader.keyword(setting, reading.path, as: ResetTarget.self, what: "a side to close").map { Close($0) }
        }

        var action: Action { .close(self) }

        public var summary: String {
            target == .both ? "drop and close both sides gracefully (FIN)" : "drop and close the \(target.rawValue) gracefully (FIN)"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            let side = context.side
            // A SYN has no connection to close yet: it only goes no further.
            guard packet.tcpFlags.contains(.ack), !packet.tcpFlags.contains(.rst) else { return Decision(.drop) }
            var injections: [Injection] = []
            if target.includes(side), let fin = CloseBuilder.towardSender(of: packet) {
                injections.append(Injection(bytes: fin, toward: side))
            }
            let view = SequenceView(of: side, shift: engine.table[context.flowSlot].sequenceShift)
            if target.includes(side.other), let fin = CloseBuilder.towardReceiver(of: packet, view: view) {
                injections.append(Injection(bytes: fin, toward: side.other))
            }
            engine.noteInjectedClose(by: context, toward: target)
            return Decision(.drop, injections: injections)
        }

        /// A packet of a connection netfault closed (`closed`), from `side`: what the proxy that
        /// closed does with it. Nothing reaches the other peer.
        static func answer(_ packet: Packet, from side: Side, closed: InjectedReset, flowSlot: Int32, engine: inout Engine) -> Decision {
            let flags = packet.tcpFlags
            guard closed.toward.includes(side), packet.transport == .tcp, !flags.contains(.rst) else { return Decision(.drop) }
            if packet.payloadLength > 0 {
                // Data for a socket whose application closed: Linux resets (TCPAbortOnData).
                engine.table[flowSlot].noteReset(reaching: side)
                let reset = flags.contains(.ack) ? ResetBuilder.towardSender(of: packet) : nil
                return Decision(.drop, injections: reset.map { [Injection(bytes: $0, toward: side)] } ?? [])
            }
            if flags.contains(.fin), flags.contains(.ack) {
                return Decision(.drop, injections: [Injection(bytes: CloseBuilder.acknowledgingFIN(of: packet), toward: side)])
            }
            return Decision(.drop)
        }
    }
}
