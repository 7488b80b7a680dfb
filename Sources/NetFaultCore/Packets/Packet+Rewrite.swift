extension Packet {
    /// A copy of this packet with the rewrite applied.
    ///
    /// - `window`, `flags`, `sequenceDelta`, `acknowledgmentDelta`: TCP only; ignored for other transports.
    /// - `ttl`: IPv4 TTL / IPv6 hop limit. `tos`: IPv4 TOS / IPv6 traffic class, keeping the flow label.
    /// - `truncate`: keep at most N payload bytes (negative counts as 0); the IPv4 total length, IPv6
    ///   payload length and UDP length shrink to match. Packets without a parsed transport (non-initial
    ///   fragments, other protocols) have no payload to truncate and keep their length.
    ///
    /// Checksums: every one is complete, as on the wire: the IPv4 header's, TCP's, UDP's and ICMP's.
    /// A packet the kernel queued before its checksum was computed (CHECKSUM_PARTIAL: veth, virtio,
    /// containers) carries only the pseudo-header sum, and the kernel does not finish the checksum of
    /// a packet handed back changed (`nfqnl_mangle` marks it CHECKSUM_NONE): a partial sum left in
    /// place makes the receiver discard the packet. A GSO super-packet's checksum is complete over
    /// the whole; should the kernel cut it into segments, it sums each one anew. UDP over IPv4 whose
    /// checksum was 0 ("none", RFC 768) keeps 0.
    ///
    /// A first fragment's transport checksum covers the whole datagram, which this packet does not
    /// hold: a TCP sequence/acknowledgment/window/flags change adjusts it incrementally (RFC 1624) instead, and UDP/ICMP
    /// fields that describe the whole datagram are left alone.
    ///
    /// The IPv6 pseudo-header uses the destination in the fixed header; a packet carrying a routing
    /// header (whose final destination is elsewhere, RFC 8200 §8.1) gets a checksum the receiver rejects
    /// in `.full` mode.
    public func rewritten(with rewrite: HeaderRewrite) -> [UInt8] {
        var keptPayload = payloadLength
        if let limit = rewrite.truncate, transport != nil {
            keptPayload = min(payloadLength, max(0, limit))
        }
        let newLength = payloadOffset + keptPayload
        var out = [UInt8](bytes[0..<newLength])
        out.withUnsafeMutableBytes { buffer in
            // The transport first: the IPv4 header checksum comes last and covers nothing after it.
            rewriteTransport(buffer, rewrite)
            rewriteNetwork(buffer, rewrite)
        }
        assert(out.withUnsafeBytes { (try? Packet(parsing: $0)) != nil }, "a rewritten packet does not parse")
        return out
    }

    /// Changes the IP header of `buffer` (this packet's bytes, possibly shortened) in place.
    private func rewriteNetwork(_ buffer: UnsafeMutableRawBufferPointer, _ rewrite: HeaderRewrite) {
        let lengthChanged = buffer.count != bytes.count
        switch family {
        case .v4:
            // RFC 791 §3.1: TOS at 1, total length at 2, TTL at 8, header checksum at 10.
            if let tos = rewrite.tos { buffer[1] = tos }
            if let ttl = rewrite.ttl { buffer[8] = ttl }
            if lengthChanged {
                // A super-packet that still exceeds 64 KiB keeps the "whole buffer" length of 0.
                buffer.storeBigEndian(UInt16(buffer.count <= 0xffff ? buffer.count : 0), at: 2)
            }
            buffer.storeBigEndian(UInt16(0), at: 10)
            let header = UnsafeRawBufferPointer(rebasing: buffer[0..<transportOffset])
            buffer.storeBigEndian(internetChecksum(header), at: 10)
        case .v6:
            // RFC 8200 §3: version (4 bits), traffic class (8 bits), flow label (20 bits); payload length
            // at 4 (extension headers included); hop limit at 7.
            if let tos = rewrite.tos {
                buffer[0] = (buffer[0] & 0xf0) | (tos >> 4)
                buffer[1] = (tos << 4) | (buffer[1] & 0x0f)
            }
            if let ttl = rewrite.ttl { buffer[7] = ttl }
            if lengthChanged {
                let payload = buffer.count - 40
                buffer.storeBigEndian(UInt16(payload <= 0xffff ? payload : 0), at: 4)
            }
        }
    }

    /// Changes the transport header of `buffer` in place and rewrites its checksum.
    private func rewriteTransport(_ buffer: UnsafeMutableRawBufferPointer, _ rewrite: HeaderRewrite) {
        guard let transport else { return }
        let start = transportOffset
        switch transport {
        case .tcp:
            // RFC 9293 §3.1: sequence number at 4, acknowledgment at 8, data offset and flags at
            // 12-13, window at 14, checksum at 16.
            let before = onesComplementSum(UnsafeRawBufferPointer(rebasing: buffer[(start + 4)..<(start + 16)]))
            let fields = UnsafeRawBufferPointer(buffer)
            if let delta = rewrite.sequenceDelta {
                buffer.storeBigEndian(fields.loadBigEndianUInt32(at: start + 4) &+ delta, at: start + 4)
            }
            if let delta = rewrite.acknowledgmentDelta {
                buffer.storeBigEndian(fields.loadBigEndianUInt32(at: start + 8) &+ delta, at: start + 8)
            }
            if let flags = rewrite.flags { buffer[start + 13] = flags.rawValue }
            if let window = rewrite.window { buffer.storeBigEndian(window, at: start + 14) }
            // Options of a first fragment are left alone: its checksum is only adjusted for 4-15.
            if !isFragment { rewriteOptions(buffer, rewrite) }
            if isFragment {
                let after = onesComplementSum(UnsafeRawBufferPointer(rebasing: buffer[(start + 4)..<(start + 16)]))
                let old = UnsafeRawBufferPointer(buffer).loadBigEndianUInt16(at: start + 16)
                // RFC 1624 §3 eqn. 3: HC' = ~(~HC + ~m + m'), summed over the changed words.
                let updated = foldedChecksum(UInt32(~old) + UInt32(~foldedSum(before)) + after)
                buffer.storeBigEndian(updated, at: start + 16)
            } else {
                storeChecksum(buffer, at: start + 16, protocolNumber: PacketBuilder.ProtocolNumber.tcp)
            }
        case .udp:
            guard !isFragment else { return }
            // RFC 768: length at 4 (header included), checksum at 6.
            if buffer.count != bytes.count {
                let length = buffer.count - start
                buffer.storeBigEndian(UInt16(length <= 0xffff ? length : 0), at: start + 4)
            }
            if family == .v4, UnsafeRawBufferPointer(buffer).loadBigEndianUInt16(at: start + 6) == 0 { return }
            storeChecksum(buffer, at: start + 6, protocolNumber: PacketBuilder.ProtocolNumber.udp)
        case .icmp:
            guard !isFragment else { return }
            // RFC 792 / RFC 4443 §2.3: checksum at 2; only ICMPv6 covers a pseudo-header.
            storeChecksum(buffer, at: start + 2, protocolNumber: PacketBuilder.ProtocolNumber.icmp(family))
        }
    }

    /// Overwrites the options `rewrite.stripOptions` names with no-operations, and lowers an MSS
    /// above `rewrite.clampMSS`, in the TCP header of `buffer`; the checksum is the caller's.
    private func rewriteOptions(_ buffer: UnsafeMutableRawBufferPointer, _ rewrite: HeaderRewrite) {
        guard rewrite.stripOptions != nil || rewrite.clampMSS != nil else { return }
        let options = UnsafeRawBufferPointer(buffer)
        forEachTCPOption(in: options, from: transportOffset + 20, to: payloadOffset) { kind, offset, length in
            if let strip = rewrite.stripOptions, strip.contains(TCPOptionKinds(kind: kind)) {
                for index in offset..<(offset + length) { buffer[index] = 1 }
            } else if kind == 2, length == 4, let limit = rewrite.clampMSS, options.loadBigEndianUInt16(at: offset + 2) > limit {
                buffer.storeBigEndian(limit, at: offset + 2)
            }
        }
    }

    /// Writes the complete transport checksum at `offset`, computed over everything from the
    /// transport header on.
    private func storeChecksum(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int, protocolNumber: UInt8) {
        let segmentLength = buffer.count - transportOffset
        let pseudo = protocolNumber == PacketBuilder.ProtocolNumber.icmpV4
            ? 0
            : pseudoHeaderSum(source: source, destination: destination, protocolNumber: protocolNumber, length: segmentLength)
        buffer.storeBigEndian(UInt16(0), at: offset)
        let segment = UnsafeRawBufferPointer(rebasing: buffer[transportOffset...])
        var value = foldedChecksum(onesComplementSum(segment, initial: pseudo))
        // RFC 768: a computed UDP checksum of zero goes out as all ones, since zero means "none".
        if protocolNumber == PacketBuilder.ProtocolNumber.udp, value == 0 { value = 0xffff }
        buffer.storeBigEndian(value, at: offset)
    }
}
