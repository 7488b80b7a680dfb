import Yams

extension Action {
    /// `{strip_options: [wscale, sackok, timestamps, tfo, mptcp, unknown]}`: these TCP options are
    /// overwritten with no-operations (the header keeps its length), checksums complete — what
    /// firewalls and normalizers that clear options they do not know do (Honda et al., "Is it still
    /// possible to extend TCP?", IMC 2011; Cisco ASA's TCP normalizer clears kinds 6-7 and 9-255 by
    /// default). Stripped from the SYN only, window scaling or SACK is off for the whole connection
    /// (RFC 7323 §1.3, RFC 2018): a peer sends them only when it received them.
    public struct StripOptions: ActionUnit {
        static let kind = Kind.stripOptions
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "a list of TCP options: {strip_options: [wscale, sackok]}"
        static let companionKeys: [String] = []

        public var options: TCPOptionKinds

        public init(_ options: TCPOptionKinds) { self.options = options }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> StripOptions? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  reader.requireTCP(reading.transport, setting, reading.path, what: "stripping TCP options") else { return nil }
            return reader.tcpOptionList(setting, reading.path).map { StripOptions($0) }
        }

        var action: Action { .stripOptions(self) }

        public var summary: String { "strip TCP options \(options) (overwritten with no-operations)" }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            // Only a whole packet can be rebuilt; a packet without these options goes as it came.
            guard !packet.isCaptureTruncated, !packet.tcpOptionKinds.isDisjoint(with: options) else { return .accept }
            return Decision(.replace(packet.rewritten(with: HeaderRewrite(stripOptions: options))))
        }
    }
}
