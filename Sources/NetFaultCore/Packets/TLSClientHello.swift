/// The server name a TLS ClientHello asks for (the `server_name` extension, RFC 6066 §3), read
/// from the first bytes a client sends: one TLS record (RFC 8446 §5.1) carrying a handshake
/// message of type client_hello (§4.1.2). Nothing here traps: every length is checked against
/// the bytes there are.
public enum TLSClientHello {
    /// How far the first bytes of a connection go toward a ClientHello.
    public enum Progress: Equatable, Sendable {
        /// Not a ClientHello (or a malformed one): nothing to wait for.
        case notAHello
        /// A ClientHello so far: `total` bytes (the record header and its body) make it whole.
        case incomplete(total: Int)
        /// The whole hello is here; its server name, or nil when it names none.
        case complete(serverName: [UInt8]?)
    }

    /// The largest record a hello is waited for over: TLS's limit on a plaintext record (2^14, RFC 8446 §5.1).
    public static let largestRecord = 16_384
    static let recordHeaderLength = 5

    /// Reads `bytes`, the first bytes the client sent on the connection.
    public static func read(_ bytes: some RandomAccessCollection<UInt8>) -> Progress {
        let data = Array(bytes)
        // Record header: content type 22 (handshake), legacy version 3.x, 16-bit length.
        guard data.count >= 1 else { return .incomplete(total: recordHeaderLength) }
        guard data[0] == 22 else { return .notAHello }
        guard data.count >= 2 else { return .incomplete(total: recordHeaderLength) }
        guard data[1] == 3 else { return .notAHello }
        guard data.count >= recordHeaderLength else { return .incomplete(total: recordHeaderLength) }
        let recordLength = Int(data[3]) << 8 | Int(data[4])
        guard recordLength >= 4, recordLength <= largestRecord else { return .notAHello }
        if data.count > recordHeaderLength, data[recordHeaderLength] != 1 { return .notAHello }
        let total = recordHeaderLength + recordLength
        guard data.count >= total else { return .incomplete(total: total) }
        let body = data[recordHeaderLength..<total]
        guard let name = serverName(inHandshake: Array(body)) else { return .notAHello }
        return .complete(serverName: name.isEmpty ? nil : name)
    }

    /// The server name in a handshake message of type client_hello: an empty array when it has
    /// none, nil when the message is malformed or does not fit the record.
    static func serverName(inHandshake message: [UInt8]) -> [UInt8]? {
        var reader = ByteReader(message)
        guard reader.u8() == 1, let length = reader.u24(), length == reader.remaining else { return nil }
        // legacy_version, random, legacy_session_id, cipher_suites, legacy_compression_methods.
        guard reader.skip(2 + 32), let session = reader.u8(), reader.skip(Int(session)),
              let suites = reader.u16(), reader.skip(Int(suites)),
              let compression = reader.u8(), reader.skip(Int(compression)) else { return nil }
        // A hello without extensions (TLS 1.2 allows it) names no server.
        guard reader.remaining > 0 else { return [] }
        guard let extensionsLength = reader.u16(), extensionsLength == reader.remaining else { return nil }
        while reader.remaining > 0 {
            guard let type = reader.u16(), let length = reader.u16(), let body = reader.bytes(Int(length)) else { return nil }
            guard type == 0 else { continue }
            // ServerNameList: 16-bit length, then entries of name_type (0: host_name) and 16-bit length.
            var names = ByteReader(body)
            guard let listLength = names.u16(), listLength == names.remaining else { return nil }
            while names.remaining > 0 {
                guard let nameType = names.u8(), let nameLength = names.u16(), let name = names.bytes(Int(nameLength)) else { return nil }
                if nameType == 0 { return name }
            }
            return []
        }
        return []
    }
}

/// Reads big-endian fields from bytes, each read returning nil past the end instead of trapping.
struct ByteReader {
    private let data: [UInt8]
    private(set) var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    var remaining: Int { data.count - offset }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(data[offset]) << 8 | UInt16(data[offset + 1])
    }

    mutating func u24() -> Int? {
        guard remaining >= 3 else { return nil }
        defer { offset += 3 }
        return Int(data[offset]) << 16 | Int(data[offset + 1]) << 8 | Int(data[offset + 2])
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return Array(data[offset..<offset + count])
    }
}
