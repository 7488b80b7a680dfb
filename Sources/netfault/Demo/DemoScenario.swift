/// What the demo does with one preset: the server it starts, and what the client then tries.
struct DemoScenario {
    enum Server {
        /// `python3 -m http.server` with the demo's files.
        case http
        /// Echoes every line back (a pooled connection's requests).
        case echo
        /// Swallows uploads.
        case sink
    }

    enum Step {
        /// curl fetches `path` from port `port`.
        case curl(_ path: String, port: Int = 8080, options: [String] = [])
        /// One connection used `rounds` times, `interval` seconds apart.
        case session(rounds: Int, interval: Double, userTimeoutMilliseconds: Int = 0)
        /// An upload of `bytes`.
        case upload(bytes: Int, userTimeoutMilliseconds: Int = 0)
        /// `count` connections opened and kept open until the scenario ends.
        case hold(count: Int)
    }

    let preset: String
    let title: String
    let server: Server
    let steps: [Step]

    /// Files `python3 -m http.server` serves.
    static let files: [String: Int] = ["index.html": 1_000, "medium.bin": 1_000_000, "big.bin": 5_000_000, "clean.txt": 100_000]
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    /// One scenario per preset of Rules/, in the order the demo shows them.
    static let all: [DemoScenario] = [
        DemoScenario(preset: "firewall-drop", title: "a firewall that silently drops SYNs", server: .http,
                     steps: [.curl("index.html", options: ["--connect-timeout", "3"])]),
        DemoScenario(preset: "firewall-reject", title: "a firewall that rejects", server: .http,
                     steps: [.curl("index.html"), .curl("index.html", port: 8443)]),
        DemoScenario(preset: "server-crash", title: "a server that crashes mid-transfer", server: .http,
                     steps: [.curl("big.bin")]),
        DemoScenario(preset: "server-restart", title: "a server that restarted under a pooled connection", server: .echo,
                     steps: [.session(rounds: 2, interval: 6), .session(rounds: 2, interval: 1)]),
        DemoScenario(preset: "firewall-idle-timeout", title: "a firewall that forgets idle connections", server: .echo,
                     steps: [.session(rounds: 2, interval: 6, userTimeoutMilliseconds: 3000)]),
        DemoScenario(preset: "ack-loss", title: "acknowledgments that never come back", server: .sink,
                     steps: [.upload(bytes: 20_000_000, userTimeoutMilliseconds: 3000)]),
        DemoScenario(preset: "slow-handshake", title: "a slow handshake", server: .http,
                     steps: [.curl("index.html"), .curl("index.html", options: ["--connect-timeout", "2"])]),
        DemoScenario(preset: "antivirus", title: "an antivirus proxy", server: .http,
                     steps: [.curl("clean.txt"), .curl("eicar.txt")]),
        DemoScenario(preset: "proxy-early-close", title: "a proxy that closes while the client uploads", server: .sink,
                     steps: [.upload(bytes: 2_000_000)]),
        DemoScenario(preset: "connection-limit", title: "a connection limit", server: .echo,
                     steps: [.hold(count: 3), .session(rounds: 1, interval: 0)]),
        DemoScenario(preset: "flaky-link", title: "a flaky link", server: .http,
                     steps: [.curl("medium.bin")]),
    ]
}
