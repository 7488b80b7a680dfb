@testable import NetFaultCore

/// Byte-literal packets shared by the codec tests. Every checksum in them was computed independently
/// (Python `struct` + a plain RFC 1071 sum), not by the code under test.
enum PacketFixtures {
    /// IPv4 TCP SYN 192.0.2.1:49152 → 198.51.100.2:80, seq 0x12345678, window 64240, id 0x1c46, DF,
    /// options MSS 1460, SACK-permitted, timestamps 1/0, NOP, window scale 7. TCP checksum 0x37da.
    static let ipv4TCPSyn = hexBytes("""
        45 00 00 3c 1c 46 40 00 40 06 32 3f c0 00 02 01 c6 33 64 02
        c0 00 00 50 12 34 56 78 00 00 00 00 a0 02 fa f0 37 da 00 00
        02 04 05 b4 04 02 08 0a 00 00 00 01 00 00 00 00 01 03 03 07
        """)

    /// IPv6 TCP PSH|ACK 2001:db8::1:443 → 2001:db8::2:51000 carrying "hello", traffic class 0xb8,
    /// flow label 0xabcde, hop limit 57, seq 0xdeadbeef, ack 0x01020304, window 502. TCP checksum 0xa3f3.
    static let ipv6TCPData = hexBytes("""
        6b 8a bc de 00 19 06 39
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02
        01 bb c7 38 de ad be ef 01 02 03 04 50 18 01 f6 a3 f3 00 00
        68 65 6c 6c 6f
        """)

    /// IPv4 with a Router Alert option (IHL 6), TOS 0xc0, TTL 1, no DF, UDP 10.0.0.1:5353 →
    /// 224.0.0.251:5353 carrying de ad be ef. UDP checksum 0x4d6a.
    static let ipv4OptionsUDP = hexBytes("""
        46 c0 00 24 ab cd 00 00 01 11 8d 3b 0a 00 00 01 e0 00 00 fb 94 04 00 00
        14 e9 14 e9 00 0c 4d 6a de ad be ef
        """)

    /// IPv6 hop-by-hop → destination options → fragment (offset 0, M=1, id 0xcafef00d) → UDP
    /// 2001:db8::a:1234 → 2001:db8::b:53 carrying "12345678".
    static let ipv6ExtensionChainUDP = hexBytes("""
        60 00 00 00 00 28 00 40
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0a
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b
        3c 00 01 04 00 00 00 00
        2c 00 01 04 00 00 00 00
        11 00 00 01 ca fe f0 0d
        04 d2 00 35 00 10 ce 6b 31 32 33 34 35 36 37 38
        """)

    /// IPv6 non-first fragment (offset 1480) whose Next Header says destination options; the bytes that
    /// follow are mid-datagram and would claim a 2048-byte header if read as one.
    static let ipv6NonFirstFragment = hexBytes("""
        60 00 00 00 00 18 2c 40
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0a
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b
        3c 00 05 c8 ca fe f0 0d
        11 ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        """)

    /// ICMP echo request 192.0.2.1 → 192.0.2.2, identifier 0x1234, sequence 1, "abcdefgh". ICMP checksum 0x5435.
    static let ipv4ICMPEcho = hexBytes("""
        45 00 00 24 01 02 40 00 40 01 b5 d3 c0 00 02 01 c0 00 02 02
        08 00 54 35 12 34 00 01 61 62 63 64 65 66 67 68
        """)

    /// ICMPv6 echo request fe80::1 → fe80::2, hop limit 255, identifier 0x4321, sequence 7, "ping".
    static let ipv6ICMPEcho = hexBytes("""
        60 00 00 00 00 0c 3a ff
        fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01
        fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02
        80 00 60 bb 43 21 00 07 70 69 6e 67
        """)

    /// First IPv4 fragment (MF, offset 0, id 0x4242) of a UDP datagram 192.0.2.1:4000 → 192.0.2.2:5000.
    static let ipv4FirstFragment = hexBytes("""
        45 00 00 2c 42 42 20 00 40 11 94 7b c0 00 02 01 c0 00 02 02
        0f a0 13 88 05 e4 11 11 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
        """)

    /// A later IPv4 fragment of the same datagram (offset 185 × 8 = 1480, no MF).
    static let ipv4LaterFragment = hexBytes("""
        45 00 00 28 42 42 00 b9 40 11 b3 c6 c0 00 02 01 c0 00 02 02
        00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13
        """)

    /// Every fixture with a name, for tables.
    static let all: [(name: String, bytes: [UInt8])] = [
        ("ipv4TCPSyn", ipv4TCPSyn), ("ipv6TCPData", ipv6TCPData), ("ipv4OptionsUDP", ipv4OptionsUDP),
        ("ipv6ExtensionChainUDP", ipv6ExtensionChainUDP), ("ipv6NonFirstFragment", ipv6NonFirstFragment),
        ("ipv4ICMPEcho", ipv4ICMPEcho), ("ipv6ICMPEcho", ipv6ICMPEcho),
        ("ipv4FirstFragment", ipv4FirstFragment), ("ipv4LaterFragment", ipv4LaterFragment),
    ]
}

/// Bytes from whitespace-separated hex pairs.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count.isMultiple(of: 2), "odd number of hex digits")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func testAddress(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
    return address
}

/// Parses `bytes` and hands the borrowed packet to `body`.
func withParsedPacket<R>(_ bytes: [UInt8], _ body: (Packet) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { buffer in try body(try Packet(parsing: buffer)) }
}

/// The error parsing `bytes` throws, or nil when they parse.
func parseError(of bytes: [UInt8]) -> PacketParseError? {
    bytes.withUnsafeBytes { buffer in
        do throws(PacketParseError) {
            _ = try Packet(parsing: buffer)
            return nil
        } catch {
            return error
        }
    }
}

/// Whether the IPv4 header checksum verifies (the header summed with its checksum folds to 0xffff).
func ipv4HeaderVerifies(_ bytes: [UInt8]) -> Bool {
    let headerLength = Int(bytes[0] & 0x0f) * 4
    return bytes.withUnsafeBytes { foldedSum(onesComplementSum(UnsafeRawBufferPointer(rebasing: $0[0..<headerLength]))) } == 0xffff
}

/// Whether the transport checksum verifies: transport bytes plus pseudo-header (none for ICMPv4) sum to 0xffff.
func transportChecksumVerifies(_ bytes: [UInt8]) throws -> Bool {
    try withParsedPacket(bytes) { packet in
        let segment = UnsafeRawBufferPointer(rebasing: packet.bytes[packet.transportOffset...])
        let pseudo = packet.family == .v4 && packet.protocolNumber == 1
            ? 0
            : pseudoHeaderSum(source: packet.source, destination: packet.destination,
                              protocolNumber: packet.protocolNumber, length: segment.count)
        return foldedSum(onesComplementSum(segment, initial: pseudo)) == 0xffff
    }
}

/// A simple reference sum (16-bit words into an Int, folded at the end) to cross-check the fast path.
func referenceFoldedSum(_ bytes: [UInt8]) -> UInt16 {
    var sum = 0
    var index = 0
    while index + 1 < bytes.count {
        sum += Int(bytes[index]) << 8 | Int(bytes[index + 1])
        index += 2
    }
    if index < bytes.count { sum += Int(bytes[index]) << 8 }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return UInt16(sum)
}

/// SplitMix64: deterministic pseudo-random bytes for fuzz-style loops.
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
