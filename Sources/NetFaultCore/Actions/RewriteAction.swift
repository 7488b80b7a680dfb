import Yams

extension Action {
    /// `{rewrite: {window: 0, ttl: 1, tos: 4, flags: [ack, psh], truncate: 100}}`: header fields
    /// changed, or the payload cut, in flight; the packet leaves with every checksum complete. A
    /// zero window stalls the sender; an added FIN or RST ends the receiver's reads.
    public struct Rewrite: ActionUnit {
        static let kind = Kind.rewrite
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "fields: {rewrite: {window: 0}}"
        static let companionKeys: [String] = []
        static let fieldKeys = ["window", "ttl", "tos", "flags", "truncate"]

        public var fields: HeaderRewrite

        public init(_ fields: HeaderRewrite) { self.fields = fields }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Rewrite? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            let path = reading.path
            guard let entries = reader.mapping(setting, path, allowed: fieldKeys, what: "header fields to rewrite") else { return nil }
            guard !entries.isEmpty else {
                // With only unknown keys, those were reported already.
                if case .mapping(let mapping) = setting, mapping.count > 0 { return nil }
                reader.error(setting, path, "names no field; give at least one of \(fieldKeys.joined(separator: ", "))")
                return nil
            }
            var fields = HeaderRewrite()
            var valid = true
            for entry in entries {
                let fieldPath = "\(path).\(entry.key)"
                switch entry.key {
                case "window":
                    valid = reader.requireTCP(reading.transport, entry.value, fieldPath, what: "rewriting the window") && valid
                    fields.window = reader.integer(entry.value, fieldPath, in: 0...UInt16.max, what: "a window")
                    valid = valid && fields.window != nil
                case "ttl":
                    fields.ttl = reader.integer(entry.value, fieldPath, in: 0...UInt8.max, what: "a TTL")
                    valid = valid && fields.ttl != nil
                case "tos":
                    fields.tos = reader.integer(entry.value, fieldPath, in: 0...UInt8.max, what: "a TOS byte")
                    valid = valid && fields.tos != nil
                case "flags":
                    valid = reader.requireTCP(reading.transport, entry.value, fieldPath, what: "rewriting flags") && valid
                    fields.flags = reader.tcpFlagList(entry.value, fieldPath)
                    valid = valid && fields.flags != nil
                case "truncate":
                    fields.truncate = reader.size(entry.value, fieldPath).map { Int(min($0, 65535)) }
                    valid = valid && fields.truncate != nil
                default:
                    break
                }
            }
            return valid ? Rewrite(fields) : nil
        }

        var action: Action { .rewrite(self) }

        public var summary: String {
            var words: [String] = []
            if let window = fields.window { words.append("window \(window)") }
            if let ttl = fields.ttl { words.append("ttl \(ttl)") }
            if let tos = fields.tos { words.append("tos \(tos)") }
            if let flags = fields.flags { words.append("flags \(flags)") }
            if let truncate = fields.truncate { words.append("payload cut to \(truncate) bytes") }
            return "rewrite " + words.joined(separator: ", ")
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            // Only a whole packet can be rebuilt. The queue copies whole packets whenever a rule
            // needs them (`ActionNeeds.wholePackets`); this only keeps a cut one intact.
            guard !packet.isCaptureTruncated else { return .accept }
            return Decision(.replace(packet.rewritten(with: fields)))
        }
    }
}
