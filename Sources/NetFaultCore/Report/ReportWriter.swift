/// Where a report's bytes go as it is written: into a buffer of `capacity` bytes that is handed
/// to `flush` each time it fills, and once more by `finish()`. A report of any length, however
/// many connections it lists, needs only the buffer: it is written when the hooks are already
/// gone, and an out-of-memory kill then would lose the only record of the run.
///
/// `Failure` is what `flush` throws (a file's write error); `Never` for a report kept in memory.
public struct ReportWriter<Failure: Error>: ~Copyable {
    /// 64 KiB: a few system calls per megabyte of report.
    public static var defaultCapacity: Int { 64 * 1024 }

    private var buffer: [UInt8] = []
    private let capacity: Int
    private let flush: (UnsafeRawBufferPointer) throws(Failure) -> Void
    /// Escape what is written for XML text (the text report inside JUnit's `<system-out>`).
    var escapingXML = false

    /// A writer that hands `flush` at most about `capacity` bytes at a time, in order.
    public init(capacity: Int = defaultCapacity, flush: @escaping (UnsafeRawBufferPointer) throws(Failure) -> Void) {
        self.capacity = max(1, capacity)
        self.flush = flush
        buffer.reserveCapacity(self.capacity)
    }

    /// Appends `text` as UTF-8, handing the buffer on once it is full.
    mutating func write(_ text: String) throws(Failure) {
        if escapingXML {
            buffer.append(contentsOf: RunReport.escaped(text).utf8)
        } else {
            buffer.append(contentsOf: text.utf8)
        }
        if buffer.count >= capacity { try emptyBuffer() }
    }

    /// Appends `text` as a JSON string: quoted, with RFC 8259's escapes (never XML-escaped).
    /// Every character JSON escapes is ASCII, and no byte of a longer UTF-8 sequence is: the
    /// bytes are scanned, and copied in runs between escapes.
    mutating func writeJSONString(_ text: String) throws(Failure) {
        var text = text
        buffer.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var run = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.append(contentsOf: bytes[run..<index])
                run = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.append(contentsOf: #"\u00"#.utf8)
                    buffer.append(hex[Int(byte >> 4)])
                    buffer.append(hex[Int(byte & 0xF)])
                }
            }
            buffer.append(contentsOf: bytes[run...])
        }
        buffer.append(UInt8(ascii: "\""))
        if buffer.count >= capacity { try emptyBuffer() }
    }

    /// Hands on what the buffer still holds. Call it once the report is written whole.
    public mutating func finish() throws(Failure) {
        try emptyBuffer()
    }

    private mutating func emptyBuffer() throws(Failure) {
        guard !buffer.isEmpty else { return }
        let flushed: Result<Void, Failure> = buffer.withUnsafeBytes { bytes in
            do throws(Failure) {
                return .success(try flush(bytes))
            } catch {
                return .failure(error)
            }
        }
        // Emptied also when the flush failed: no byte is handed on twice.
        buffer.removeAll(keepingCapacity: true)
        try flushed.get()
    }
}

extension ReportWriter where Failure == Never {
    /// What `body` writes, as one string: for reports kept in memory (the control API's answers).
    static func text(_ body: (inout ReportWriter<Never>) -> Void) -> String {
        var bytes: [UInt8] = []
        var writer = ReportWriter<Never> { bytes.append(contentsOf: $0) }
        body(&writer)
        writer.finish()
        return String(decoding: bytes, as: UTF8.self)
    }
}
