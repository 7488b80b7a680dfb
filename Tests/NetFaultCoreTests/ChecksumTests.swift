import Testing
@testable import NetFaultCore

/// Known-answer tests for the RFC 1071 helpers. Expected values were computed outside this code base
/// (Python, plain 16-bit sums) and pasted as literals.
struct ChecksumTests {
    struct KnownSum: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let unfolded: UInt32
        let checksum: UInt16
        var testDescription: String { name }
    }

    static let knownSums: [KnownSum] = [
        // RFC 1071 §3 numerical example: the words sum to 0x2ddf0, folding gives 0xddf2.
        KnownSum(name: "RFC 1071 §3", bytes: hexBytes("00 01 f2 03 f4 f5 f6 f7"), unfolded: 0x2_ddf0, checksum: 0x220d),
        KnownSum(name: "odd length", bytes: hexBytes("ab cd ef"), unfolded: 0x1_9acd, checksum: 0x6531),
        KnownSum(name: "single byte", bytes: [0x01], unfolded: 0x0100, checksum: 0xfeff),
        KnownSum(name: "empty", bytes: [], unfolded: 0, checksum: 0xffff),
        // The Wikipedia IPv4 header example with its checksum field zeroed.
        KnownSum(name: "IPv4 header, checksum zeroed",
                 bytes: hexBytes("45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7"),
                 unfolded: 0x2_479c, checksum: 0xb861),
        // The same header with the checksum in place sums to 0xffff, so its checksum is 0.
        KnownSum(name: "IPv4 header, checksum present",
                 bytes: hexBytes("45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7"),
                 unfolded: 0x2_fffd, checksum: 0x0000),
    ]

    @Test(arguments: knownSums)
    func knownAnswer(_ known: KnownSum) {
        known.bytes.withUnsafeBytes { buffer in
            #expect(onesComplementSum(buffer) == known.unfolded)
            #expect(internetChecksum(buffer) == known.checksum)
            #expect(foldedChecksum(onesComplementSum(buffer)) == known.checksum)
        }
    }

    @Test func rfc1071FoldsToDdf2() {
        #expect(foldedSum(0x2_ddf0) == 0xddf2)
        #expect(foldedChecksum(0x2_ddf0) == 0x220d)
    }

    @Test(arguments: [
        (UInt32(0), UInt16(0xffff)),
        (0xffff, 0x0000),
        (0x1_fffe, 0x0000),        // 0xfffe + 1 = 0xffff
        (0xffff_ffff, 0x0000),     // 0xffff + 0xffff = 0x1fffe → 0xffff
        (0x8000_8000, 0xfffe),     // 0x8000 + 0x8000 = 0x10000 → 0x0001
    ])
    func foldingCarries(sum: UInt32, checksum: UInt16) {
        #expect(foldedChecksum(sum) == checksum)
    }

    @Test func initialValueIsAdded() {
        let bytes = hexBytes("f2 03 f4 f5 f6 f7")
        bytes.withUnsafeBytes { #expect(onesComplementSum($0, initial: 0x0001) == 0x2_ddf0) }
    }

    /// The checksum of the TCP segment in `PacketFixtures.ipv4TCPSyn`, over its IPv4 pseudo-header.
    @Test func tcpOverIPv4() throws {
        var bytes = PacketFixtures.ipv4TCPSyn
        #expect(ipv4HeaderVerifies(bytes))
        #expect(try transportChecksumVerifies(bytes))
        bytes[36] = 0; bytes[37] = 0
        let pseudo = pseudoHeaderSum(source: testAddress("192.0.2.1"), destination: testAddress("198.51.100.2"),
                                     protocolNumber: 6, length: 40)
        #expect(pseudo == 0x1_ec64)
        let checksum = bytes.withUnsafeBytes { foldedChecksum(onesComplementSum(UnsafeRawBufferPointer(rebasing: $0[20...]), initial: pseudo)) }
        #expect(checksum == 0x37da)
        let header = Array(PacketFixtures.ipv4TCPSyn[0..<20]).withUnsafeBytes { internetChecksum($0) }
        #expect(header == 0)
    }

    /// The checksum of the TCP segment in `PacketFixtures.ipv6TCPData`, over its IPv6 pseudo-header.
    @Test func tcpOverIPv6() throws {
        var bytes = PacketFixtures.ipv6TCPData
        #expect(try transportChecksumVerifies(bytes))
        bytes[56] = 0; bytes[57] = 0
        let pseudo = pseudoHeaderSum(source: testAddress("2001:db8::1"), destination: testAddress("2001:db8::2"),
                                     protocolNumber: 6, length: 25)
        let checksum = bytes.withUnsafeBytes { foldedChecksum(onesComplementSum(UnsafeRawBufferPointer(rebasing: $0[40...]), initial: pseudo)) }
        #expect(checksum == 0xa3f3)
    }

    @Test func udpAndICMPFixturesVerify() throws {
        #expect(try transportChecksumVerifies(PacketFixtures.ipv4OptionsUDP))
        #expect(try transportChecksumVerifies(PacketFixtures.ipv4ICMPEcho))
        #expect(try transportChecksumVerifies(PacketFixtures.ipv6ICMPEcho))
        #expect(ipv4HeaderVerifies(PacketFixtures.ipv4OptionsUDP))
    }

    /// RFC 8200 §8.1: the IPv6 upper-layer length is 32 bits; both halves are summed.
    @Test func ipv6PseudoHeaderWithLongLength() {
        let sum = pseudoHeaderSum(source: testAddress("2001:db8::1"), destination: testAddress("2001:db8::2"),
                                  protocolNumber: 17, length: 70_000)
        #expect(foldedSum(sum) == 0x6cf7)
    }

    /// The 8-byte fast path against a plain 16-bit loop, at every alignment and for odd lengths.
    @Test(arguments: [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1499, 1500, 65_535, 65_536, 200_001])
    func matchesReferenceSum(length: Int) {
        var random = TestRandom(seed: UInt64(length) &+ 1)
        let bytes = (0..<(length + 7)).map { _ in UInt8.random(in: 0...255, using: &random) }
        for start in 0..<8 {
            let slice = Array(bytes[start..<(start + length)])
            let fast = bytes.withUnsafeBytes { foldedSum(onesComplementSum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))) }
            #expect(fast == referenceFoldedSum(slice), "length \(length) at offset \(start)")
        }
    }

    /// A full 64 KiB of 0xff would overflow a naive 16-bit accumulator; the unfolded sum stays exact.
    @Test func sixtyFourKiBOfOnes() {
        let bytes = [UInt8](repeating: 0xff, count: 65_536)
        bytes.withUnsafeBytes { buffer in
            #expect(onesComplementSum(buffer) == 32_768 * 0xffff)
            #expect(internetChecksum(buffer) == 0)
        }
    }
}
