/// A DNS query (RFC 1035 §4.1) as a client sends it: the header and the first question. Read from
/// a UDP payload, or a TCP segment's with its 2-byte length prefix (§4.2.2). Names in a query are
/// never compressed; a pointer, a label past 63 bytes or a name past 255 makes the message
/// malformed (nil), as does any length that runs past the bytes: nothing here traps.
public struct DNSQuery: Equatable, Sendable {
    public let id: UInt16
    /// The header's second 16 bits: QR, opcode, AA, TC, RD, RA, Z, RCODE.
    public let flags: UInt16
    /// The question's name in lower case, dotted, without the root's trailing dot ("" for the root).
    public let name: [UInt8]
    /// The question as it was sent (name, type, class): echoed in an answer.
    public let question: [UInt8]
    public let type: UInt16
    public let questionClass: UInt16

    /// A query (QR = 0, opcode QUERY) in a UDP payload; nil for anything else.
    public init?(udpPayload payload: some RandomAccessCollection<UInt8>) {
        self.init(message: Array(payload.prefix(65_535)))
    }

    /// A query in a TCP segment's payload: the 2-byte length, then the whole message.
    public init?(tcpPayload payload: some RandomAccessCollection<UInt8>) {
        let data = Array(payload.prefix(65_537))
        guard data.count >= 2 else { return nil }
        let length = Int(data[0]) << 8 | Int(data[1])
        guard data.count >= 2 + length else { return nil }
        self.init(message: Array(data[2..<2 + length]))
    }

    init?(message data: [UInt8]) {
        var reader = ByteReader(data)
        guard let id = reader.u16(), let flags = reader.u16(), let questions = reader.u16(), reader.skip(6),
              flags & 0x8000 == 0, (flags >> 11) & 0xf == 0, questions >= 1 else { return nil }
        let start = reader.offset
        var name: [UInt8] = []
        var wireLength = 0
        while true {
            guard let length = reader.u8(), length & 0xc0 == 0 else { return nil }
            wireLength += 1 + Int(length)
            guard wireLength <= 255 else { return nil }
            if length == 0 { break }
            guard let label = reader.bytes(Int(length)) else { return nil }
            if !name.isEmpty { name.append(UInt8(ascii: ".")) }
            name += label.map(NameGlob.lowered)
        }
        guard let type = reader.u16(), let questionClass = reader.u16() else { return nil }
        self.id = id
        self.flags = flags
        self.name = name
        self.type = type
        self.questionClass = questionClass
        question = Array(data[start..<reader.offset])
    }

    /// Whether the client asked for recursion (RD).
    public var recursionDesired: Bool { flags & 0x0100 != 0 }
}

/// DNS response codes netfault answers with (RFC 1035 §4.1.1).
public enum DNSResponseCode: String, Sendable, CaseIterable {
    case nxdomain, servfail, refused

    public var value: UInt16 {
        switch self {
        case .servfail: return 2
        case .nxdomain: return 3
        case .refused: return 5
        }
    }
}

/// Query types by name, as `dns: {type: A}` writes them (IANA DNS parameters).
public enum DNSType {
    public static let names: [(name: String, value: UInt16)] = [
        ("A", 1), ("NS", 2), ("CNAME", 5), ("SOA", 6), ("PTR", 12), ("MX", 15), ("TXT", 16),
        ("AAAA", 28), ("SRV", 33), ("HTTPS", 65), ("ANY", 255),
    ]

    /// `A`, `aaaa` or a number 0-65535.
    public static func value(named text: String) -> UInt16? {
        if let known = names.first(where: { $0.name == text.uppercased() }) { return known.value }
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt16(text)
    }

    /// `A`, or the number when the type has no name here.
    public static func name(of value: UInt16) -> String {
        names.first { $0.value == value }?.name ?? "\(value)"
    }
}

/// Builds the DNS response netfault sends in the server's place (RFC 1035 §4.1): the query's id,
/// QR set, its opcode and RD echoed, RA set (an answer as a recursive resolver gives it), the
/// question echoed, and at most one answer record.
public enum DNSResponseBuilder {
    /// Seconds an injected answer may be cached.
    public static let answerTTL: UInt32 = 60

    /// The response to `query` with `code` and no answer.
    public static func error(_ code: DNSResponseCode, to query: DNSQuery) -> [UInt8] {
        message(to: query, code: code.value, answer: nil)
    }

    /// The response to `query` answering `address`: an A record for an IPv4 address and an A query,
    /// an AAAA record for an IPv6 address and an AAAA query; for a query of another type, no error
    /// and no record (the name exists, not with that type: NODATA, RFC 2308 §2.2).
    public static func answer(_ address: IPAddress, to query: DNSQuery) -> [UInt8] {
        let type: UInt16 = address.family == .v4 ? 1 : 28
        return message(to: query, code: 0, answer: query.type == type ? (type, address.bytes) : nil)
    }

    private static func message(to query: DNSQuery, code: UInt16, answer: (type: UInt16, data: [UInt8])?) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(query.id)
        // QR, the query's opcode and RD, RA; AA, TC and Z clear.
        bytes.appendBigEndian(0x8000 | (query.flags & 0x7900) | 0x0080 | code)
        bytes.appendBigEndian(UInt16(1))
        bytes.appendBigEndian(UInt16(answer == nil ? 0 : 1))
        bytes.appendBigEndian(UInt16(0))
        bytes.appendBigEndian(UInt16(0))
        bytes += query.question
        if let answer {
            bytes.appendBigEndian(UInt16(0xc00c))  // the question's name, by a pointer to offset 12 (§4.1.4)
            bytes.appendBigEndian(answer.type)
            bytes.appendBigEndian(query.questionClass)
            bytes.appendBigEndian(answerTTL)
            bytes.appendBigEndian(UInt16(answer.data.count))
            bytes += answer.data
        }
        return bytes
    }
}
