import Foundation
import Testing

extension LabTests {
    /// `--netns pod:NAMESPACE/NAME` through a stand-in for crictl (Tests/Fixtures/crictl: no
    /// cluster runs here) that reports the lab's middlebox namespace as the pod's sandbox.
    @Suite struct PodTargets {
        static let fixtures = Lab.repositoryPath + "/Tests/Fixtures/crictl"

        /// `env` with a directory holding `crictl` first in PATH, and the fake's settings.
        static func withFakeCrictl(_ lab: Lab, pod: String) throws -> [String] {
            let bin = lab.directory.appendingPathComponent("bin").path
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            try? FileManager.default.createSymbolicLink(atPath: bin + "/crictl", withDestinationPath: fixtures + "/fake-crictl")
            return ["/usr/bin/env", "PATH=\(bin):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")",
                    "FAKE_CRICTL_POD=\(pod)", "FAKE_CRICTL_NETNS=/run/netns/\(lab.middlebox)"]
        }

        @Test func aPodsSandboxIsFaultedUntilItGoes() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["index.html": .filled(10)])
                let rules = try lab.file("refuse.yaml", Lifecycle.refuseRules)
                let netfault = try lab.start(nil, try Self.withFakeCrictl(lab, pod: "default/web-0")
                                             + [Lab.netfaultPath, "apply", rules, "--netns", "pod:default/web-0", "--report", "json"])
                #expect(netfault.waitFor("diverting", timeout: 15), "\(netfault.errors)")
                #expect(netfault.errors.contains("pod default/web-0 (crictl, sandbox 8f9ec14c8c927)"), "\(netfault.errors)")
                #expect(try lab.curl(.v4, "index.html").status == 7)
                // The sandbox's namespace file goes when the pod is deleted.
                #expect(try lab.run(nil, ["ip", "netns", "del", lab.middlebox]).status == 0)
                #expect(netfault.wait(timeout: 5), "netfault still ran 5 s after the sandbox went")
                let report = try Report(json: netfault.output)
                #expect(report.stop_reason.hasPrefix("target namespace gone: pod default/web-0"), "\(report.stop_reason)")
                #expect(report.connections(toPort: 8080).map(\.outcome) == ["refused"])
            }
        }

        @Test func aPodThatIsNotOnThisNodeIsRefused() throws {
            try withLab { lab in
                let rules = try lab.file("refuse.yaml", Lifecycle.refuseRules)
                let netfault = try lab.start(nil, try Self.withFakeCrictl(lab, pod: "default/web-0")
                                             + [Lab.netfaultPath, "apply", rules, "--netns", "pod:default/web-1"])
                #expect(netfault.wait(timeout: 15))
                #expect(netfault.status == 64 && netfault.errors.contains("no ready pod default/web-1 on this node"), "\(netfault.errors)")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }
    }
}
