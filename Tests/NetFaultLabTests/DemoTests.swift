import Foundation
import Testing

extension LabTests {
    /// `netfault demo` and `netfault lab`, run as a user runs them: they build their own namespaces.
    @Suite struct Demo {
        /// Namespaces whose name contains `fragment`.
        static func namespaces(containing fragment: String) throws -> [String] {
            try Lab.execute(["/usr/sbin/ip", "netns", "list"], in: nil, directory: FileManager.default.temporaryDirectory, timeout: 10)
                .output.split(separator: "\n").map { String($0.split(separator: " ")[0]) }.filter { $0.contains(fragment) }
        }

        @Test func theDemoShowsWhatTheClientSawBesideTheReportAndLeavesNothing() throws {
            let lab = try Lab()  // for its process handling and files only
            defer { lab.close() }
            // The preset's parameter set on the command line: the crash comes after 200 KiB, not 700.
            let demo = try lab.start(nil, [Lab.netfaultPath, "demo", "server-crash", "--set", "after_bytes=200KiB"])
            #expect(demo.wait(timeout: 60), "the demo did not end within 60 s")
            #expect(demo.status == 0, "\(demo.errors)")
            let output = demo.output
            #expect(output.contains("curl: (56) Recv failure: Connection reset by peer"), "\(output)")
            // The RST lands once 200 KiB went through; what curl had not read by then its stack may
            // throw away, so the bound is loose below and tight above (under the preset's own 700 KiB
            // curl would see more than 600 000). Not settled: a full-suite run saw 122 856 bytes here,
            // and proxyLimitData once stalled at exactly that count (issue 26's note).
            let received = output.firstMatch(of: /exit 56 after (\d+) bytes/).flatMap { Int($0.1) } ?? -1
            #expect(received >= 32 * 1024 && received < 600_000, "\(output)")
            #expect(output.contains("reset, client ECONNRESET / WSAECONNRESET 10054, server ECONNRESET / WSAECONNRESET 10054, reset by netfault (crash-mid-transfer) → both"), "\(output)")
            #expect(output.contains("rule crash-mid-transfer: fired"), "\(output)")
            #expect(!output.contains("✗"), "\(output)")
            #expect(try Self.namespaces(containing: "nfdemo\(demo.pid)").isEmpty)
        }

        @Test func anInterruptedDemoRemovesItsLab() throws {
            try withLab { lab in
                let demo = try lab.start(nil, [Lab.netfaultPath, "demo"])
                #expect(demo.waitFor("▶ firewall-drop", timeout: 30), "\(demo.errors)")
                demo.signal(SIGINT)
                #expect(demo.wait(timeout: 30), "the demo did not stop within 30 s of SIGINT")
                #expect(demo.status == 130, "\(demo.errors)")
                #expect(try Self.namespaces(containing: "nfdemo\(demo.pid)").isEmpty)
            }
        }

        @Test func labUpPrintsHowToUseItAndDownRemovesIt() throws {
            try withLab { lab in
                let name = "\(lab.id)-user"
                defer { _ = try? lab.run(nil, [Lab.netfaultPath, "lab", "down", "--name", name]) }
                let up = try lab.run(nil, [Lab.netfaultPath, "lab", "up", "--name", name])
                #expect(up.status == 0, "\(up.errors)")
                #expect(up.output.contains("sudo ip netns exec \(name)-client curl"), "\(up.output)")
                #expect(try Self.namespaces(containing: name).sorted() == ["\(name)-client", "\(name)-mbox", "\(name)-server"])
                // The lab carries traffic between its ends.
                let ping = try lab.run(nil, ["/usr/sbin/ip", "netns", "exec", "\(name)-client", "python3", "-c",
                                             "import socket; socket.create_connection(('198.18.2.2', 9), timeout=3)"])
                #expect(ping.errors.contains("ConnectionRefusedError"), "the server's stack answered: \(ping.errors)")
                let again = try lab.run(nil, [Lab.netfaultPath, "lab", "up", "--name", name])
                #expect(again.status == 1 && again.errors.contains("is up already"))
                let down = try lab.run(nil, [Lab.netfaultPath, "lab", "down", "--name", name])
                #expect(down.status == 0 && down.output.contains("removed"))
                #expect(try Self.namespaces(containing: name).isEmpty)
            }
        }
    }
}
