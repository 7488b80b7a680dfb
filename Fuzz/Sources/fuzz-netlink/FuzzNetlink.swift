import FuzzDriver
import NetFaultCore
import NetFaultLinux

/// The program's entry: libFuzzer's driver, calling `fuzzOneInput`.
@_cdecl("fuzz_netlink_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data, size) }
}

/// libFuzzer's entry: any bytes, as one datagram read from a netlink socket — the queue's packet
/// messages, nf_tables' acknowledgements and dumps. Nothing may trap, and every packet handed on
/// must lie inside the datagram.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let datagram = UnsafeRawBufferPointer(start: data, count: size)
    let end = UnsafeRawPointer(data) + size
    for message in NetlinkMessage.messages(in: datagram) {
        _ = message.errorCode
        walk(message.attributes(after: 4), depth: 0)
        if let queued = QueuePacketMessage(message), let start = queued.packet.baseAddress {
            precondition(start >= UnsafeRawPointer(data) && start + queued.packet.count <= end, "a packet outside the datagram")
            _ = try? Packet(parsing: queued.packet)
        }
    }
    _ = NftDumps.countedPackets(inRuleDump: datagram)
    _ = NftDumps.tables(inDump: datagram)
    return 0
}

/// Reads every attribute as every type it could be, nested ones to a depth of four.
private func walk(_ attributes: NetlinkAttributes, depth: Int) {
    for attribute in attributes {
        _ = attribute.bigEndianUInt32
        _ = attribute.bigEndianUInt64
        _ = attribute.string
        if depth < 4 { walk(attribute.nested, depth: depth + 1) }
    }
}
