import Foundation
import Testing

extension Lab {
    /// The netfault built beside the test bundle (`swift build` puts both in the same folder).
    static var netfaultPath: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("netfault").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return bundle.appendingPathComponent("netfault").path
    }

    /// A rule file shipped in Rules/.
    static func preset(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Rules/\(name).yaml").path
    }

    /// The repository the tests were built from.
    static let repositoryPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The lab's peer program, Lab/peer.py (the demo, soak and bench run the same one).
    static let peerPath = repositoryPath + "/Lab/peer.py"

    /// Starts `netfault apply --report json` with `rules` in `namespace` and waits until its hooks are installed.
    /// Where netfault runs in the lab: on the middlebox between client and server, or on the
    /// client itself, faulting its own connections.
    enum Placement: String, CaseIterable, CustomStringConvertible, Sendable {
        case forward, host
        var description: String { rawValue }

        /// The hooks line a rule file needs here.
        var hooks: String { self == .forward ? "hooks: [forward]" : "hooks: [output, input]" }

        func namespace(of lab: Lab) -> String { self == .forward ? lab.middlebox : lab.client }
    }

    /// Starts `netfault apply` placed as `placement`, with `rules` (no `hooks:` line: the placement's is added).
    func netfault(_ placement: Placement, rules: String, _ options: [String] = ["--report", "json"]) throws -> Background {
        try netfault(in: placement.namespace(of: self), rules: placement.hooks + "\n" + rules, options)
    }

    func netfault(in namespace: String, rules: String, _ options: [String] = ["--report", "json"]) throws -> Background {
        try netfault(in: namespace, rulesFile: try file("rules-\(UUID().uuidString.prefix(8)).yaml", rules), options)
    }

    /// Starts `netfault apply` with the rule file at `path`.
    func netfault(in namespace: String, rulesFile path: String, _ options: [String] = ["--report", "json"]) throws -> Background {
        let process = try start(namespace, [Self.netfaultPath, "apply", path] + options)
        guard process.waitFor("diverting", timeout: 15) else {
            throw Failure(description: "netfault did not start: \(process.errors)")
        }
        return process
    }

    /// What a stopped netfault left: its exit status, the report it printed, and its diagnostics.
    struct Stopped {
        var status: Int32
        var output: String
        var errors: String

        /// The JSON report on standard output.
        var report: Report {
            get throws {
                do { return try Report(json: output) } catch {
                    throw Failure(description: "no JSON report (\(error)); stdout: \(output) stderr: \(errors)")
                }
            }
        }
    }

    /// Stops netfault with SIGTERM and returns what it printed.
    func stop(_ netfault: Background) -> Stopped {
        netfault.signal(SIGTERM)
        let stopped = netfault.wait(timeout: 15)
        #expect(stopped, "netfault did not stop within 15 s of SIGTERM")
        return Stopped(status: netfault.status, output: netfault.output, errors: netfault.errors)
    }

    /// How many datagrams a `udp-sink --seconds` server counted, once it has ended; nil when it
    /// did not end within `timeout` or printed no count.
    func datagramsReceived(by sink: Background, timeout: Double = 20) -> Int? {
        guard sink.wait(timeout: timeout), let line = sink.output.split(separator: "\n").last,
              let fields = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return fields["received"] as? Int
    }

    /// Packets waiting in each queue of `namespace` for a verdict, by queue number.
    func packetsWaiting(in namespace: String) throws -> [Int: Int] {
        // queue, portid, waiting, copy mode, copy range, dropped, user dropped, last id, 1
        let table = try run(namespace, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).output
        return Dictionary(table.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            return (Int(fields[0]) ?? -1, Int(fields[2]) ?? -1)
        }, uniquingKeysWith: { first, _ in first })
    }

    /// Runs peer.py in `namespace` and decodes the JSON line it prints.
    func peer(_ namespace: String, _ arguments: [String], timeout: Double = 60) throws -> [String: Any] {
        let result = try run(namespace, ["python3", Self.peerPath] + arguments, timeout: timeout)
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "peer \(arguments.joined(separator: " ")) printed no result (status \(result.status)): \(result.output) \(result.errors)")
        }
        return object
    }

    /// Starts a peer.py server in the server namespace and waits until it listens.
    func peerServer(_ arguments: [String]) throws -> Background {
        let process = try start(server, ["python3", Self.peerPath] + arguments)
        guard process.waitFor("ready", timeout: 10) else { throw Failure(description: "peer server did not start: \(process.errors)") }
        try resolveNeighbours()
        return process
    }

    /// Warms ARP and NDP up, as `netfault demo` does.
    func resolveNeighbours() throws { try network.resolveNeighbours() }

    /// Starts `python3 -m http.server` on port 8080 serving `files`: in the server namespace, or
    /// with `loopback`, in the client namespace for the client's own loopback connections.
    func httpServer(files: [String: Data], loopback: Bool = false) throws -> Background {
        let root = directory.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(to: root.appendingPathComponent(name))
        }
        let process = try start(loopback ? client : server,
                                ["python3", "-m", "http.server", "8080", "--bind", "::", "--directory", root.path])
        // Ready when a request of each family through the (still fault-free) lab succeeds; this
        // also resolves the neighbours, so no first packet of a test waits on ARP or NDP.
        for _ in 0..<100 {
            let probes = try Family.allCases.map { family in
                try run(client, ["curl", "-s", "-o", "/dev/null", "--max-time", "1", url(family, "", loopback: loopback)], timeout: 5).status
            }
            if probes.allSatisfy({ $0 == 0 }) { return process }
            usleep(100_000)
        }
        throw Failure(description: "http.server did not start: \(process.errors)")
    }

    /// A URL of the lab's server (or of the client's loopback), with brackets for IPv6.
    func url(_ family: Family, _ path: String, loopback: Bool = false) -> String {
        let address = loopback ? (family == .v4 ? "127.0.0.1" : "::1") : Self.serverAddress[family]!
        let host = family == .v4 ? address : "[\(address)]"
        return "http://\(host):8080/\(path)"
    }

    /// curl in the client namespace: exit status and the -w fields asked for.
    func curl(_ family: Family, _ path: String, _ options: [String] = [], loopback: Bool = false,
              timeout: Double = 60) throws -> (status: Int32, fields: [String]) {
        let result = try run(client, ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_connect}"] + options
                                     + [url(family, path, loopback: loopback)], timeout: timeout)
        return (result.status, result.output.split(separator: " ").map(String.init))
    }

    /// netfault's firewall rules, if any, in `namespace`: its iptables chains (both families) and its nftables tables.
    func netfaultRules(in namespace: String) throws -> [String] {
        var lines: [String] = []
        for tool in ["iptables-save", "ip6tables-save"] {
            let result = try run(namespace, [tool], timeout: 10)
            lines += result.output.split(separator: "\n").map(String.init).filter { $0.contains("NETFAULT") || $0.contains("NFQUEUE") }
        }
        // netfault's nftables tables, as nft itself lists them.
        let tables = try run(namespace, ["nft", "list", "tables"], timeout: 10)
        guard tables.status == 0 else { throw Failure(description: "nft list tables: \(tables.errors)") }
        for table in tables.output.split(separator: "\n") where table.contains(" netfault-") {
            let words = table.split(separator: " ").map(String.init)
            let listed = try run(namespace, ["nft", "list", "table", words[1], words[2]], timeout: 10)
            lines += listed.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "}" }
        }
        return lines
    }
}
