#if canImport(Glibc)
import Glibc
#endif
import CPcap
import NetFaultCore

/// A capture file of raw IP packets (LINKTYPE_RAW), written with libpcap, that tcpdump and
/// Wireshark open.
public final class PcapWriter {
    public let path: String
    private let handle: OpaquePointer
    private let dumper: OpaquePointer
    /// CLOCK_REALTIME minus the monotonic clock, so the engine's instants become wall-clock stamps.
    private let realtimeOffset: Int64
    public private(set) var packets = 0

    public init(path: String, snapshotLength: Int32 = 65_535) throws(SystemError) {
        self.path = path
        guard let handle = pcap_open_dead(DLT_RAW, snapshotLength) else {
            throw SystemError("opening a capture for \(path)", call: "pcap_open_dead", errno: ENOMEM)
        }
        guard let dumper = pcap_dump_open(handle, path) else {
            let reason = String(cString: pcap_geterr(handle))
            let code = errno
            pcap_close(handle)
            throw SystemError("creating the capture file \(path)", call: "pcap_dump_open", errno: code == 0 ? EIO : code, hint: reason)
        }
        self.handle = handle
        self.dumper = dumper
        var realtime = timespec()
        clock_gettime(CLOCK_REALTIME, &realtime)
        realtimeOffset = Int64(realtime.tv_sec) * 1_000_000_000 + Int64(realtime.tv_nsec) - monotonicNow().nanoseconds
    }

    /// Appends one packet, stamped with the moment `time` (monotonic) on the wall clock.
    public func write(_ record: FaultedFlowCapture.Record) {
        let stamp = record.time.nanoseconds + realtimeOffset
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(stamp / 1_000_000_000)
        header.ts.tv_usec = Int((stamp % 1_000_000_000) / 1000)
        header.caplen = UInt32(record.bytes.count)
        header.len = UInt32(record.length)
        record.bytes.withUnsafeBufferPointer { bytes in
            let user = UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self)
            pcap_dump(user, &header, bytes.baseAddress)
        }
        packets += 1
    }

    /// Flushes and closes the file.
    public func close() {
        pcap_dump_flush(dumper)
        pcap_dump_close(dumper)
        pcap_close(handle)
    }
}
