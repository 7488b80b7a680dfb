// The Internet checksum (RFC 1071): the 16-bit one's-complement of the one's-complement sum of
// the data taken as big-endian 16-bit words.
//
// Sums are carried in a `UInt32` and folded only at the end, so partial sums (a pseudo-header, a
// header, a payload) can be added together before one final `foldedChecksum`.

/// The one's-complement sum of `bytes` as big-endian 16-bit words, added to `initial`.
///
/// The result is not folded to 16 bits: while it fits in 32 bits (any packet up to 64 KiB) it is the
/// plain sum of the words plus `initial`; beyond that it is reduced by end-around carry, which leaves
/// the folded result unchanged. An odd trailing byte is padded with a zero byte (RFC 1071 §4.1).
public func onesComplementSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
    // Eight bytes per load, but still added as four 16-bit words so that the unfolded result is the
    // plain word sum callers can check against a hand computation. The 64-bit accumulator cannot
    // overflow for any buffer that fits in memory.
    var sum = UInt64(initial)
    let count = bytes.count
    var offset = 0
    while offset + 8 <= count {
        let word = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        sum += (word >> 48) + ((word >> 32) & 0xffff) + ((word >> 16) & 0xffff) + (word & 0xffff)
        offset += 8
    }
    while offset + 2 <= count {
        sum += UInt64(bytes.loadBigEndianUInt16(at: offset))
        offset += 2
    }
    if offset < count {
        sum += UInt64(bytes[offset]) << 8
    }
    // RFC 1071 §2(B): end-around carry keeps the sum modulo 0xffff, since 2^32 ≡ 2^16 ≡ 1 (mod 0xffff);
    // only a sum over more than 128 KiB needs it to fit 32 bits.
    while sum >> 32 != 0 {
        sum = (sum & 0xffff_ffff) + (sum >> 32)
    }
    return UInt32(sum)
}

/// Folds the carries of a one's-complement sum into 16 bits (RFC 1071 §4.1) and complements it:
/// the value written into a checksum field.
public func foldedChecksum(_ sum: UInt32) -> UInt16 {
    ~foldedSum(sum)
}

/// The Internet checksum of `bytes`, ready to store (the checksum field itself must be zero or be
/// excluded; summing a packet that includes a correct checksum gives 0xffff, i.e. this returns 0).
public func internetChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
    foldedChecksum(onesComplementSum(bytes))
}

/// The one's-complement sum of the pseudo-header a TCP, UDP or ICMPv6 checksum covers, unfolded.
///
/// IPv4 (RFC 9293 §3.1, RFC 768): source, destination, zero, protocol, 16-bit length.
/// IPv6 (RFC 8200 §8.1): source, destination, 32-bit upper-layer length, three zero bytes,
/// next header. `length` is the transport header plus payload. Both addresses must be the same family.
public func pseudoHeaderSum(source: IPAddress, destination: IPAddress, protocolNumber: UInt8, length: Int) -> UInt32 {
    precondition(source.family == destination.family, "pseudo-header with mixed address families")
    precondition(length >= 0, "negative upper-layer length")
    var sum = wordSum(source) + wordSum(destination) + UInt64(protocolNumber)
    switch source.family {
    case .v4:
        // A length beyond 16 bits cannot be stated in IPv4; its low 16 bits are what a receiver sums.
        sum += UInt64(length & 0xffff)
    case .v6:
        let length = UInt64(UInt32(truncatingIfNeeded: length))
        sum += (length >> 16) + (length & 0xffff)
    }
    return UInt32(sum)
}

/// Folds a one's-complement sum to 16 bits without complementing it: the value the Linux kernel keeps in
/// the checksum field of a CHECKSUM_PARTIAL packet (`~csum_tcpudp_magic(...)`).
@inlinable
func foldedSum(_ sum: UInt32) -> UInt16 {
    // Two folds suffice: after the first, the value is at most 0xffff + 0xffff = 0x1fffe.
    var folded = (sum & 0xffff) + (sum >> 16)
    folded = (folded & 0xffff) + (folded >> 16)
    return UInt16(folded)
}

/// The sum of an address's 16-bit words (2 for IPv4, 8 for IPv6), without building its bytes.
private func wordSum(_ address: IPAddress) -> UInt64 {
    func words(_ value: UInt64) -> UInt64 {
        (value >> 48) + ((value >> 32) & 0xffff) + ((value >> 16) & 0xffff) + (value & 0xffff)
    }
    return words(address.high) + words(address.low)
}
