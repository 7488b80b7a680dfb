import Yams

extension Action {
    /// `{slice: {size: 64}}`: a TCP data segment longer than `size` payload bytes is re-segmented
    /// into segments of at most that many (sequence numbers, flags and checksums each their own;
    /// FIN and PSH on the last), as middleboxes that re-segment streams do. The bytes arrive the
    /// same, in more pieces: an application that takes one read for one message (framing by
    /// read, not by length) shows it.
    public struct Slice: ActionUnit {
        static let kind = Kind.slice
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "a segment size: {slice: {size: 64}}"
        static let companionKeys: [String] = []
        static let fieldKeys = ["size"]

        /// The most payload bytes a segment carries.
        public var size: Int

        public init(size: Int) { self.size = size }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Slice? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "slicing segments"),
                  let entries = reader.mapping(setting, reading.path, allowed: fieldKeys, what: "how to slice") else { return nil }
            guard let size = entries.first(where: { $0.key == "size" }) else {
                if case .mapping(let mapping) = setting, mapping.count > 0 { return nil }
                reader.error(setting, reading.path, "needs size: the most payload bytes per segment")
                return nil
            }
            return reader.integer(size.value, "\(reading.path).size", in: 1...65535, what: "a payload size in bytes").map { Slice(size: $0) }
        }

        var action: Action { .slice(self) }

        public var summary: String { "re-segment into segments of at most \(size) payload bytes" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard !packet.isCaptureTruncated, packet.payloadLength > size else { return .accept }
            // The pieces leave in order through the raw socket; the original goes no further.
            let pieces = packet.segmented(maxPayload: size)
            return Decision(.drop, injections: pieces.map { Injection(bytes: $0, toward: context.side.other) })
        }
    }
}
