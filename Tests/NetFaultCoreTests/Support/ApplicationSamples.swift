@testable import NetFaultCore

/// Application-layer payloads for the `tls_sni:`, `http:` and `dns:` tests, built here byte by
/// byte (not by the code under test), and one real ClientHello.
enum TLSSamples {
    /// A ClientHello as Python 3's ssl module (OpenSSL 3) sent it for server_hostname
    /// "www.Blocked.example": one 512-byte record, TLS 1.3 with key shares, 517 bytes in all.
    static let realHello = hexBytes("""
        1603010200010001fc0303bc1d21b8b4a1ac6dd4695f913cb9129c6d7faf9676ae0c501f346ab738c4e59f2001288d50
        a7da5f609a494f45d921861e71f1a93d775d250ae05f9b2dcf6a36950024130213031301c02cc030c02bc02fcca9cca8
        c024c028c023c027009f009e006b006700ff0100018f0000001800160000137777772e426c6f636b65642e6578616d70
        6c65000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000
        000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b
        00050403040303002d00020101003300260024001d0020c08d074e8da18505cae83af7b939c67360eab242b905bdae87
        22914687cec12f001500da00000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        00000000000000000000000000000000000000000000000000000000000000000000000000
        """)

    /// A ClientHello in one record: TLS 1.2 fields, one cipher suite, and a server_name extension
    /// for `serverName` (none when nil), then `padding` bytes of a padding extension (type 21).
    static func hello(serverName: String?, padding: Int = 0) -> [UInt8] {
        var extensions: [UInt8] = []
        if let serverName {
            let name = Array(serverName.utf8)
            let entry: [UInt8] = [0] + be16(name.count) + name
            let list = be16(entry.count) + entry
            extensions += [0, 0] + be16(list.count) + list
        }
        if padding > 0 { extensions += [0, 21] + be16(padding) + [UInt8](repeating: 0, count: padding) }
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + [0, 2, 0x13, 0x01] + [1, 0]
        if !extensions.isEmpty { body += be16(extensions.count) + extensions }
        let handshake: [UInt8] = [1, UInt8(body.count >> 16), UInt8(body.count >> 8 & 0xff), UInt8(body.count & 0xff)] + body
        return [22, 3, 1] + be16(handshake.count) + handshake
    }

    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
}

enum DNSSamples {
    /// A standard query (RD set) for `name`, `type`, class IN, with `id`; `questions` as the header's QDCOUNT.
    static func query(name: String, type: UInt16, id: UInt16 = 0xbeef, flags: UInt16 = 0x0100) -> [UInt8] {
        var bytes: [UInt8] = TLSSamples.be16(Int(id)) + TLSSamples.be16(Int(flags)) + [0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { bytes += [UInt8(label.utf8.count)] + Array(label.utf8) }
        return bytes + [0] + TLSSamples.be16(Int(type)) + [0, 1]
    }
}
