import Foundation
import NetFaultLinux
#if canImport(Glibc)
import Glibc
#endif

/// Real containers for the `--netns` tests: a podman network on a subnet of 198.18.0.0/15 of its
/// own, a tiny image made here from Debian's busybox-static (no registry is reachable), and the
/// containers started on it. Podman runs with runc (crun fails on this cgroup setup) and lowered
/// ulimits (the sandbox cannot raise them). `close()` removes the containers, the network and the
/// image, also when the test failed.
final class ContainerLab {
    let id: String
    let network: String
    let image: String
    /// The network's first three octets: containers get .2, .3...; the host's bridge is .1.
    let subnet: String
    private let directory: URL
    private var containers: [String] = []
    private var networks: [String] = []
    private var processes: [Background] = []
    private var closed = false

    static let podmanRunOptions = ["--runtime", "/usr/sbin/runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"]
    private static let counter = Counter()

    init() throws {
        guard getuid() == 0 else { throw Lab.Failure(description: "container tests need root") }
        let number = Self.counter.next()
        id = "nfc\(getpid())x\(number)"
        network = id
        image = "localhost/netfault-busybox:\(id)"
        // One /24 per lab in 198.18.192.0-198.18.254.0, by process and lab number: two runs at once
        // collide only if their pids agree modulo 63.
        subnet = "198.18.\(192 + (Int(getpid()) + number) % 63)"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            try makeImage()
            try podman(["network", "create", "--subnet", "\(subnet).0/24", network])
            networks.append(network)
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Starts a container running `command` on `networks` (default: the lab's), with `options`
    /// for podman run; returns its name.
    @discardableResult
    func start(_ role: String, _ command: [String], networks: [String]? = nil, options: [String] = []) throws -> String {
        let name = "\(id)-\(role)"
        containers.append(name)
        try podman(["run", "-d", "--name", name] + (networks ?? [network]).flatMap { ["--network", $0] } + options
                   + Self.podmanRunOptions + [image] + command)
        return name
    }

    /// A second network of the lab's, on the next /24; returns its name and first three octets.
    func addNetwork() throws -> (name: String, subnet: String) {
        let name = "\(id)-b"
        let octets = subnet.split(separator: ".")
        let second = "198.18.\(192 + (Int(octets[2])! - 192 + 1) % 63)"
        try podman(["network", "create", "--subnet", "\(second).0/24", name])
        networks.append(name)
        return (name, second)
    }

    /// `container`'s address on `network`.
    func address(of container: String, on network: String) throws -> String {
        try podman(["inspect", "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}", container])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A busybox httpd serving the image's /www (index.html, 10 bytes; big.bin, 2 MB) on `port`.
    @discardableResult
    func startWebServer(_ role: String, port: Int = 8080) throws -> (name: String, address: String) {
        let name = try start(role, ["/bin/httpd", "-f", "-p", "\(port)", "-h", "/www"])
        return (name, try address(of: name))
    }

    /// Runs `command` in a throwaway container on the lab's network, to its end (bound it: nothing else does).
    func runOnce(_ command: [String], options: [String] = []) throws -> CommandOutput {
        let name = "\(id)-once\(Self.counter.next())"
        containers.append(name)
        return try CommandOutput.of(["podman", "run", "--name", name, "--network", network] + options + Self.podmanRunOptions + [image] + command)
    }

    /// busybox wget of `url` from a throwaway container: its exit status and what it said.
    func wget(_ url: String) throws -> CommandOutput {
        // busybox's own -T crashes (Debian's 1.35 static build): `timeout` bounds it instead.
        try runOnce(["/bin/timeout", "10", "/bin/wget", "-O", "/dev/null", url])
    }

    func address(of container: String) throws -> String {
        try podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func pid(of container: String) throws -> Int32 {
        Int32(try podman(["inspect", "--format", "{{.State.Pid}}", container]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// `nft list ruleset` inside the container's network namespace.
    func ruleset(of container: String) throws -> String {
        try Lab.execute(["nsenter", "-t", "\(try pid(of: container))", "-n", "nft", "list", "ruleset"], in: nil,
                        directory: directory, timeout: 10).output
    }

    /// Starts `netfault ARGUMENTS` where the tests run (the host), with `rules` written to a file
    /// of the lab's as the rule file; for `apply`, waits until it diverts.
    func netfault(_ subcommand: String, rules: String, _ arguments: [String], waitForStart: Bool = true) throws -> Background {
        let path = directory.appendingPathComponent("rules-\(Self.counter.next()).yaml").path
        try rules.write(toFile: path, atomically: true, encoding: .utf8)
        let process = try Background([Lab.netfaultPath, subcommand, path] + arguments, in: nil, directory: directory)
        processes.append(process)
        if waitForStart, !process.waitFor("diverting", timeout: 20) {
            throw Lab.Failure(description: "netfault did not start: \(process.errors)")
        }
        return process
    }

    /// Removes `container` with the lab (one started otherwise than through `start`).
    func adopt(_ container: String) {
        containers.append(container)
    }

    /// Writes `text` to a file of the lab's and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func stop(_ container: String) throws {
        try podman(["stop", "-t", "0", container])
    }

    func close() {
        guard !closed else { return }
        closed = true
        for process in processes { process.kill() }
        // A netfault aimed at a container names its default control socket after the container's
        // namespace (/run/netfault/netns-<id>-0.sock); one killed leaves it, and its lock file.
        let namespaces = containers.compactMap { try? podman(["inspect", "--format", "{{.NetworkSettings.SandboxKey}}", $0]) }
            .map { URL(fileURLWithPath: $0.trimmingCharacters(in: .whitespacesAndNewlines)).lastPathComponent }
            .filter { $0.hasPrefix("netns-") }
        for container in containers { _ = try? podman(["rm", "-f", "-t", "0", container]) }
        Lab.removeControlSockets(ofNamespacesStartingWith: namespaces.map { $0 + "-" })
        for network in networks.reversed() { _ = try? podman(["network", "rm", "-f", network]) }
        _ = try? podman(["rmi", "-f", image])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs podman to its end. Not through Foundation's `Process`: a `podman run -d` started so was
    /// never reaped (its container monitor, conmon, detaches), and the wait for it hung.
    @discardableResult
    func podman(_ arguments: [String]) throws -> String {
        let result = try CommandOutput.of(["podman"] + arguments)
        guard result.status == 0 else {
            throw Lab.Failure(description: "podman \(arguments.joined(separator: " ")): exit \(result.status): \(result.errors)")
        }
        return result.output
    }

    /// busybox-static with the applets the tests use, a few /etc files, and /www, imported as an image.
    private func makeImage() throws {
        let root = directory.appendingPathComponent("rootfs")
        let manager = FileManager.default
        for folder in ["bin", "etc", "www", "tmp"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try manager.copyItem(atPath: "/bin/busybox", toPath: root.appendingPathComponent("bin/busybox").path)
        for applet in ["sh", "httpd", "wget", "timeout", "sleep", "nc", "cat", "true", "ip"] {
            try manager.createSymbolicLink(atPath: root.appendingPathComponent("bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try "hosts: files\n".write(to: root.appendingPathComponent("etc/nsswitch.conf"), atomically: true, encoding: .utf8)
        try "root:x:0:0:root:/:/bin/sh\n".write(to: root.appendingPathComponent("etc/passwd"), atomically: true, encoding: .utf8)
        try "hello, lab".write(to: root.appendingPathComponent("www/index.html"), atomically: true, encoding: .utf8)
        try Data(repeating: 0x62, count: 2_000_000).write(to: root.appendingPathComponent("www/big.bin"))
        let archive = directory.appendingPathComponent("rootfs.tar").path
        let tar = try Lab.execute(["tar", "-C", root.path, "-cf", archive, "."], in: nil, directory: directory, timeout: 30)
        guard tar.status == 0 else { throw Lab.Failure(description: "tar: \(tar.errors)") }
        try podman(["import", "-q", archive, image])
    }
}

/// Runs `body` with a container lab of its own, removed afterwards whatever happens.
func withContainers<Result>(_ body: (ContainerLab) throws -> Result) throws -> Result {
    let containers = try ContainerLab()
    defer { containers.close() }
    return try body(containers)
}
