import ArgumentParser
import Dispatch
import Foundation
import NetFaultControl
import NetFaultLinux
import NIOHTTP1

extension Netfault {
    /// Talks to a running netfault's control API: status, rules, marks, reports, metrics.
    struct Ctl: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a running netfault's rules and read its report, through its control API.",
            discussion: """
                Commands: status, rules, load FILE (replace the rule file), add FILE (add its rules), \
                remove NAME..., enable NAME, disable NAME, reset (remove every rule), mark NAME (start a \
                report segment), report [--since NAME] [--report text|json|junit], metrics. \
                Exit 0 on success, 2 when a rule file is invalid (its errors printed as check prints \
                them), 1 when no netfault answers or it refuses the request.
                """
        )

        @Option(help: "The queue of the netfault to talk to (its default socket, /run/netfault/<queue>.sock).")
        var queue: UInt16 = 0

        @Option(help: ArgumentHelp("The control socket of the netfault to talk to.", valueName: "path"))
        var control: String?

        @Option(help: ArgumentHelp("The netfault's --listen address instead: http://127.0.0.1:PORT (with --token-file).", valueName: "url"))
        var url: String?

        @Option(help: ArgumentHelp("With --url: the file holding the token.", valueName: "file"))
        var tokenFile: String?

        @Option(help: "report: the mark the segment starts at.")
        var since: String?

        @Option(help: "report: text, json or junit.")
        var report: ReportFormat = .text

        @Argument(help: "The command and its arguments.")
        var words: [String] = []

        static let commands = ["status", "rules", "load", "add", "remove", "enable", "disable", "reset", "mark", "report", "metrics"]

        func validate() throws {
            guard let command = words.first else { throw ValidationError("name a command: \(Self.commands.joined(separator: ", "))") }
            guard Self.commands.contains(command) else {
                throw ValidationError("'\(command)' is not a command: \(Self.commands.joined(separator: ", "))")
            }
            let arguments = words.count - 1
            switch command {
            case "load", "add", "enable", "disable", "mark":
                if arguments != 1 { throw ValidationError("\(command) takes one argument") }
            case "remove":
                if arguments < 1 { throw ValidationError("remove takes the names of the rules to remove") }
            default:
                if arguments != 0 { throw ValidationError("\(command) takes no argument") }
            }
            if url != nil, tokenFile == nil { throw ValidationError("--url needs --token-file") }
            if url != nil, control != nil { throw ValidationError("give --control or --url, not both") }
        }

        func run() throws {
            let client = ControlClient(try address())
            let command = words[0]
            let argument = words.dropFirst().first ?? ""
            var body: String?
            if command == "load" || command == "add" {
                guard let text = try? String(contentsOfFile: argument, encoding: .utf8) else {
                    printError("netfault: \(argument): cannot be read")
                    throw ExitStatus.invalidRules
                }
                body = text
            }
            let requests: [(HTTPMethod, String, String?)]
            switch command {
            case "status": requests = [(.GET, "/v1/status", nil)]
            case "rules": requests = [(.GET, "/v1/rules", nil)]
            case "load": requests = [(.PUT, "/v1/rules", body)]
            case "add": requests = [(.POST, "/v1/rules", body)]
            case "remove": requests = words.dropFirst().map { (.DELETE, "/v1/rules/\(Self.escaped($0))", nil) }
            case "enable", "disable": requests = [(.PATCH, "/v1/rules/\(Self.escaped(argument))", "{\"enabled\": \(command == "enable")}")]
            case "reset": requests = [(.POST, "/v1/reset", nil)]
            case "mark": requests = [(.POST, "/v1/marks", Self.json(["name": argument]))]
            case "report":
                let query = (since.map { "since=\(Self.escaped($0))&" } ?? "") + "format=\(report.rawValue)"
                requests = [(.GET, "/v1/report?\(query)", nil)]
            default: requests = [(.GET, "/metrics", nil)]
            }
            for (method, path, body) in requests {
                let answer = try Self.wait { try await client.send(method, path, body: body) }
                try Self.show(answer, command: command, file: argument)
            }
        }

        private func address() throws -> ControlClient.Address {
            if let url, let tokenFile {
                guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    printError("netfault: --token-file \(tokenFile): cannot be read")
                    throw ExitCode.failure
                }
                return .url(url, token: token.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return .socket(control ?? ControlSocket.defaultPath(queue: queue, namespace: nil))
        }

        /// Prints what netfault answered; a refusal goes to standard error and sets the exit status.
        private static func show(_ answer: ControlClient.Answer, command: String, file: String) throws {
            guard (200..<300).contains(answer.status) else {
                let object = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any]
                let message = object?["error"] as? String ?? answer.body
                let details = object?["details"] as? [String] ?? []
                if answer.status == 400, command == "load" || command == "add", !details.isEmpty {
                    // As `check` prints them, with the file's name for the request's.
                    for detail in details {
                        printError(detail.hasPrefix("request:") ? file + detail.dropFirst("request".count) : detail)
                    }
                    printError("\(file): \(details.count) error\(details.count == 1 ? "" : "s"); the rules in force did not change")
                    throw ExitStatus.invalidRules
                }
                printError("netfault: \(message) (HTTP \(answer.status))")
                for detail in details { printError("  \(detail)") }
                throw ExitCode.failure
            }
            print(answer.body, terminator: answer.body.hasSuffix("\n") ? "" : "\n")
        }

        static func escaped(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
        }

        static func json(_ object: [String: String]) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
        }

        /// Runs `body` to completion from this synchronous command.
        static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
            let done = DispatchSemaphore(value: 0)
            let box = ResultBox<T>()
            Task.detached {
                do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
                done.signal()
            }
            done.wait()
            do {
                return try box.result!.get()
            } catch let error as ControlClient.NotAnswering {
                printError("netfault: \(error)")
                throw ExitCode.failure
            }
        }
    }
}

/// A result handed from a task to the thread that waits for it.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
