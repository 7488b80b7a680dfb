#if canImport(Glibc)
import Glibc
#endif
import CPcap
import NetFaultCore

/// A capture file of raw IP packets (LINKTYPE_RAW), written with libpcap, that tcpdump and
/// Wireshark open.
public final class PcapWriter {
    public let file: OutputFile
    private let handle: OpaquePointer
    private let dumper: OpaquePointer
    /// CLOCK_REALTIME minus the monotonic clock, so the engine's instants become wall-clock stamps.
    private let realtimeOffset: Int64
    public private(set) var packets = 0
    /// The errno of the first write that failed (a full disk, a size limit); 0 while none did.
    private var writeError: Int32 = 0
    private let stream: UnsafeMutablePointer<FILE>

    /// Writes the capture to `file`, opened already (`OutputFile`: no link followed, owner-only).
    public init(file: OutputFile, snapshotLength: Int32 = 65_535) throws(SystemError) {
        self.file = file
        guard let handle = pcap_open_dead(DLT_RAW, snapshotLength) else {
            throw SystemError("opening a capture for \(file.path)", call: "pcap_open_dead", errno: ENOMEM)
        }
        let copy = dup(file.descriptor)
        guard copy >= 0, let stream = fdopen(copy, "w") else {
            let code = errno
            if copy >= 0 { Glibc.close(copy) }
            pcap_close(handle)
            throw SystemError("writing the capture file \(file.path)", call: "fdopen", errno: code)
        }
        guard let dumper = pcap_dump_fopen(handle, stream) else {
            let reason = String(cString: pcap_geterr(handle))
            fclose(stream)
            pcap_close(handle)
            throw SystemError("writing the capture file \(file.path)", call: "pcap_dump_fopen", errno: EIO, hint: reason)
        }
        self.handle = handle
        self.dumper = dumper
        self.stream = stream
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
        if writeError == 0, ferror(stream) != 0 { writeError = errno == 0 ? EIO : errno }
    }

    /// Flushes and closes the file. A write that failed on the way (a full disk, a size limit) is
    /// an error: a capture that lost packets must not look complete.
    public func close() throws(OutputFileError) {
        if pcap_dump_flush(dumper) != 0 || ferror(stream) != 0, writeError == 0 { writeError = errno == 0 ? EIO : errno }
        let code = writeError
        pcap_dump_close(dumper)
        pcap_close(handle)
        try file.close()
        if code != 0 {
            throw OutputFileError(path: file.path, role: file.role, reason: "could not be written whole: \(String(cString: strerror(code)))")
        }
    }
}
