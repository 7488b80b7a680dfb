/// Netlink's wire format, read without trusting a byte of it: every length is checked against the
/// bytes that are really there, and anything malformed ends the walk instead of trapping. The
/// queue's packet messages, nftables' acknowledgements and dumps all go through here (and through
/// the `fuzz-netlink` target).
///
/// A message is a 16-byte `nlmsghdr` (length, type, flags, sequence, port id, host byte order)
/// and a payload; attributes are `nlattr`s (length, type) padded to 4 bytes (netlink(7), rtnetlink(7)).
public struct NetlinkMessage {
    public static let headerSize = 16

    public let type: UInt16
    public let flags: UInt16
    public let sequence: UInt32
    public let portID: UInt32
    /// The bytes after the 16-byte header.
    public let payload: UnsafeRawBufferPointer

    /// NLMSG_ERROR: an error code, zero for an acknowledgement.
    public static let errorType: UInt16 = 2
    /// NLMSG_DONE: the end of a dump.
    public static let doneType: UInt16 = 3

    /// The messages in `buffer`, in order; a truncated or malformed one ends the sequence.
    public static func messages(in buffer: UnsafeRawBufferPointer) -> Messages { Messages(bytes: buffer) }

    /// For NLMSG_ERROR: the errno (0 for an acknowledgement; the message carries it negated) and
    /// the sequence number of the request it answers. Nil when the payload is too short to hold them.
    public var errorCode: (errno: Int32, sequence: UInt32)? {
        guard type == Self.errorType, payload.count >= 4 + Self.headerSize else { return nil }
        let code = Int32(bitPattern: payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let sequence = payload.loadUnaligned(fromByteOffset: 4 + 8, as: UInt32.self)
        // Wrapping: Int32.min, which no kernel sends, stays a (nonsense, nonzero) error instead of
        // trapping (found by fuzz-netlink).
        return (0 &- code, sequence)
    }

    /// The attributes after a family header of `headerLength` bytes (`nfgenmsg`: 4).
    public func attributes(after headerLength: Int) -> NetlinkAttributes {
        guard payload.count >= headerLength else { return NetlinkAttributes(bytes: UnsafeRawBufferPointer(start: nil, count: 0)) }
        return NetlinkAttributes(bytes: UnsafeRawBufferPointer(rebasing: payload[headerLength...]))
    }

    public struct Messages: Sequence, IteratorProtocol {
        var bytes: UnsafeRawBufferPointer

        public mutating func next() -> NetlinkMessage? {
            guard bytes.count >= NetlinkMessage.headerSize else { return nil }
            let length = Int(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            guard length >= NetlinkMessage.headerSize, length <= bytes.count else {
                bytes = UnsafeRawBufferPointer(start: nil, count: 0)
                return nil
            }
            let message = NetlinkMessage(
                type: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self),
                flags: bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self),
                sequence: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                portID: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self),
                payload: UnsafeRawBufferPointer(rebasing: bytes[NetlinkMessage.headerSize..<length]))
            let next = Swift.min(Netlink.aligned(length), bytes.count)
            bytes = UnsafeRawBufferPointer(rebasing: bytes[next...])
            return message
        }
    }
}

/// One netlink attribute: its type (without the nested and byte-order flags) and payload.
public struct NetlinkAttribute {
    public let type: UInt16
    public let payload: UnsafeRawBufferPointer

    /// A big-endian 32-bit value (nfnetlink's convention); nil if the payload is not 4 bytes.
    public var bigEndianUInt32: UInt32? {
        payload.count == 4 ? UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self)) : nil
    }

    /// A big-endian 64-bit value; nil if the payload is not 8 bytes.
    public var bigEndianUInt64: UInt64? {
        payload.count == 8 ? UInt64(bigEndian: payload.loadUnaligned(as: UInt64.self)) : nil
    }

    /// A NUL-terminated string (the terminator and anything after it dropped).
    public var string: String {
        String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The attributes nested inside this one.
    public var nested: NetlinkAttributes { NetlinkAttributes(bytes: payload) }
}

/// The attributes in a byte range, in order; a malformed one ends the sequence.
public struct NetlinkAttributes: Sequence, IteratorProtocol {
    var bytes: UnsafeRawBufferPointer

    public mutating func next() -> NetlinkAttribute? {
        guard bytes.count >= 4 else { return nil }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        guard length >= 4, length <= bytes.count else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return nil
        }
        let type = bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self) & Netlink.attributeTypeMask
        let attribute = NetlinkAttribute(type: type, payload: UnsafeRawBufferPointer(rebasing: bytes[4..<length]))
        let next = Swift.min(Netlink.aligned(length), bytes.count)
        bytes = UnsafeRawBufferPointer(rebasing: bytes[next...])
        return attribute
    }

    /// The first attribute of `type`, if any.
    public func first(_ type: UInt16) -> NetlinkAttribute? {
        var copy = self
        while let attribute = copy.next() { if attribute.type == type { return attribute } }
        return nil
    }
}

/// Constants and alignment shared by the reader and `NetlinkWriter`.
public enum Netlink {
    /// NLA_F_NESTED
    static let nestedFlag: UInt16 = 0x8000
    /// Clears NLA_F_NESTED and NLA_F_NET_BYTEORDER.
    static let attributeTypeMask: UInt16 = 0x3fff

    static func aligned(_ length: Int) -> Int { (length + 3) & ~3 }

    /// nlmsghdr flags.
    public static let request: UInt16 = 0x1
    public static let acknowledge: UInt16 = 0x4
    public static let dump: UInt16 = 0x300
    public static let replace: UInt16 = 0x100
    public static let exclusive: UInt16 = 0x200
    public static let create: UInt16 = 0x400
    public static let append: UInt16 = 0x800
}
