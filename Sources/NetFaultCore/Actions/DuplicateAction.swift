import Yams

extension Action {
    /// `{duplicate: 2}`: the packet goes through, and this many copies (1-100) after it, as a
    /// misbehaving link or a mirroring middlebox sends them. TCP drops the copies as old data and
    /// acknowledges them (duplicate ACKs); UDP applications see each datagram again.
    public struct Duplicate: ActionUnit {
        static let kind = Kind.duplicate
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "a count: {duplicate: 2}"
        static let companionKeys: [String] = []
        static let maximumCopies = 100

        public var copies: Int

        public init(_ copies: Int) { self.copies = copies }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Duplicate? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            return reader.integer(setting, reading.path, in: 1...maximumCopies, what: "a number of extra copies").map { Duplicate($0) }
        }

        var action: Action { .duplicate(self) }

        public var summary: String { "let through with \(copies) extra \(copies == 1 ? "copy" : "copies")" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard !packet.isCaptureTruncated else { return .accept }
            // A copy leaves through a raw socket, which completes no checksum and sends nothing over
            // the MTU: a GSO super-packet is cut into segments the receiver accepts (its MSS, or a
            // size any path carries), and every copy gets its checksums complete (the original may
            // carry only the pseudo-header sum of an offloaded checksum).
            let announced = Int(engine.table[context.flowSlot].stats(context.side.other).maximumSegmentSize)
            let largest = max(1, (announced > 0 ? announced : Engine.safeSegmentPayload) - packet.tcpOptionsLength)
            let pieces = packet.segmented(maxPayload: largest)
            var injections: [Injection] = []
            for _ in 0..<copies { injections += pieces.map { Injection(bytes: $0, toward: context.side.other) } }
            return Decision(.accept, injections: injections)
        }
    }
}
