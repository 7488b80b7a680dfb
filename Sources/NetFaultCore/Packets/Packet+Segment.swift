extension Packet {
    /// Bytes of TCP options (the header beyond its fixed 20 bytes); 0 for other transports.
    public var tcpOptionsLength: Int { transport == .tcp ? payloadOffset - transportOffset - 20 : 0 }

    /// The MSS option (RFC 9293 §3.2, kind 2) of a TCP SYN: the largest payload its sender accepts.
    public var maximumSegmentSizeOption: UInt16? {
        guard transport == .tcp, tcpFlags.contains(.syn) else { return nil }
        var mss: UInt16?
        forEachTCPOption(in: bytes, from: transportOffset + 20, to: payloadOffset) { kind, offset, length in
            if kind == 2, length == 4, mss == nil { mss = bytes.loadBigEndianUInt16(at: offset + 2) }
        }
        return mss
    }

    /// This packet as packets of at most `maxPayload` payload bytes, with complete checksums: what
    /// a GSO super-packet becomes on the wire, for copies that leave through a raw socket (which
    /// sends nothing larger than the link's MTU). Each piece keeps the IP and TCP headers, options
    /// included, with its own sequence number and lengths; FIN and PSH stay on the last piece, CWR
    /// on the first. A packet that needs no cutting, or is not TCP, comes back whole.
    public func segmented(maxPayload: Int) -> [[UInt8]] {
        guard transport == .tcp, !isFragment, maxPayload > 0, payloadLength > maxPayload else {
            return [rewritten(with: HeaderRewrite())]
        }
        var pieces: [[UInt8]] = []
        var offset = 0
        while offset < payloadLength {
            let count = min(maxPayload, payloadLength - offset)
            let start = payloadOffset + offset
            var piece = [UInt8](bytes[0..<payloadOffset])
            piece += bytes[start..<(start + count)]
            var flags = tcpFlags
            if offset + count < payloadLength { flags.subtract([.fin, .psh]) }
            if offset > 0 { flags.remove(.cwr) }
            piece.withUnsafeMutableBytes { buffer in
                finishPiece(buffer, sequence: sequenceNumber &+ UInt32(offset), flags: flags)
            }
            pieces.append(piece)
            offset += count
        }
        return pieces
    }

    /// Writes a piece's lengths, sequence number, flags and checksums.
    private func finishPiece(_ buffer: UnsafeMutableRawBufferPointer, sequence: UInt32, flags: TCPFlags) {
        let tcp = transportOffset
        buffer.storeBigEndian(sequence, at: tcp + 4)
        buffer[tcp + 13] = flags.rawValue
        buffer.storeBigEndian(UInt16(0), at: tcp + 16)
        let segment = UnsafeRawBufferPointer(rebasing: buffer[tcp...])
        let pseudo = pseudoHeaderSum(source: source, destination: destination, protocolNumber: PacketBuilder.ProtocolNumber.tcp,
                                     length: segment.count)
        buffer.storeBigEndian(foldedChecksum(onesComplementSum(segment, initial: pseudo)), at: tcp + 16)
        switch family {
        case .v4:
            buffer.storeBigEndian(UInt16(buffer.count), at: 2)
            buffer.storeBigEndian(UInt16(0), at: 10)
            buffer.storeBigEndian(internetChecksum(UnsafeRawBufferPointer(rebasing: buffer[0..<transportOffset])), at: 10)
        case .v6:
            buffer.storeBigEndian(UInt16(buffer.count - 40), at: 4)
        }
    }
}
