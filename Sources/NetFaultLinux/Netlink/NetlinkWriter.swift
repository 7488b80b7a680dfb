/// Builds netlink messages and their attributes into one byte array (a batch of messages is one
/// `send`). Lengths are patched in when a message or nest ends; payloads are padded to 4 bytes.
public struct NetlinkWriter {
    public private(set) var bytes: [UInt8] = []
    private var messageStart: Int?

    public init() {}

    /// Starts a message; `family`, `resourceID` fill the `nfgenmsg` that every nfnetlink message carries.
    public mutating func beginMessage(type: UInt16, flags: UInt16, sequence: UInt32, family: UInt8, resourceID: UInt16 = 0) {
        precondition(messageStart == nil, "a netlink message is already open")
        messageStart = bytes.count
        append(UInt32(0))  // length, patched by endMessage
        append(type)
        append(flags)
        append(sequence)
        append(UInt32(0))  // port id: the kernel fills in the sender's
        bytes += [family, 0 /* NFNETLINK_V0 */]
        append(resourceID.bigEndian)
    }

    public mutating func endMessage() {
        guard let start = messageStart else { preconditionFailure("no netlink message is open") }
        patchLength(at: start, UInt32(bytes.count - start))
        messageStart = nil
    }

    public mutating func put(_ type: UInt16, bytes payload: [UInt8]) {
        append(UInt16(4 + payload.count))
        append(type)
        bytes += payload
        pad()
    }

    public mutating func put(_ type: UInt16, bigEndian value: UInt32) {
        put(type, bytes: withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    /// A NUL-terminated string.
    public mutating func put(_ type: UInt16, string: String) {
        put(type, bytes: Array(string.utf8) + [0])
    }

    /// An attribute whose payload is the attributes `body` writes.
    public mutating func nest(_ type: UInt16, _ body: (inout NetlinkWriter) -> Void) {
        let start = bytes.count
        append(UInt16(0))
        append(type | Netlink.nestedFlag)
        body(&self)
        let length = UInt16(bytes.count - start)
        bytes[start] = UInt8(truncatingIfNeeded: length)
        bytes[start + 1] = UInt8(truncatingIfNeeded: length >> 8)
    }

    private mutating func patchLength(at offset: Int, _ length: UInt32) {
        withUnsafeBytes(of: length) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
