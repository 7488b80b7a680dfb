import Foundation

/// A process started in one of a lab's namespaces (or where netfault runs), its standard output and
/// error going to files that can be read while it runs: the servers and clients of `netfault
/// demo` and of the lab tests.
public final class LabProcess {
    private let process = Process()
    private let outputURL: URL
    private let errorURL: URL

    /// Starts `command` (a path, or a name looked up in PATH) inside `namespace` (nil: here),
    /// with its output files in `directory`.
    public init(_ command: [String], in namespace: String?, directory: URL) throws {
        let name = UUID().uuidString
        outputURL = directory.appendingPathComponent("\(name).out")
        errorURL = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorURL)
        // The child has its own copies once started: ours are closed at once, whatever happens, or
        // hundreds of processes later the parent runs out of descriptors below FD_SETSIZE.
        defer {
            try? output.close()
            try? errors.close()
        }
        let full = (namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []) + command
        process.executableURL = URL(fileURLWithPath: full[0].hasPrefix("/") ? full[0] : "/usr/bin/env")
        process.arguments = full[0].hasPrefix("/") ? Array(full.dropFirst()) : full
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The process's id (`ip netns exec` execs the command, so it is the command's).
    public var pid: Int32 { process.processIdentifier }
    public var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    public var errors: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }
    /// The exit status; -1 while it runs.
    public var status: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Waits for the process to end; false if it still runs after `timeout` seconds.
    @discardableResult
    public func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Waits until the output or the errors contain `text`; false on timeout, if the process ended
    /// first, or once `abandon` says so.
    public func waitFor(_ text: String, timeout: Double = 10, abandon: () -> Bool = { false }) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, !abandon() {
            if output.contains(text) || errors.contains(text) { return true }
            if !process.isRunning { return output.contains(text) || errors.contains(text) }
            usleep(20_000)
        }
        return false
    }

    public func signal(_ number: Int32) {
        if process.isRunning { Glibc.kill(pid, number) }
    }

    /// Removes the files its output went to, once read (a process run to its end).
    public func removeOutputFiles() {
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }

    /// SIGKILL, and waits for it to end.
    public func kill() {
        signal(SIGKILL)
        wait(timeout: 5)
    }
}
