import Foundation

/// A process of the demo's, inside one of its namespaces, with its output going to files the demo
/// reads while it runs.
final class DemoProcess {
    private let process = Process()
    private let outputURL: URL
    private let errorURL: URL

    init(_ command: [String], in namespace: String, directory: URL) throws {
        let name = UUID().uuidString
        outputURL = directory.appendingPathComponent("\(name).out")
        errorURL = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorURL)
        // The child keeps its own copies; ours are closed at once.
        defer {
            try? output.close()
            try? errors.close()
        }
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace] + command
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }

    /// Waits until the output or the errors contain `text`; false on timeout or exit.
    func waitFor(_ text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) || errors.contains(text) { return true }
            if !process.isRunning || demoInterrupted != 0 { return false }
            usleep(20_000)
        }
        return false
    }

    /// Waits for the process to end; false if it still runs after `timeout` seconds.
    @discardableResult
    func wait(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    func stop() {
        signal(SIGKILL)
        wait(timeout: 5)
    }
}

/// Set by SIGINT or SIGTERM: the demo stops at the next step and tears its lab down.
nonisolated(unsafe) var demoInterrupted: sig_atomic_t = 0
