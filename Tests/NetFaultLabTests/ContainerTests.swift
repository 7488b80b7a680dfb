import Foundation
import NetFaultLinux
import Testing

extension LabTests {
    /// `--netns container:NAME` on real podman containers: netfault runs on the host, enters the
    /// container's network namespace, and faults that container's own traffic only.
    @Suite struct Containers {
        static let refuse = """
            hooks: [output, input]
            rules:
              - name: refuse
                match: {server_port: 8080, flags: [syn]}
                action: {reject: tcp-reset}
            """

        @Test func aContainersOwnTrafficIsFaultedAndNothingElse() throws {
            try withContainers { lab in
                let (faulted, faultedAddress) = try lab.startWebServer("faulted")
                let (_, otherAddress) = try lab.startWebServer("other")
                let netfault = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(faulted)", "--report", "json"])
                #expect(netfault.errors.contains("container \(faulted) (podman, pid"), "\(netfault.errors)")
                #expect(try lab.ruleset(of: faulted).contains("netfault-0"), "the hooks are in the container's namespace")
                let hostTables = try Lab.execute(["nft", "list", "tables"], in: nil, directory: URL(fileURLWithPath: "/tmp"), timeout: 10)
                #expect(!hostTables.output.contains("netfault"), "nothing in the host's namespace: \(hostTables.output)")
                let refused = try lab.wget("http://\(faultedAddress):8080/index.html")
                #expect(refused.status != 0 && refused.errors.contains("refused"), "\(refused.status) \(refused.errors)")
                let other = try lab.wget("http://\(otherAddress):8080/index.html")
                #expect(other.status == 0, "another container is untouched: \(other.errors)")
                netfault.signal(SIGTERM)
                #expect(netfault.wait(timeout: 15))
                let report = try Report(json: netfault.output)
                #expect(report.rule("refuse")?.fired == 1)
                let connection = try #require(report.connections(toPort: 8080).first)
                #expect(connection.outcome == "refused" && connection.errno.client == "ECONNREFUSED", "\(connection)")
                #expect(try !lab.ruleset(of: faulted).contains("netfault"), "the stop removed the hooks")
                #expect(try lab.wget("http://\(faultedAddress):8080/index.html").status == 0)
            }
        }

        /// Owner tables die with netfault: a SIGKILL leaves nothing in the container's namespace,
        /// without `cleanup`.
        @Test func aKilledNetfaultLeavesNothingInTheContainer() throws {
            try withContainers { lab in
                let (faulted, address) = try lab.startWebServer("faulted")
                let netfault = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(faulted)"])
                #expect(try lab.wget("http://\(address):8080/index.html").status != 0)
                netfault.kill()
                var left = try lab.ruleset(of: faulted)
                for _ in 0..<100 where left.contains("netfault") {
                    usleep(20_000)
                    left = try lab.ruleset(of: faulted)
                }
                #expect(!left.contains("netfault"), "\(left)")
                #expect(try lab.wget("http://\(address):8080/index.html").status == 0)
            }
        }

        /// The container stops under a running netfault: the run ends by itself within a second or
        /// so, in order, and its report says why.
        @Test func aStoppedContainerEndsTheRun() throws {
            try withContainers { lab in
                let (faulted, address) = try lab.startWebServer("faulted")
                let netfault = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(faulted)", "--report", "json"])
                #expect(try lab.wget("http://\(address):8080/index.html").status != 0)
                try lab.stop(faulted)
                #expect(netfault.wait(timeout: 5), "netfault still ran 5 s after its container stopped")
                #expect(netfault.status == 0, "\(netfault.errors)")
                let report = try Report(json: netfault.output)
                #expect(report.stop_reason.hasPrefix("target namespace gone: container \(faulted)"), "\(report.stop_reason)")
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused"], "what it had seen is reported")
            }
        }

        /// `run` runs its command where netfault was started: a client on the host downloads from a
        /// faulted container, and the container's server crashes mid-transfer.
        @Test func runDrivesAFaultedContainerFromTheHost() throws {
            try withContainers { lab in
                let (faulted, address) = try lab.startWebServer("faulted")
                let netfault = try lab.netfault("run", rules: """
                    hooks: [output, input]
                    rules:
                      - name: crash
                        match: {server_port: 8080, from: server, after_bytes: 500KiB}
                        action: {reset: both}
                    """, ["--netns", "container:\(faulted)", "--report", "json", "--",
                          "curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", "http://\(address):8080/big.bin"], waitForStart: false)
                #expect(netfault.wait(timeout: 30))
                #expect(netfault.status == 56, "curl's exit status, connection reset: \(netfault.status) \(netfault.errors)")
                let report = try Report(json: netfault.output.drop { $0 != "{" }.description)
                let download = try #require(report.connections(toPort: 8080).first)
                #expect(download.outcome == "reset" && download.errno.client == "ECONNRESET", "\(download)")
            }
        }

        /// Queues and owner tables are a namespace's own: two netfaults on queue 0 fault two
        /// containers at once, each its own.
        @Test func twoNetfaultsFaultTwoContainersOnTheSameQueue() throws {
            try withContainers { lab in
                let (first, firstAddress) = try lab.startWebServer("first")
                let (second, secondAddress) = try lab.startWebServer("second")
                let refusing = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(first)", "--report", "json"])
                let crashing = try lab.netfault("apply", rules: """
                    hooks: [output, input]
                    rules:
                      - name: crash
                        match: {server_port: 8080, from: server, after_bytes: 100KiB}
                        action: {reset: both}
                    """, ["--netns", "container:\(second)", "--report", "json"])
                #expect(try lab.wget("http://\(firstAddress):8080/big.bin").errors.contains("refused"))
                let cut = try lab.wget("http://\(secondAddress):8080/big.bin")
                #expect(cut.status != 0 && !cut.errors.contains("refused"), "\(cut.errors)")
                #expect(try lab.wget("http://\(secondAddress):8080/index.html").status == 0, "a small file passes the crash rule")
                for netfault in [refusing, crashing] { netfault.signal(SIGTERM) }
                #expect(refusing.wait(timeout: 15) && crashing.wait(timeout: 15))
                #expect(try Report(json: refusing.output).rule("refuse")?.fired == 1)
                #expect(try Report(json: crashing.output).connections(toPort: 8080).map(\.outcome) == ["reset", "closed"])
            }
        }

        /// netfault's own image (Scripts/image: the binary and its libraries, from scratch), run
        /// privileged with the host's PID namespace, faults another container.
        @Test func netfaultsImageFaultsAnotherContainer() throws {
            try withContainers { lab in
                let (faulted, address) = try lab.startWebServer("faulted")
                let image = "localhost/netfault:\(lab.id)"
                let build = try CommandOutput.of([Lab.repositoryPath + "/Scripts/image", image, Lab.netfaultPath])
                #expect(build.status == 0, "\(build.errors)")
                defer { _ = try? lab.podman(["rmi", "-f", image]) }
                let rules = try lab.file("image.yaml", "duration: 4s\n" + Self.refuse)
                let agent = try lab.podman(["run", "-d", "--name", "\(lab.id)-agent", "--privileged", "--pid", "host", "--network", "none",
                                            "-v", "\(rules):/rules.yaml:ro"] + ContainerLab.podmanRunOptions
                                           + [image, "apply", "/rules.yaml", "--netns", "pid:\(try lab.pid(of: faulted))", "--report", "json"])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                lab.adopt("\(lab.id)-agent")
                var logs = ""
                for _ in 0..<100 where !logs.contains("diverting") {
                    usleep(50_000)
                    logs = try CommandOutput.of(["podman", "logs", agent]).errors
                }
                #expect(logs.contains("diverting"), "the agent did not start: \(logs)")
                let refused = try lab.wget("http://\(address):8080/index.html")
                #expect(refused.errors.contains("refused"), "\(refused.errors)")
                #expect(try lab.podman(["wait", agent]).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
                let report = try Report(json: try CommandOutput.of(["podman", "logs", agent]).output)
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused"])
                #expect(try !lab.ruleset(of: faulted).contains("netfault"))
            }
        }

        /// A router container between two networks, faulted with `hooks: [forward]`: what it
        /// forwards is refused, what it does not forward is untouched.
        @Test func aRouterContainerIsFaultedAtForward() throws {
            try withContainers { lab in
                let (other, otherSubnet) = try lab.addNetwork()
                let router = try lab.start("router", ["/bin/sleep", "3600"], networks: [lab.network, other],
                                           options: ["--sysctl", "net.ipv4.ip_forward=1"])
                let routerNear = try lab.address(of: router, on: lab.network)
                let routerFar = try lab.address(of: router, on: other)
                // The server, on the far network, answers the near one through the router.
                let server = try lab.start("server", ["/bin/sh", "-c", "ip route add \(lab.subnet).0/24 via \(routerFar) && exec httpd -f -p 8080 -h /www"],
                                           networks: [other], options: ["--cap-add", "NET_ADMIN"])
                let serverAddress = try lab.address(of: server, on: other)
                func fetch() throws -> CommandOutput {
                    try lab.runOnce(["/bin/sh", "-c", "ip route add \(otherSubnet).0/24 via \(routerNear) && timeout 10 wget -O /dev/null http://\(serverAddress):8080/index.html"],
                                    options: ["--cap-add", "NET_ADMIN"])
                }
                #expect(try fetch().status == 0, "the route through the router works")
                let netfault = try lab.netfault("apply", rules: """
                    hooks: [forward]
                    rules:
                      - name: refuse
                        match: {server_port: 8080, flags: [syn]}
                        action: {reject: tcp-reset}
                    """, ["--netns", "container:\(router)", "--report", "json"])
                let refused = try fetch()
                #expect(refused.errors.contains("refused"), "\(refused.errors)")
                netfault.signal(SIGTERM)
                #expect(netfault.wait(timeout: 15))
                let report = try Report(json: netfault.output)
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused"], "\(netfault.output.prefix(400))")
                #expect(try fetch().status == 0)
            }
        }

        /// The command itself runs in the namespace netfault was started in, not the target's.
        @Test func runsCommandStaysInTheCallersNamespace() throws {
            try withContainers { lab in
                let (faulted, _) = try lab.startWebServer("faulted")
                let netfault = try lab.netfault("run", rules: Self.refuse, ["--netns", "container:\(faulted)", "--report", "json", "--",
                                                                          "readlink", "/proc/self/ns/net"], waitForStart: false)
                #expect(netfault.wait(timeout: 30))
                let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
                #expect(netfault.output.hasPrefix(ours + "\n"), "the command saw \(netfault.output.prefix(40)), the caller is in \(ours)")
                #expect(netfault.errors.contains("in the network namespace of container \(faulted)"), "\(netfault.errors)")
            }
        }

        @Test func aTargetThatIsNotThereIsRefusedBeforeAnythingIsInstalled() throws {
            try withContainers { lab in
                let missing = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(lab.id)-none"], waitForStart: false)
                #expect(missing.wait(timeout: 30))
                #expect(missing.status == 64 && missing.errors.contains("no running container of that name"), "\(missing.errors)")
                let stopped = try lab.start("stopped", ["/bin/true"])
                _ = try lab.podman(["wait", stopped])
                let notRunning = try lab.netfault("apply", rules: Self.refuse, ["--netns", "container:\(stopped)"], waitForStart: false)
                #expect(notRunning.wait(timeout: 30))
                #expect(notRunning.status == 64 && notRunning.errors.contains("not running"), "\(notRunning.errors)")
            }
        }
    }
}
