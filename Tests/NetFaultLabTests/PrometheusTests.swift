import Foundation
import Testing

extension LabTests {
    /// A real Prometheus server (Debian's) scrapes netfault's `/metrics` over `--listen` with the
    /// token, and answers queries about what the faults did.
    @Suite struct PrometheusScrape {
        @Test func prometheusScrapesAndAnswersQueries() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let token = try lab.file("token", "p7Hq2Ws9Xc4Vb1Nm8Kz3\n")
                let netfault = try lab.liveNetfault(.host, settings: nil, ["--listen", "127.0.0.1:9182", "--token-file", token])
                let config = try lab.file("prometheus.yml", """
                    global: {scrape_interval: 1s, evaluation_interval: 1s}
                    scrape_configs:
                      - job_name: netfault
                        scrape_interval: 1s
                        authorization: {type: Bearer, credentials_file: \(token)}
                        static_configs: [{targets: ["127.0.0.1:9182"]}]
                    """)
                let storage = lab.directory.appendingPathComponent("prometheus-data").path
                let prometheus = try lab.start(lab.client, ["prometheus", "--config.file=\(config)", "--storage.tsdb.path=\(storage)",
                                                            "--web.listen-address=127.0.0.1:9190", "--log.level=warn"])
                _ = try lab.api(netfault.socket, "POST", "/v1/rules", body: ControlAPI.refuse)
                #expect(try lab.curl(.v4, "index.html").status == 7)
                #expect(try lab.curl(.v6, "index.html").status == 7)
                func query(_ expression: String) throws -> String? {
                    let result = try lab.run(lab.client, ["curl", "-s", "--get", "--data-urlencode", "query=\(expression)",
                                                          "http://127.0.0.1:9190/api/v1/query"])
                    let object = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any]
                    let results = (object?["data"] as? [String: Any])?["result"] as? [[String: Any]]
                    return (results?.first?["value"] as? [Any])?.last as? String
                }
                var fired: String?
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, prometheus.isRunning {
                    fired = try query(#"netfault_rule_fired_total{rule="refuse"}"#)
                    if fired == "2" { break }
                    Thread.sleep(forTimeInterval: 0.5)
                }
                #expect(fired == "2", "Prometheus never saw the rule fire twice: \(prometheus.errors)")
                #expect(try query(#"up{job="netfault"}"#) == "1")
                #expect(try query(#"netfault_verdicts_total{queue="0",verdict="drop"}"#) == "2")
                #expect(try query(#"netfault_rule_connections_total{rule="refuse"}"#) == "2")
                #expect(try query("netfault_injected_total") == "2", "an RST toward each client")
                #expect(try query("netfault_rule_changes_total") == "1")
                #expect(try query(#"sum(netfault_packets_total)"#) == "2")
                prometheus.signal(SIGTERM)
                _ = prometheus.wait(timeout: 10)
                _ = lab.stop(netfault.process)
            }
        }
    }
}
