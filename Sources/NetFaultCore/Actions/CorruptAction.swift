import Yams

extension Action {
    /// `{corrupt: {probability: 0.1%, bits: 1, checksum: keep | fix}}`: flips `bits` random bits of
    /// the payload of a packet chosen with `probability` (a packet not chosen goes on to the later
    /// rules). `keep` leaves the checksum the packet had, so the receiver's stack discards it and
    /// the sender retransmits — what tc netem's `corrupt` comes to; `fix` sums it anew, so the
    /// corrupted bytes reach the application, as from a middlebox with a memory fault (netem
    /// cannot). A packet without payload goes as it came. A rule set with `corrupt` has the kernel
    /// cut GSO super-packets into segments before the queue, each corrupted on its own.
    public struct Corrupt: ActionUnit {
        static let kind = Kind.corrupt
        static let needs: ActionNeeds = [.wholePackets, .segments]
        static let settingUsage: String? = "a corruption: {corrupt: {probability: 0.1%, bits: 1, checksum: keep}}"
        static let companionKeys: [String] = []

        /// What becomes of the transport checksum.
        public enum Checksum: String, Sendable, CaseIterable {
            /// The packet's own, now wrong: the receiver drops it.
            case keep
            /// Summed over the corrupted bytes: the receiver takes them.
            case fix
        }

        /// The share of matching packets corrupted, 0 to 1.
        public var probability: Double
        public var bits: Int
        public var checksum: Checksum

        public init(probability: Double = 1, bits: Int = 1, checksum: Checksum = .keep) {
            self.probability = probability
            self.bits = bits
            self.checksum = checksum
        }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Corrupt? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            let path = reading.path
            guard let entries = reader.mapping(setting, path, allowed: ["probability", "bits", "checksum"], what: "a corruption") else { return nil }
            var corrupt = Corrupt()
            var valid = true
            for entry in entries {
                let fieldPath = "\(path).\(entry.key)"
                switch entry.key {
                case "probability":
                    if let share = reader.actionChance(entry.value, fieldPath, what: "corrupted") { corrupt.probability = share } else { valid = false }
                case "bits":
                    if let bits = reader.integer(entry.value, fieldPath, in: 1...64, what: "a number of bits") { corrupt.bits = bits } else { valid = false }
                case "checksum":
                    if let checksum = reader.keyword(entry.value, fieldPath, as: Checksum.self, what: "a checksum choice") {
                        corrupt.checksum = checksum
                    } else { valid = false }
                default: break
                }
            }
            return valid ? corrupt : nil
        }

        var action: Action { .corrupt(self) }

        public var summary: String {
            let chance = probability < 1 ? " of \(Units.percentText(probability)) of the packets" : ""
            let fate = checksum == .keep ? "the checksum kept (the receiver drops it)" : "the checksum fixed (the application reads it)"
            return "flip \(bits) bit\(bits == 1 ? "" : "s") in the payload\(chance), \(fate)"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard packet.payloadLength > 0, !packet.isCaptureTruncated, packet.transport != nil, !packet.isFragment else { return .accept }
            let positions = (0..<bits).map { _ in Int(engine.random.next() % UInt64(packet.payloadLength * 8)) }
            // `keep`: the checksum of the bytes as sent, completed first (it may have been left to the NIC).
            var out = checksum == .keep ? packet.rewritten(with: HeaderRewrite()) : Array(packet.bytes)
            for position in positions { out[packet.payloadOffset + position / 8] ^= UInt8(1 << (position % 8)) }
            if checksum == .fix {
                out = out.withUnsafeBytes { buffer in (try? Packet(parsing: buffer))?.rewritten(with: HeaderRewrite()) } ?? out
            }
            return Decision(.replace(out))
        }
    }
}
