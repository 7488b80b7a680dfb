import Yams

extension Action {
    /// `{dns: nxdomain | servfail | refused | {answer: 198.18.0.66}}`: netfault answers a DNS query
    /// over UDP in the server's place and drops the query, so the server never sees it — a resolver
    /// or DNS filter that blocks names (NXDOMAIN, REFUSED), one that fails (SERVFAIL), or one that
    /// redirects them (an A answer to an A query for an IPv4 address, AAAA to AAAA for an IPv6 one;
    /// a query of another type gets no error and no record). The response carries the query's id,
    /// its question and its RD flag, with RA set. A packet that is not a DNS query goes through untouched.
    public struct DNSAnswer: ActionUnit {
        static let kind = Kind.dns
        static let needs: ActionNeeds = [.wholePackets]
        static let settingUsage: String? = "an answer: {dns: nxdomain | servfail | refused | {answer: 198.18.0.66}}"
        static let companionKeys: [String] = []

        public enum Response: Sendable, Equatable {
            case error(DNSResponseCode)
            case address(IPAddress)
        }

        public var response: Response

        public init(_ response: Response) { self.response = response }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> DNSAnswer? {
            guard let setting = reader.requiredSetting(setting, reading, kind) else { return nil }
            if let transport = reading.transport, transport != .udp {
                reader.error(setting, reading.path, "netfault answers DNS over UDP only, and this rule matches \(transport.rawValue)"
                    + " (to fail DNS over TCP, use drop or reset)")
                return nil
            }
            if case .mapping = setting {
                guard let entries = reader.mapping(setting, reading.path, allowed: ["answer"], what: "an answer"),
                      let entry = entries.first else {
                    reader.error(setting, reading.path, "needs answer: an IPv4 or IPv6 address")
                    return nil
                }
                let path = "\(reading.path).answer"
                guard let text = reader.scalar(entry.value, path, expected: "an IPv4 or IPv6 address") else { return nil }
                guard let address = IPAddress(text) else {
                    reader.error(entry.value, path, "\(RuleFileReader.excerpt(text)) is not an IPv4 or IPv6 address")
                    return nil
                }
                return DNSAnswer(.address(address))
            }
            return reader.keyword(setting, reading.path, as: DNSResponseCode.self, what: "a DNS answer (or {answer: ADDRESS})")
                .map { DNSAnswer(.error($0)) }
        }

        var action: Action { .dns(self) }

        public var summary: String {
            switch response {
            case .error(let code): return "answer the DNS query with \(code.rawValue.uppercased()) in the server's place, and drop it"
            case .address(let address): return "answer the DNS query with \(address) in the server's place, and drop it"
            }
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard context.side == .client, packet.transport == .udp, !packet.isCaptureTruncated,
                  let query = DNSQuery(udpPayload: packet.payload) else { return .accept }
            let message = switch response {
            case .error(let code): DNSResponseBuilder.error(code, to: query)
            case .address(let address): DNSResponseBuilder.answer(address, to: query)
            }
            let reply = PacketBuilder.udp(source: packet.destination, destination: packet.source,
                                          sourcePort: packet.destinationPort, destinationPort: packet.sourcePort, payload: message)
            return Decision(.drop, injections: [Injection(bytes: reply, toward: .client)])
        }
    }
}
