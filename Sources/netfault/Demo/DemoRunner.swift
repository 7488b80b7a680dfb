import Foundation
import NetFaultCore
import NetFaultLab
import NetFaultLinux

/// Runs demo scenarios in a private lab: for each, the preset on the middlebox, a real server and
/// client, and then what the client saw beside what netfault reported.
final class DemoRunner {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let lab: LabNetwork
    let directory: URL
    let netfaultPath: String
    /// `--set NAME=VALUE` for every preset the demo applies.
    var settings: [String] = []
    private var processes: [LabProcess] = []

    init(netfaultPath: String) throws {
        let prefix = "nfdemo\(getpid())"
        lab = LabNetwork(prefix: prefix)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix)
        self.netfaultPath = netfaultPath
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Creates the lab and the files its servers use.
    func setUp() throws {
        try lab.create()
        let www = directory.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: www, withIntermediateDirectories: true)
        for (name, size) in DemoScenario.files {
            try Data(repeating: UInt8(ascii: "x"), count: size).write(to: www.appendingPathComponent(name))
        }
        try Data(DemoScenario.eicar.utf8).write(to: www.appendingPathComponent("eicar.txt"))
        try EmbeddedPeer.script.write(to: directory.appendingPathComponent("peer.py"), atomically: true, encoding: .utf8)
        try lab.resolveNeighbours()
    }

    /// Stops every process of the demo's and removes the lab and its files.
    func tearDown() {
        for process in processes { process.kill() }
        processes = []
        lab.destroy()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs one scenario, handing each line to `emit` as soon as it is known.
    func run(_ scenario: DemoScenario, emit: (String) -> Void) throws {
        guard let preset = EmbeddedPresets.text(of: scenario.preset) else { throw Failure(description: "no preset \(scenario.preset)") }
        defer {
            for process in processes { process.kill() }
            processes = []
        }
        try startServer(scenario.server)
        let rules = directory.appendingPathComponent("\(scenario.preset).yaml")
        try preset.write(to: rules, atomically: true, encoding: .utf8)
        let reportPath = directory.appendingPathComponent("\(scenario.preset).json").path
        let netfault = try start(lab.middlebox, [netfaultPath, "apply", rules.path, "--report", "json", "--report-file", reportPath]
                                                + settings.flatMap { ["--set", $0] })
        guard netfault.waitFor("diverting", timeout: 15, abandon: { demoInterrupted != 0 }) else { throw Failure(description: "netfault did not start: \(netfault.errors)") }

        emit("▶ \(scenario.preset): \(scenario.title)  (Rules/\(scenario.preset).yaml)")
        for step in scenario.steps {
            guard demoInterrupted == 0 else { break }
            for line in try perform(step) { emit("  " + line) }
        }
        netfault.signal(SIGTERM)
        guard netfault.wait(timeout: 15), let data = FileManager.default.contents(atPath: reportPath),
              let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "netfault did not report: \(netfault.errors)")
        }
        for line in DemoReportLines(report).lines { emit("  " + line) }
        emit("")
    }

    private func start(_ namespace: String, _ command: [String]) throws -> LabProcess {
        let process = try LabProcess(command, in: namespace, directory: directory)
        processes.append(process)
        return process
    }

    private func startServer(_ server: DemoScenario.Server) throws {
        let peer = directory.appendingPathComponent("peer.py").path
        switch server {
        case .http:
            let www = directory.appendingPathComponent("www").path
            _ = try start(lab.server, ["python3", "-m", "http.server", "8080", "--bind", "::", "--directory", www])
            for _ in 0..<100 {
                let probe = try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://198.18.2.2:8080/index.html"])
                if probe.status == 0 { return }
                usleep(100_000)
            }
            throw Failure(description: "the lab's web server did not start")
        case .echo, .sink:
            let process = try start(lab.server, ["python3", peer] + (server == .echo ? ["echo-server", "8080"] : ["stream-server", "8080", "--sink"]))
            guard process.waitFor("ready", timeout: 10, abandon: { demoInterrupted != 0 }) else { throw Failure(description: "the lab's server did not start: \(process.errors)") }
        }
    }

    /// Runs one client step; returns the command and what it saw.
    private func perform(_ step: DemoScenario.Step) throws -> [String] {
        let server = LabNetwork.serverAddress[.v4]!
        let peer = directory.appendingPathComponent("peer.py").path
        switch step {
        case .curl(let path, let port, let options):
            let url = "http://\(server):\(port)/\(path)"
            let result = try lab.run(lab.client, ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_connect} %{time_total}"]
                                                 + options + [url])
            let fields = result.output.split(separator: " ")
            let bytes = fields.first.map(String.init) ?? "0"
            func seconds(_ field: Substring?) -> String { field.flatMap { Double($0) }.map { String(format: "%.2f s", $0) } ?? "?" }
            let seen = result.status == 0
                ? "ok: \(bytes) bytes in \(seconds(fields.last)) (connected after \(seconds(fields.dropFirst().first)))"
                : "\(result.errors.trimmingCharacters(in: .whitespacesAndNewlines)) — exit \(result.status) after \(bytes) bytes"
            return ["client: curl \((options + [url]).joined(separator: " "))", "  saw:  \(seen)"]
        case .session(let rounds, let interval, let userTimeout):
            let command = ["python3", peer, "session", server, "8080", "--rounds", "\(rounds)", "--interval", "\(interval)",
                           "--user-timeout-ms", "\(userTimeout)"]
            let outcome = try json(lab.run(lab.client, command).output)
            let what = rounds == 1 ? "one connection, used once" : "one connection, used \(rounds) times \(Int(interval)) s apart"
            let seen = outcome["result"] as? String == "ok"
                ? "ok after \(tenths(outcome["seconds"])) s"
                : "\(outcome["errno"] ?? "?") \((outcome["round"] as? Int ?? 0) == 0 ? "on connect" : "on use \(outcome["round"] ?? "?")"), after \(tenths(outcome["seconds"])) s"
            return ["client: \(what)\(userTimeout > 0 ? " (TCP_USER_TIMEOUT \(userTimeout) ms)" : "")", "  saw:  \(seen)"]
        case .upload(let bytes, let userTimeout):
            let command = ["python3", peer, "connect", server, "8080", "--upload", "\(bytes)", "--user-timeout-ms", "\(userTimeout)",
                           "--timeout", "30"]
            let outcome = try json(lab.run(lab.client, command).output)
            let seen = outcome["result"] as? String == "ok"
                ? "ok: \(outcome["sent"] ?? "?") bytes in \(tenths(outcome["seconds"])) s"
                : "\(outcome["errno"] ?? "?") after sending \(outcome["sent"] ?? "?") bytes, \(tenths(outcome["seconds"])) s"
            return ["client: an upload of \(bytes / 1_000_000) MB\(userTimeout > 0 ? " (TCP_USER_TIMEOUT \(userTimeout) ms)" : "")",
                    "  saw:  \(seen)"]
        case .hold(let count):
            let holders = try (0..<count).map { _ in
                try start(lab.client, ["python3", peer, "session", server, "8080", "--hold", "60"])
            }
            let connected = holders.filter { $0.waitFor("connected", timeout: 10, abandon: { demoInterrupted != 0 }) }.count
            return ["client: \(count) connections opened and kept open", "  saw:  \(connected) connected"]
        }
    }

    /// "6.0" for the peer's 6.002 seconds.
    private func tenths(_ seconds: Any?) -> String {
        (seconds as? Double).map { String(format: "%.1f", $0) } ?? "?"
    }

    private func json(_ line: String) throws -> [String: Any] {
        let last = line.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            throw Failure(description: "the lab's client printed no result: \(line)")
        }
        return object
    }
}
