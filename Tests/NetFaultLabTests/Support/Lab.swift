import Foundation
import NetFaultLab
import NetFaultLinux
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway lab of three network namespaces, client — middlebox — server, joined by veth pairs,
/// with addresses from 198.18.0.0/15 and 2001:db8::/32 only. Every name is unique to this lab, so
/// two runs never collide; `close()` kills the lab's processes by PID, deletes the namespaces and
/// the lab's files, also when the test failed. Nothing touches the namespace the tests run in.
final class Lab {
    enum Family: String, CaseIterable, CustomStringConvertible, Sendable {
        case v4, v6
        var description: String { rawValue }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Lab tests need root; in CI they run regardless, so that missing root fails instead of skipping.
    static var canRun: Bool { getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" }

    static let clientAddress: [Family: String] = [.v4: LabNetwork.clientAddress[.v4]!, .v6: LabNetwork.clientAddress[.v6]!]
    static let serverAddress: [Family: String] = [.v4: LabNetwork.serverAddress[.v4]!, .v6: LabNetwork.serverAddress[.v6]!]

    let id: String
    let network: LabNetwork
    let client: String
    let middlebox: String
    let server: String
    let directory: URL
    private var background: [Background] = []
    private var closed = false

    private static let counter = Counter()

    init() throws {
        guard getuid() == 0 else { throw Failure(description: "lab tests need root (they create network namespaces)") }
        id = "nf\(getpid())x\(Self.counter.next())"
        network = LabNetwork(prefix: id)
        client = network.client
        middlebox = network.middlebox
        server = network.server
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            // The same lab `netfault demo` builds: the veth pairs are created inside its namespaces.
            try network.create()
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }


    /// Runs a command inside `namespace` (nil: where the tests run) and waits for it (killed after
    /// `timeout` seconds).
    @discardableResult
    func run(_ namespace: String?, _ command: [String], timeout: Double = 30) throws -> Result {
        try Self.execute(command, in: namespace, directory: directory, timeout: timeout)
    }

    /// Starts a command inside `namespace` that runs until the lab closes (or `stop`).
    func start(_ namespace: String?, _ command: [String]) throws -> Background {
        let process = try Background(command, in: namespace, directory: directory)
        background.append(process)
        return process
    }

    /// Writes `text` to a file of the lab's and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func close() {
        guard !closed else { return }
        closed = true
        for process in background { process.kill() }
        // Whatever else still runs in the lab's namespaces was started by this lab.
        network.destroy()
        try? FileManager.default.removeItem(at: directory)
        Self.removeControlSockets(ofNamespacesStartingWith: [id + "-"])
    }

    /// Removes what netfaults the test killed left in /run/netfault: their default control
    /// sockets, named after the namespace they ran in (`<namespace>-0.sock`), and the lock files.
    static func removeControlSockets(ofNamespacesStartingWith prefixes: [String]) {
        let sockets = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netfault")) ?? []
        for name in sockets where prefixes.contains(where: { name.hasPrefix($0) }) {
            try? FileManager.default.removeItem(atPath: "/run/netfault/" + name)
        }
    }

    struct Result {
        var status: Int32
        var output: String
        var errors: String
        var timedOut: Bool
    }

    static func execute(_ command: [String], in namespace: String?, directory: URL, timeout: Double) throws -> Result {
        let process = try Background(command, in: namespace, directory: directory)
        let finished = process.wait(timeout: timeout)
        if !finished { process.kill() }
        // Read, then gone: some callers run in a shared directory (/tmp), not a lab's own.
        defer { process.removeOutputFiles() }
        return Result(status: process.status, output: process.output, errors: process.errors, timedOut: !finished)
    }
}

/// A process of the lab's: the same wrapper `netfault demo` uses.
typealias Background = LabProcess

/// Unique lab numbers within this test process.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Runs `body` in a lab of its own, which is removed afterwards whatever happens: its processes
/// killed, its namespaces and files deleted.
func withLab<Result>(_ body: (Lab) throws -> Result) throws -> Result {
    let lab = try Lab()
    defer { lab.close() }
    return try body(lab)
}
