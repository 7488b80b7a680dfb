import Foundation
import Testing

extension LabTests {
    /// The control API of a running netfault on real traffic: faults that come and go with their
    /// rules, marks that separate test cases, refusals that change nothing.
    @Suite struct ControlAPI {
        static let refuse = """
            rules:
              - name: refuse
                match: {server_port: 8080, flags: [syn]}
                action: {reject: tcp-reset}
            """

        @Test(arguments: Lab.Placement.allCases)
        func aFaultComesAndGoesWithItsRule(_ placement: Lab.Placement) throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.liveNetfault(placement)
                let namespace = placement.namespace(of: lab)
                #expect(try lab.curl(.v4, "index.html").status == 0, "no rules: traffic flows")
                #expect(!(try lab.netfaultRules(in: namespace)).contains { $0.contains("dport 8080") }, "nothing diverted yet")
                let added = try lab.api(netfault.socket, "POST", "/v1/rules", body: Self.refuse)
                #expect(added.status == 200 && added.rules.map(\.name) == ["refuse"], "\(added.body)")
                #expect(try lab.netfaultRules(in: namespace).contains { $0.contains("tcp dport 8080") }, "the diversion widened")
                #expect(try lab.curl(.v4, "index.html").status == 7, "connection refused")
                #expect(try lab.curl(.v6, "index.html").status == 7)
                let disabled = try lab.api(netfault.socket, "PATCH", "/v1/rules/refuse", body: #"{"enabled": false}"#)
                #expect(disabled.status == 200 && disabled.rules.first?.enabled == false && disabled.rules.first?.fired == 2)
                #expect(try lab.curl(.v4, "index.html").status == 0, "disabled: the fault is lifted")
                _ = try lab.api(netfault.socket, "PATCH", "/v1/rules/refuse", body: #"{"enabled": true}"#)
                #expect(try lab.curl(.v4, "index.html").status == 7, "enabled again")
                let status = try lab.api(netfault.socket, "GET", "/v1/status")
                #expect(status.rules.first?.fired == 3, "an unchanged rule keeps its counters: \(status.body)")
                let removed = try lab.api(netfault.socket, "DELETE", "/v1/rules/refuse")
                #expect(removed.status == 200 && removed.rules.isEmpty)
                #expect(!(try lab.netfaultRules(in: namespace)).contains { $0.contains("dport 8080") }, "the diversion narrowed")
                #expect(try lab.curl(.v4, "index.html").status == 0, "removed: traffic flows")
                let report = try lab.stop(netfault.process).report
                #expect(report.rule("refuse")?.fired == 3, "the report still names the removed rule")
                #expect(report.connections(toPort: 8080).filter { $0.outcome == "refused" }.count == 3)
                #expect(try lab.netfaultRules(in: namespace).isEmpty)
                #expect(!FileManager.default.fileExists(atPath: netfault.socket), "the socket goes with netfault")
                #expect(!FileManager.default.fileExists(atPath: netfault.socket + ".lock"), "and its lock file: nothing left behind")
            }
        }

        /// `POST /v1/marks` at the start of each test case; the report since a mark has only
        /// what came after it.
        @Test func marksSeparateTwoTestCases() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                // Observed: a connection no rule faults is diverted and reported too.
                let netfault = try lab.liveNetfault(.host, settings: "observe: [{server_port: 8080}]\nrules: []")
                #expect(try lab.api(netfault.socket, "POST", "/v1/marks", body: #"{"name": "tests/test_api.py::test_refused"}"#).status == 201)
                _ = try lab.api(netfault.socket, "POST", "/v1/rules", body: Self.refuse)
                #expect(try lab.curl(.v4, "index.html").status == 7)
                _ = try lab.api(netfault.socket, "DELETE", "/v1/rules/refuse")
                #expect(try lab.api(netfault.socket, "POST", "/v1/marks", body: #"{"name": "test_works"}"#).status == 201)
                #expect(try lab.curl(.v4, "index.html").status == 0)
                let first = try lab.liveReport(netfault.socket, since: "tests/test_api.py::test_refused")
                #expect(first.connections(toPort: 8080).map(\.outcome).sorted() == ["closed", "refused"])
                #expect(first.rule("refuse")?.fired == 1)
                let second = try lab.liveReport(netfault.socket, since: "test_works")
                #expect(second.connections(toPort: 8080).map(\.outcome) == ["closed"], "only the second test case's connection")
                #expect(second.connections(toPort: 8080).first?.faults.isEmpty == true)
                #expect(second.rule("refuse") == nil, "a rule gone before the mark, that never acted after it, is not listed")
                #expect(second.stop_reason == "running")
                let twice = try lab.api(netfault.socket, "POST", "/v1/marks", body: #"{"name": "test_works"}"#)
                #expect(twice.status == 409)
                #expect(try lab.api(netfault.socket, "GET", "/v1/report?since=nope").status == 404)
                let text = try lab.api(netfault.socket, "GET", "/v1/report?since=test_works&format=text")
                #expect(text.status == 200 && text.body.contains("(the segment since mark test_works)"))
                let junit = try lab.api(netfault.socket, "GET", "/v1/report?format=junit")
                #expect(junit.status == 200 && junit.body.hasPrefix("<?xml"))
                _ = lab.stop(netfault.process)
            }
        }

        /// A rule added while a connection is open acts on it: a Redis client's next command is reset.
        @Test func aRuleAddedActsOnAConnectionAlreadyOpen() throws {
            try withLab { lab in
                _ = try lab.redis()
                let netfault = try lab.liveNetfault(.forward)
                let client = try lab.start(lab.client, ["python3", "-c", """
                    import socket, sys, time
                    s = socket.create_connection(("\(Lab.serverAddress[.v4]!)", 6379), timeout=10)
                    s.sendall(b"PING\\r\\n"); print("first", s.recv(100)); sys.stdout.flush()
                    time.sleep(4)
                    try:
                        s.sendall(b"PING\\r\\n"); print("second", s.recv(100))
                    except OSError as e:
                        print("second", type(e).__name__)
                    """])
                #expect(client.waitFor("first b'+PONG", timeout: 10), "\(client.output) \(client.errors)")
                let added = try lab.api(netfault.socket, "POST", "/v1/rules", body: """
                    - name: reset-redis
                      match: {server_port: 6379, from: client}
                      action: {reset: both}
                    """)
                #expect(added.status == 200, "a bare list of rules: \(added.body)")
                #expect(client.wait(timeout: 15))
                #expect(client.output.contains("second ConnectionResetError") || client.output.contains("second b''"),
                        "\(client.output) \(client.errors) \(netfault.process.errors)")
                let report = try lab.liveReport(netfault.socket)
                let connection = try #require(report.connections(toPort: 6379).first)
                #expect(connection.outcome == "reset" && connection.reset_by?.rule == "reset-redis")
                _ = lab.stop(netfault.process)
            }
        }

        /// Refusals: each a 4xx with `{"error", "details"}`, and nothing changed.
        @Test func refusedRequestsChangeNothing() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.liveNetfault(.host)
                let socket = netfault.socket
                _ = try lab.api(socket, "POST", "/v1/rules", body: Self.refuse)
                let before = try lab.api(socket, "GET", "/v1/rules")
                #expect(before.status == 200 && before.body.contains("name: refuse"))
                let invalid = try lab.api(socket, "PUT", "/v1/rules", body: "rules:\n  - name: x\n    match: {server_port: 70000}\n    action: drop\n")
                #expect(invalid.status == 400)
                #expect(invalid.json["details"] as? [String] == ["request:3:26: rules[0].match.server_port: 70000 is not a port (0-65535)"])
                let moved = try lab.api(socket, "PUT", "/v1/rules", body: "queue: 7\nrules: []\n")
                #expect(moved.status == 409 && (moved.json["error"] as? String ?? "").contains("'queue' is fixed"))
                #expect(try lab.api(socket, "POST", "/v1/rules", body: Self.refuse).status == 409, "the name is taken")
                #expect(try lab.api(socket, "DELETE", "/v1/rules/nope").status == 404)
                #expect(try lab.api(socket, "PATCH", "/v1/rules/refuse", body: #"{"enabled": "no"}"#).status == 400)
                #expect(try lab.api(socket, "PATCH", "/v1/rules/refuse", body: #"{"enabled": false, "x": 1}"#).status == 400)
                #expect(try lab.api(socket, "GET", "/v1/nope").status == 404)
                let wrongMethod = try lab.api(socket, "DELETE", "/v1/status")
                #expect(wrongMethod.status == 405 && wrongMethod.json["details"] as? [String] == [])
                let huge = String(repeating: "#", count: (1 << 20) + 10)
                #expect(try lab.api(socket, "PUT", "/v1/rules", body: huge).status == 413)
                #expect(try lab.api(socket, "POST", "/v1/marks", body: #"{"name": "has space"}"#).status == 400)
                #expect(try lab.api(socket, "GET", "/v1/report?format=pdf").status == 400)
                #expect(try lab.api(socket, "GET", "/v1/rules").body == before.body, "nothing changed")
                #expect(try lab.curl(.v4, "index.html").status == 7, "the rule in force still acts")
                let json = try lab.api(socket, "GET", "/v1/rules", headers: ["Accept: application/json"])
                #expect((json.json["rules"] as? [[String: Any]])?.first?["name"] as? String == "refuse")
                #expect(try lab.api(socket, "POST", "/v1/reset").rules.isEmpty)
                #expect(try lab.curl(.v4, "index.html").status == 0)
                _ = lab.stop(netfault.process)
            }
        }

        /// A netfault started with rules binds its queue for them: a rule that needs more (whole
        /// packets, a parking queue, segments rather than GSO super-packets) is refused, naming --any-rules.
        @Test func aRuleTheQueueCannotCarryIsRefused() throws {
            try withLab { lab in
                let netfault = try lab.liveNetfault(.host, settings: "rules: [{name: syn, match: {server_port: 9, flags: [syn]}, action: drop}]")
                let hold = try lab.api(netfault.socket, "POST", "/v1/rules", body: "- {name: slow, match: {server_port: 80}, action: {hold: 1s}}")
                #expect(hold.status == 409 && (hold.json["error"] as? String ?? "").contains("--any-rules"), "\(hold.body)")
                let payload = try lab.api(netfault.socket, "POST", "/v1/rules", body: #"- {name: av, match: {payload: "EICAR"}, action: drop}"#)
                #expect(payload.status == 409 && (payload.json["error"] as? String ?? "").contains("copies packet headers only"))
                let size = try lab.api(netfault.socket, "POST", "/v1/rules", body: #"- {name: mtu, match: {size: ">1400"}, action: drop}"#)
                #expect(size.status == 409 && (size.json["error"] as? String ?? "").contains("GSO super-packets whole"), "\(size.body)")
                #expect(try lab.api(netfault.socket, "GET", "/v1/status").rules.map(\.name) == ["syn"])
                _ = lab.stop(netfault.process)
                let ready = try lab.liveNetfault(.host, settings: "rules: [{name: syn, match: {server_port: 9, flags: [syn]}, action: drop}]",
                                                 ["--any-rules"])
                #expect(try lab.api(ready.socket, "POST", "/v1/rules", body: "- {name: slow, match: {server_port: 80}, action: {hold: 1s}}").status == 200)
                #expect(try lab.api(ready.socket, "POST", "/v1/rules", body: #"- {name: mtu, match: {size: ">1400"}, action: drop}"#).status == 200)
                _ = lab.stop(ready.process)
            }
        }

        /// `netfault ctl`: the CLI over the same API, with its exit statuses.
        @Test func ctlDrivesARunningNetfault() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let netfault = try lab.liveNetfault(.host)
                func ctl(_ arguments: [String]) throws -> Lab.Result {
                    try lab.run(nil, [Lab.netfaultPath, "ctl", "--control", netfault.socket] + arguments)
                }
                let rules = try lab.file("refuse.yaml", Self.refuse)
                #expect(try ctl(["add", rules]).status == 0)
                #expect(try lab.curl(.v4, "index.html").status == 7)
                #expect(try ctl(["disable", "refuse"]).status == 0)
                #expect(try lab.curl(.v4, "index.html").status == 0)
                #expect(try ctl(["mark", "case-2"]).status == 0)
                let report = try ctl(["report", "--since", "case-2", "--report", "json"])
                #expect(report.status == 0)
                #expect(try Report(json: report.output).connections.isEmpty)
                let bad = try lab.file("bad.yaml", "rules:\n  - {name: x, match: {server_port: 70000}, action: drop}\n")
                let invalid = try ctl(["load", bad])
                #expect(invalid.status == 2)
                #expect(invalid.errors.contains("\(bad):2:36: rules[0].match.server_port: 70000 is not a port (0-65535)"), "\(invalid.errors)")
                #expect(try ctl(["remove", "refuse"]).status == 0)
                #expect(try ctl(["remove", "refuse"]).status == 1, "404: no such rule")
                #expect(try ctl(["metrics"]).output.contains("netfault_rule_fired_total{rule=\"refuse\"} 1"))
                _ = lab.stop(netfault.process)
                let gone = try ctl(["status"])
                #expect(gone.status == 1 && gone.errors.contains("no netfault answers on \(netfault.socket)"))
            }
        }

        /// A socket a live netfault answers on is never taken over; a dead one's is replaced; a
        /// file that is not a socket is left alone. The socket is 0600, or 0660 for its group.
        @Test func theControlSocketIsNeverTakenOver() throws {
            try withLab { lab in
                let first = try lab.liveNetfault(.host)
                var status = stat()
                #expect(stat(first.socket, &status) == 0 && status.st_mode & 0o777 == 0o600)
                let second = try lab.run(lab.client, [Lab.netfaultPath, "apply", "--control", first.socket])
                #expect(second.status == 64 && second.errors.contains("a running netfault answers on it"), "\(second.errors)")
                #expect(try lab.api(first.socket, "GET", "/v1/status").status == 200, "the first one still answers")
                _ = lab.stop(first.process)
                // A socket left by a process that died.
                let stale = lab.directory.appendingPathComponent("stale.sock").path
                _ = try lab.run(nil, ["python3", "-c", "import socket; s = socket.socket(socket.AF_UNIX); s.bind('\(stale)')"])
                let replacing = try lab.start(lab.client, [Lab.netfaultPath, "apply", "--control", stale, "--control-group", "root"])
                #expect(replacing.waitFor("diverting", timeout: 15), "\(replacing.errors)")
                #expect(stat(stale, &status) == 0 && status.st_mode & 0o777 == 0o660)
                #expect(try lab.api(stale, "GET", "/v1/status").status == 200)
                _ = lab.stop(replacing)
                // A path another netfault has claimed (its lock held) is refused though no socket is there yet.
                let claimed = lab.directory.appendingPathComponent("claimed.sock").path
                let holder = try lab.start(nil, ["python3", "-c", """
                    import fcntl, sys, time
                    lock = open("\(claimed).lock", "w"); fcntl.flock(lock, fcntl.LOCK_EX); print("held", flush=True); time.sleep(30)
                    """])
                #expect(holder.waitFor("held", timeout: 10))
                let beaten = try lab.run(lab.client, [Lab.netfaultPath, "apply", "--control", claimed])
                #expect(beaten.status == 64 && beaten.errors.contains("a running netfault answers on it"), "\(beaten.errors)")
                holder.kill()
                let plain = try lab.file("not-a-socket", "keep me")
                let refused = try lab.run(lab.client, [Lab.netfaultPath, "apply", "--control", plain])
                #expect(refused.status == 64 && refused.errors.contains("exists and is not a socket"))
                #expect((try? String(contentsOfFile: plain, encoding: .utf8)) == "keep me")
            }
        }

        /// `--listen 127.0.0.1:PORT` with `--token-file`: the same API over TCP, 401 without the token.
        @Test func theTCPListenerWantsItsToken() throws {
            try withLab { lab in
                let token = try lab.file("token", "k4Jd9sQ2mZx7Lp0aR5tY\n")
                let netfault = try lab.liveNetfault(.host, settings: nil, ["--listen", "127.0.0.1:9181", "--token-file", token])
                func get(_ headers: [String]) throws -> String {
                    try lab.run(lab.client, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] + headers.flatMap { ["-H", $0] }
                                + ["http://127.0.0.1:9181/v1/status"]).output
                }
                #expect(try get([]) == "401")
                #expect(try get(["Authorization: Bearer wrong-token-of-some-length"]) == "401")
                #expect(try get(["Authorization: Bearer k4Jd9sQ2mZx7Lp0aR5tY"]) == "200")
                _ = lab.stop(netfault.process)
                let open = try lab.run(lab.client, [Lab.netfaultPath, "apply", "--listen", "0.0.0.0:9181", "--token-file", token])
                #expect(open.status == 64 && open.errors.contains("loopback"), "only loopback: \(open.errors)")
            }
        }
    }
}
