import Yams

extension Action {
    /// `{clamp_mss: 1200}`: the MSS option of a SYN or SYN-ACK above this is lowered to it,
    /// checksums complete — what routers in front of tunnels and PPPoE links do (iptables' TCPMSS
    /// target, Cisco's `ip tcp adjust-mss`) so that segments fit the smaller path. Each side then
    /// sends segments no larger than the clamped MSS the other announced.
    public struct ClampMSS: ActionUnit {
        static let kind = Kind.clampMSS
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "the largest MSS: {clamp_mss: 1200}"
        static let companionKeys: [String] = []
        /// Linux's TCP_MIN_MSS: a smaller MSS is raised to it anyway.
        static let smallest: UInt16 = 88

        public var limit: UInt16

        public init(_ limit: UInt16) { self.limit = limit }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> ClampMSS? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "clamping the MSS") else { return nil }
            return reader.integer(setting, reading.path, in: smallest...UInt16.max, what: "an MSS in bytes").map { ClampMSS($0) }
        }

        var action: Action { .clampMSS(self) }

        public var summary: String { "clamp the MSS of SYNs to \(limit) bytes" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard !packet.isCaptureTruncated, let mss = packet.maximumSegmentSizeOption, mss > limit else { return .accept }
            return Decision(.replace(packet.rewritten(with: HeaderRewrite(clampMSS: limit))))
        }
    }
}
