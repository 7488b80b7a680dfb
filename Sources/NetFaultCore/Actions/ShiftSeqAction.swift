import Yams

extension Action {
    /// `{shift_seq: random | N}`: per connection, an offset added to the client's sequence numbers
    /// on their way to the server and taken from the server's acknowledgments on their way back,
    /// checksums complete — Cisco ASA's TCP sequence number randomization ("TCP Normalization",
    /// `set connection random-sequence-number`, on by default). SACK blocks are left as they are,
    /// as the ASA leaves them: the server's SACKs then name bytes the client never sent, the
    /// client's stack discards them, and loss is recovered by timeouts instead (Cisco: disable the
    /// randomization where it breaks SACK). With `random`, each connection's offset comes from the
    /// run's seed. The offset is chosen on the client's SYN: a connection whose SYN the rule did
    /// not act on (open before netfault, or matched by an earlier rule) is left alone, and the
    /// rule must then act on all its packets, both ways (no `from`, `flags` or `probability`).
    /// With `clear_options:` beside it (the names `strip_options` takes), the same rule also
    /// overwrites those options with no-operations, as the ASA's normalizer clears kinds 6-7 and
    /// 9-255 (`[unknown, mptcp, tfo]`): one action per packet, so one rule does both.
    public struct ShiftSeq: ActionUnit {
        static let kind = Kind.shiftSeq
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "an offset: {shift_seq: random} or {shift_seq: 1000000}"
        static let companionKeys = ["clear_options"]

        /// The offset for every connection; nil: one drawn for each from the run's seed.
        public var offset: UInt32?
        /// TCP options cleared in the same packets; nil: none.
        public var stripOptions: TCPOptionKinds?

        public init(offset: UInt32?, stripOptions: TCPOptionKinds? = nil) {
            self.offset = offset
            self.stripOptions = stripOptions
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> ShiftSeq? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "shifting sequence numbers") else { return nil }
            var strip: TCPOptionKinds?
            if let options = reading.companions["clear_options"] {
                guard let kinds = reader.tcpOptionList(options.value, reading.path(of: "clear_options")) else { return nil }
                strip = kinds
            }
            if case .scalar(let scalar) = setting, scalar.string == "random" { return ShiftSeq(offset: nil, stripOptions: strip) }
            return reader.integer(setting, reading.path, in: UInt32(1)...UInt32.max, what: "an offset or random")
                .map { ShiftSeq(offset: $0, stripOptions: strip) }
        }

        var action: Action { .shiftSeq(self) }

        public var summary: String {
            let shift = offset.map { "shift the client's sequence numbers by \($0)" }
                ?? "shift the client's sequence numbers by a random offset per connection"
            return shift + " (SACK blocks left alone)" + (stripOptions.map { ", clear TCP options \($0)" } ?? "")
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard !packet.isCaptureTruncated else { return .accept }
            var shift = engine.table[context.flowSlot].sequenceShift
            if shift == 0 {
                // Only on the client's SYN: shifting a connection already under way breaks it.
                guard context.side == .client, packet.isOpeningSYN else { return .accept }
                shift = offset ?? engine.randomSequenceOffset()
                engine.table[context.flowSlot].sequenceShift = shift
            }
            var rewrite = HeaderRewrite(stripOptions: stripOptions)
            if context.side == .client {
                rewrite.sequenceDelta = shift
            } else if packet.tcpFlags.contains(.ack) {
                rewrite.acknowledgmentDelta = 0 &- shift
            }
            if rewrite.sequenceDelta == nil, rewrite.acknowledgmentDelta == nil,
               stripOptions.map({ packet.tcpOptionKinds.isDisjoint(with: $0) }) ?? true {
                return .accept
            }
            return Decision(.replace(packet.rewritten(with: rewrite)))
        }
    }
}

extension Engine {
    /// A connection's `shift_seq: random` offset, from the run's seed: never 0, which means none.
    mutating func randomSequenceOffset() -> UInt32 {
        while true {
            let offset = UInt32(truncatingIfNeeded: random.next())
            if offset != 0 { return offset }
        }
    }
}
