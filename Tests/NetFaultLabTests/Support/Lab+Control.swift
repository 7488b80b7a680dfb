import Foundation
import Testing

extension Lab {
    /// A netfault started with its control API on a socket in the lab's folder.
    struct LiveNetfault {
        let process: Background
        let socket: String
    }

    /// What the control API answered: the HTTP status and the body.
    struct APIAnswer {
        var status: Int
        var body: String

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }

        /// The names and fired counts of `{"rules": [...]}` or a status.
        var rules: [(name: String, enabled: Bool, fired: Int)] {
            (json["rules"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["enabled"] as? Bool ?? false, $0["fired"] as? Int ?? -1) }
        }
    }

    /// Starts `netfault apply` placed as `placement` with no rules (`settings`: a rule file of
    /// settings and `rules: []` instead), its control socket at `control.sock` in the lab's folder.
    func liveNetfault(_ placement: Placement, settings: String? = nil, _ options: [String] = ["--report", "json"]) throws -> LiveNetfault {
        let socket = directory.appendingPathComponent("control-\(UUID().uuidString.prefix(6)).sock").path
        var arguments = [Self.netfaultPath, "apply"]
        if placement == .forward || settings != nil {
            arguments.append(try file("settings-\(UUID().uuidString.prefix(6)).yaml", placement.hooks + "\n" + (settings ?? "rules: []")))
        }
        let process = try start(placement.namespace(of: self), arguments + ["--control", socket] + options)
        guard process.waitFor("diverting", timeout: 15) else { throw Failure(description: "netfault did not start: \(process.errors)") }
        return LiveNetfault(process: process, socket: socket)
    }

    /// One request to the control API on `socket`, with curl (from the machine's namespace: a
    /// Unix socket is a file).
    func api(_ socket: String, _ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws -> APIAnswer {
        var command = ["curl", "-s", "--max-time", "20", "--unix-socket", socket, "-X", method, "-w", "\n%{http_code}"]
        for header in headers { command += ["-H", header] }
        if let body { command += ["--data-binary", "@" + (try file("body-\(UUID().uuidString.prefix(6))", body))] }
        let result = try run(nil, command + ["http://localhost\(path)"], timeout: 30)
        var lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let status = Int(lines.popLast() ?? "") ?? 0
        return APIAnswer(status: status, body: lines.joined(separator: "\n"))
    }

    /// The JSON report of the run so far, or since `mark`.
    func liveReport(_ socket: String, since mark: String? = nil) throws -> Report {
        let answer = try api(socket, "GET", "/v1/report" + (mark.map { "?since=\($0)" } ?? ""))
        guard answer.status == 200 else { throw Failure(description: "GET /v1/report: \(answer.status) \(answer.body)") }
        return try Report(json: answer.body)
    }
}
