import Foundation
import Hummingbird
import NetFaultCore
import NetFaultLinux

/// The control API's routes (`api/openapi.yaml`): each request becomes one job on the
/// controller's thread (`ControlMailbox`), its answer JSON, YAML or text. Every refusal is a 4xx
/// with `{"error": …, "details": […]}`; a 5xx would be a bug.
struct ControlAPI: Sendable {
    let mailbox: ControlMailbox
    /// What `GET /v1/status` names as the socket.
    let control: String
    /// Bodies larger than this are refused (413): a rule file is a few KB.
    static let maximumBody = 1 << 20

    /// The paths and the methods each takes: anything else is 404, a known path with another method 405.
    enum Route: Equatable {
        case status, rules, rule(String), reset, marks, report, metrics

        init?(path: String) {
            switch path {
            case "/v1/status": self = .status
            case "/v1/rules": self = .rules
            case "/v1/reset": self = .reset
            case "/v1/marks": self = .marks
            case "/v1/report": self = .report
            case "/metrics": self = .metrics
            default:
                let prefix = "/v1/rules/"
                guard path.hasPrefix(prefix), path.count > prefix.count else { return nil }
                let name = String(path.dropFirst(prefix.count))
                guard !name.contains("/"), let decoded = name.removingPercentEncoding else { return nil }
                self = .rule(decoded)
            }
        }

        var methods: [HTTPRequest.Method] {
            switch self {
            case .status, .report, .metrics: return [.get]
            case .rules: return [.get, .put, .post]
            case .rule: return [.delete, .patch]
            case .reset, .marks: return [.post]
            }
        }
    }

    /// A refusal, as the client sees it.
    struct Failure: Error {
        var status: HTTPResponse.Status
        var message: String
        var details: [String] = []
    }

    func respond(to request: Request) async -> Response {
        do {
            guard let route = Route(path: request.uri.path) else {
                throw Failure(status: .notFound, message: "no such path: \(String(request.uri.path.prefix(80))); the API is under /v1/ (and /metrics)")
            }
            guard route.methods.contains(request.method) else {
                var response = Self.error(Failure(status: .methodNotAllowed,
                                                  message: "\(request.method) is not allowed on \(request.uri.path); use \(route.methods.map(\.rawValue).joined(separator: ", "))"))
                response.headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
                return response
            }
            return try await handle(route, request)
        } catch let failure as Failure {
            return Self.error(failure)
        } catch let refusal as RuleBook.Refusal {
            return Self.error(Self.failure(refusal))
        } catch is ControlMailbox.Closed {
            return Self.error(Failure(status: .serviceUnavailable, message: "netfault is stopping"))
        } catch {
            return Self.error(Failure(status: .badRequest, message: "\(error)"))
        }
    }

    private func handle(_ route: Route, _ request: Request) async throws -> Response {
        switch (route, request.method) {
        case (.status, _):
            let control = self.control
            let status = try await mailbox.perform { $0.status() }
            return Self.json(Self.statusJSON(status, control: control))
        case (.rules, .get):
            let json = request.headers[.accept]?.contains("application/json") ?? false
            let text = try await mailbox.perform { $0.ruleFile(json: json) }
            return Self.text(text, type: json ? "application/json" : "application/yaml")
        case (.rules, .put):
            let body = try await Self.text(of: request)
            return Self.rulesJSON(try await mailbox.perform { try $0.replaceRules(withFile: body) })
        case (.rules, _):
            let body = try await Self.text(of: request)
            return Self.rulesJSON(try await mailbox.perform { try $0.addRules(body) })
        case (.rule(let name), .delete):
            return Self.rulesJSON(try await mailbox.perform { try $0.removeRule(name) })
        case (.rule(let name), _):
            let enabled = try Self.enabledFlag(try await Self.text(of: request))
            return Self.rulesJSON(try await mailbox.perform { try $0.setRule(name, enabled: enabled) })
        case (.reset, _):
            return Self.rulesJSON(try await mailbox.perform { try $0.reset() })
        case (.marks, _):
            let name = try Self.markName(try await Self.text(of: request))
            let made = try await mailbox.perform { try $0.mark(name) }
            return Self.json(.object([("name", .string(made.name)), ("at_ms", .number(made.atMilliseconds))]), status: .created)
        case (.report, _):
            let parameters = request.uri.queryParameters
            let since = parameters["since"].map(String.init)
            let format = parameters["format"].map(String.init) ?? "json"
            guard ["json", "text", "junit"].contains(format) else {
                throw Failure(status: .badRequest, message: "format=\(String(format.prefix(40))) is not a report format: json, text or junit")
            }
            let report = try await mailbox.perform { try $0.report(since: since) }
            switch format {
            case "text": return Self.text(report.text(all: true), type: "text/plain; charset=utf-8")
            case "junit": return Self.text(report.junit(), type: "application/xml")
            default: return Self.text(report.json(), type: "application/json")
            }
        case (.metrics, _):
            let metrics = try await mailbox.perform { $0.metrics() }
            return Self.text(MetricsExposition.shared.render(metrics), type: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    // MARK: Bodies

    /// The body as UTF-8 text, at most `maximumBody` bytes.
    static func text(of request: Request) async throws -> String {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBody)
        } catch {
            throw Failure(status: .contentTooLarge, message: "the body is over 1 MiB; a rule file is a few KB")
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw Failure(status: .badRequest, message: "the body is not UTF-8 text")
        }
        return text
    }

    /// The body as a JSON object; `what` shows the expected shape in the refusal.
    private static func object(_ text: String, what: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure(status: .badRequest, message: "the body must be a JSON object: \(what)")
        }
        return object
    }

    /// `{"enabled": true|false}`.
    static func enabledFlag(_ text: String) throws -> Bool {
        struct Body: Decodable { let enabled: Bool }
        let object = try object(text, what: #"{"enabled": false}"#)
        guard object.count == 1, let body = try? JSONDecoder().decode(Body.self, from: Data(text.utf8)) else {
            throw Failure(status: .badRequest, message: #"the body must be {"enabled": true} or {"enabled": false}, nothing else"#)
        }
        return body.enabled
    }

    /// `{"name": "…"}`.
    static func markName(_ text: String) throws -> String {
        let object = try object(text, what: #"{"name": "test_login"}"#)
        guard object.count == 1, let name = object["name"] as? String else {
            throw Failure(status: .badRequest, message: #"the body must be {"name": "test_login"}, nothing else"#)
        }
        return name
    }

    // MARK: Answers

    static func failure(_ refusal: RuleBook.Refusal) -> Failure {
        switch refusal {
        case .invalid(let details):
            return Failure(status: .badRequest, message: "the rule file is invalid (\(details.count) problem\(details.count == 1 ? "" : "s"))",
                           details: details)
        case .badRequest(let message): return Failure(status: .badRequest, message: message)
        case .conflict(let message): return Failure(status: .conflict, message: message)
        case .notFound(let message): return Failure(status: .notFound, message: message)
        }
    }

    static func error(_ failure: Failure) -> Response {
        json(.object([("error", .string(failure.message)), ("details", .array(failure.details.map { .string($0) }))]),
             status: failure.status)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        text(value.rendered() + "\n", type: "application/json", status: status)
    }

    static func text(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func rulesJSON(_ rules: [LiveRun.RuleStatus]) -> Response {
        json(.object([("rules", ruleList(rules))]))
    }

    static func ruleList(_ rules: [LiveRun.RuleStatus]) -> JSONValue {
        .array(rules.map { rule in
            .object([("name", .string(rule.name)), ("action", .string(rule.action)), ("enabled", .bool(rule.enabled)),
                     ("fired", .integer(Int64(rule.fired))), ("connections", .integer(Int64(rule.connections)))])
        })
    }

    static func statusJSON(_ status: LiveRun.Status, control: String) -> JSONValue {
        .object([
            ("api_version", .integer(1)),
            ("pid", .integer(Int64(getpid()))),
            ("control", .string(control)),
            ("uptime_seconds", .number((status.uptimeSeconds * 1000).rounded() / 1000)),
            ("queues", .array(status.queues.map { .integer(Int64($0)) })),
            ("hooks", .array(status.hooks.map { .string($0) })),
            ("namespace", .optional(status.namespace) { .string($0) }),
            ("rules", ruleList(status.rules)),
            ("packets", .integer(Int64(status.packets))),
            ("verdicts", .integer(Int64(status.verdicts))),
            ("held", .integer(Int64(status.held))),
            ("escaped", .optional(status.escaped) { .integer(Int64($0)) }),
            ("connections_tracked", .integer(Int64(status.connectionsTracked))),
            ("rule_changes", .integer(Int64(status.ruleChanges))),
            ("marks", .array(status.marks.map { .string($0) })),
        ])
    }
}
