import Foundation
import Testing

extension LabTests {
    /// netfault runs as root: the files it writes, and what it checks before anything is installed.
    /// Each refusal is checked to leave no hook and not to run the command.
    @Suite struct OutputFiles {
        static let rules = "hooks: [output, input]\nrules:\n  - {name: a, match: {server_port: 8080}, action: drop}\n"

        /// `netfault run` in the lab's client namespace, with `touch ran` as its command unless given.
        func run(_ lab: Lab, _ arguments: [String], command: [String]? = nil, timeout: Double = 20) throws -> Lab.Result {
            let ran = lab.directory.appendingPathComponent("ran").path
            return try lab.run(lab.client, [Lab.netfaultPath, "run"] + arguments + ["--"] + (command ?? ["touch", ran]), timeout: timeout)
        }

        /// Refused before anything was installed: the status, the message, no hook, the command never ran.
        func expectRefused(_ result: Lab.Result, _ status: Int32, _ message: String, _ lab: Lab) throws {
            #expect(!result.timedOut, "it hung: \(result.errors)")
            #expect(result.status == status && result.errors.contains(message), "\(result.status): \(result.errors)")
            #expect(!result.errors.contains("diverting"), "nothing installed: \(result.errors)")
            #expect(!FileManager.default.fileExists(atPath: lab.directory.appendingPathComponent("ran").path), "the command ran")
            #expect(try lab.netfaultRules(in: lab.client).isEmpty)
        }

        /// A link planted where the capture goes is not followed: its target stays as it was.
        @Test func aPlantedLinkIsNotFollowed() throws {
            try withLab { lab in
                let rules = try lab.file("r.yaml", Self.rules)
                let victim = try lab.file("victim", "precious\n")
                let link = lab.directory.appendingPathComponent("capture.pcap").path
                try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
                try expectRefused(try run(lab, [rules, "--pcap", link]), 64, "is a symbolic link", lab)
                try expectRefused(try run(lab, [rules, "--report-file", link]), 64, "is a symbolic link", lab)
                #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
            }
        }

        /// A FIFO as the capture or the rule file is refused at once (an open would wait forever).
        @Test func aFIFOIsRefusedAtOnce() throws {
            try withLab { lab in
                let rules = try lab.file("r.yaml", Self.rules)
                let fifo = lab.directory.appendingPathComponent("fifo").path
                #expect(mkfifo(fifo, 0o600) == 0)
                try expectRefused(try run(lab, [rules, "--pcap", fifo], timeout: 10), 64, "is not a regular file", lab)
                try expectRefused(try run(lab, [fifo], timeout: 10), 2, "the rule file is not a regular file", lab)
            }
        }

        /// Output paths that cannot be written, an unknown user and commands that cannot run are
        /// found before anything is installed.
        @Test func whatCannotWorkIsFoundBeforeAnythingIsInstalled() throws {
            try withLab { lab in
                let rules = try lab.file("r.yaml", Self.rules)
                let missing = lab.directory.appendingPathComponent("no-such-dir/report.json").path
                try expectRefused(try run(lab, [rules, "--report-file", missing]), 64, "does not exist", lab)
                try expectRefused(try run(lab, [rules, "--report-file", lab.directory.path]), 64, "is a directory", lab)
                let same = lab.directory.appendingPathComponent("same.out").path
                try expectRefused(try run(lab, [rules, "--report-file", same, "--pcap", same]), 64, "name two files", lab)
                try expectRefused(try run(lab, [rules, "--pcap", rules]), 64, "is the rule file", lab)
                try expectRefused(try run(lab, [rules, "--user", "no-such-user-\(lab.id)"]), 64, "no such user", lab)
                try expectRefused(try run(lab, [rules], command: [""]), 127, "cannot run ''", lab)
                try expectRefused(try run(lab, [rules], command: [lab.directory.path]), 127, "not an executable file", lab)
            }
        }

        /// The capture holds payloads: it is created readable by its owner only, and with `--user`
        /// that owner is the user, as is the report's.
        @Test func filesAreTheOwnersOnly() throws {
            try withLab { lab in
                let rules = try lab.file("r.yaml", Self.rules)
                chmod(lab.directory.path, 0o777)
                let capture = lab.directory.appendingPathComponent("capture.pcap").path
                let report = lab.directory.appendingPathComponent("report.txt").path
                let result = try run(lab, [rules, "--user", "nobody", "--pcap", capture, "--report-file", report, "--exit", "expectations"], command: ["true"])
                #expect(result.status == 3, "rule a never fired: \(result.errors)")
                for path in [capture, report] {
                    let attributes = try FileManager.default.attributesOfItem(atPath: path)
                    #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(path): \(attributes)")
                    #expect((attributes[.ownerAccountName] as? String) == "nobody", "\(path): \(attributes)")
                }
            }
        }

        /// A capture that hits a file-size limit (as a full disk would stop it): the run says so
        /// and fails, instead of leaving a short capture behind a success.
        @Test func aCaptureThatCouldNotBeWrittenFailsTheRun() throws {
            try withLab { lab in
                _ = try lab.httpServer(files: ["big.bin": .filled(300_000)])
                let rules = try lab.file("slow.yaml", "hooks: [output, input]\nrules:\n  - {name: slow, match: {server_port: 8080}, action: {delay: 1ms}}\n")
                let capture = lab.directory.appendingPathComponent("capture.pcap").path
                let command = [Lab.netfaultPath, "run", rules, "--pcap", capture, "--report", "json", "--",
                               "curl", "-s", "-o", "/dev/null", lab.url(.v4, "big.bin")].joined(separator: " ")
                // The limit is netfault's alone: its report reaches the test through a pipe.
                let result = try lab.run(lab.client, ["bash", "-c", "set -o pipefail; (ulimit -f 4; exec \(command)) | cat"], timeout: 30)
                #expect(result.status == 1, "\(result.status): \(result.errors)")
                #expect(result.errors.contains("the capture file \(capture) could not be written whole: File too large"), "\(result.errors)")
                let report = try Report(json: result.output)
                #expect(report.stop_reason.contains("could not be written whole"))
                #expect(try lab.netfaultRules(in: lab.client).isEmpty)
            }
        }

        /// A report file that hits a file-size limit (as a full disk would stop it) partway
        /// through the streamed report: the run says so and fails, and the whole report follows
        /// on standard output.
        @Test func aReportThatCouldNotBeWrittenFollowsOnStandardOutput() throws {
            try withLab { lab in
                let rules = try lab.file("drop.yaml", "hooks: [forward]\nduration: 4s\nrules:\n  - {name: blackhole, match: {server_port: 8080, flags: [syn]}, action: drop}\n")
                let report = lab.directory.appendingPathComponent("report.json").path
                let control = lab.directory.appendingPathComponent("control.sock").path
                let command = [Lab.netfaultPath, "apply", rules, "--report", "json", "--report-file", report, "--control", control]
                // The limit is netfault's alone: what follows on standard output reaches the test through a pipe.
                let netfault = try lab.start(lab.middlebox, ["bash", "-c", "set -o pipefail; (ulimit -f 4; exec \(command.joined(separator: " "))) | cat"])
                #expect(netfault.waitFor("diverting", timeout: 20), "\(netfault.errors)")
                _ = try lab.peer(lab.client, ["syn-flood", Lab.serverAddress[.v4]!, "8080", "--count", "300", "--rate", "3000"])
                #expect(netfault.wait(timeout: 30), "netfault still ran after its 4 s")
                #expect(netfault.status == 1, "\(netfault.status): \(netfault.errors)")
                #expect(netfault.errors.contains("the report file \(report) could not be written: File too large; the report follows"), "\(netfault.errors)")
                let followed = try Report(json: netfault.output)
                #expect(followed.connections.count == followed.flows.created && followed.flows.created > 200, "\(followed.flows)")
                let written = try FileManager.default.attributesOfItem(atPath: report)[.size] as? Int
                #expect(written == 4096, "what the limit let through: \(written ?? -1) bytes")
                #expect(try lab.netfaultRules(in: lab.middlebox).isEmpty)
            }
        }
    }
}
