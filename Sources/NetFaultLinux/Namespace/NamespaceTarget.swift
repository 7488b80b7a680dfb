#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The network namespace `--netns` names: where netfault binds its queue, installs its hooks and
/// sends its packets, instead of its own.
public enum NamespaceTarget: Equatable, Sendable, CustomStringConvertible {
    /// A name under /run/netns, as `ip netns add` makes.
    case named(String)
    /// A namespace file: /proc/PID/ns/net, a bind mount such as a pod sandbox's.
    case path(String)
    /// The namespace process PID is in.
    case pid(Int32)
    /// The namespace of a running container, found through `podman inspect` or `docker inspect`.
    case container(String)
    /// A Kubernetes pod's sandbox namespace on this node, found through the CRI (`crictl`); it
    /// outlives the pod's containers restarting.
    case pod(namespace: String, name: String)

    /// Reads `pid:PID`, `container:NAME`, a path (anything with a slash), or a name under /run/netns.
    public init(parsing text: String) throws(NamespaceError) {
        func refuse(_ why: String) -> NamespaceError { NamespaceError(target: text, reason: why) }
        if text.hasPrefix("pid:") {
            guard let pid = Int32(text.dropFirst(4)), pid > 0 else { throw refuse("pid: takes a process id, e.g. pid:1234") }
            self = .pid(pid)
        } else if text.hasPrefix("container:") {
            let name = String(text.dropFirst(10))
            // Container names and ids: letters, digits, _ . - (podman's and docker's own rule).
            guard !name.isEmpty, name.count <= 253, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }),
                  name.first != "-" else {
                throw refuse("container: takes a container's name or id (letters, digits, _ . -)")
            }
            self = .container(name)
        } else if text.hasPrefix("pod:") {
            let parts = text.dropFirst(4).split(separator: "/", omittingEmptySubsequences: false)
            // Kubernetes names: DNS labels and subdomains, lowercase letters, digits, - and .
            func isName(_ part: Substring) -> Bool {
                !part.isEmpty && part.count <= 253 && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "-.".contains($0)) }
            }
            guard parts.count == 2, isName(parts[0]), isName(parts[1]) else {
                throw refuse("pod: takes NAMESPACE/NAME, e.g. pod:default/web-0")
            }
            self = .pod(namespace: String(parts[0]), name: String(parts[1]))
        } else if text.contains("/") {
            self = .path(text)
        } else {
            guard !text.isEmpty, text != ".", text != "..", text.utf8.count <= 255 else { throw refuse("not a namespace name") }
            self = .named(text)
        }
    }

    public var description: String {
        switch self {
        case .named(let name): return name
        case .path(let path): return path
        case .pid(let pid): return "pid:\(pid)"
        case .container(let name): return "container:\(name)"
        case .pod(let namespace, let name): return "pod:\(namespace)/\(name)"
        }
    }
}

/// A `--netns` target that cannot be used, and why.
public struct NamespaceError: Error, CustomStringConvertible, Sendable {
    public var target: String
    public var reason: String

    public var description: String { "--netns \(target): \(reason)" }
}

/// A target resolved to a namespace file, with what is needed to notice when it goes away.
public struct ResolvedNamespace: Sendable {
    public let target: NamespaceTarget
    /// The namespace file entered: /run/netns/NAME, the path given, or /proc/PID/ns/net.
    public let path: String
    /// The process whose namespace it is (pid:, container:); netfault stops when it exits.
    public let pid: Int32?
    /// `podman` or `docker`, for container: targets.
    public let runtime: String?
    /// The namespace's identity (its nsfs inode), as `ip netns identify` and `lsns` show it.
    public let inode: UInt64
    let device: UInt64

    /// "container server (podman, pid 1234), net:[4026532293]".
    public var description: String {
        let origin: String
        switch target {
        case .named(let name): origin = "namespace \(name)"
        case .path(let path): origin = path
        case .pid(let pid): origin = "pid \(pid)"
        case .container(let name): origin = "container \(name) (\(runtime ?? "?"), pid \(pid ?? 0))"
        case .pod(let namespace, let name): origin = "pod \(namespace)/\(name) (\(runtime ?? "crictl"))"
        }
        return "\(origin), net:[\(inode)]"
    }

    /// Finds the namespace file `target` names and checks that it is one.
    public static func resolve(_ target: NamespaceTarget) throws(NamespaceError) -> ResolvedNamespace {
        func refuse(_ why: String) -> NamespaceError { NamespaceError(target: target.description, reason: why) }
        var pid: Int32?
        var runtime: String?
        let path: String
        switch target {
        case .named(let name): path = "/run/netns/\(name)"
        case .path(let given):
            path = given
            // /proc/PID/ns/net is that process's namespace: watched as `pid:` is.
            let parts = given.split(separator: "/")
            if parts.count == 4, parts[0] == "proc", parts[2] == "ns", parts[3] == "net", let number = Int32(parts[1]) { pid = number }
        case .pid(let given):
            pid = given
            path = "/proc/\(given)/ns/net"
        case .container(let name):
            (pid, runtime) = try containerProcess(name, refuse)
            path = "/proc/\(pid!)/ns/net"
        case .pod(let namespace, let name):
            let sandbox = try PodSandbox.find(namespace: namespace, name: name, refuse)
            runtime = "crictl, sandbox \(sandbox.id.prefix(13))"
            // The sandbox's namespace file outlives a restart of its containers; its pid (the
            // pause process) is the fallback of runtimes that name no file.
            if let file = sandbox.namespacePath {
                path = file
            } else {
                pid = sandbox.pid
                path = "/proc/\(sandbox.pid!)/ns/net"
            }
        }
        var status = stat()
        guard stat(path, &status) == 0 else {
            let reason: String
            switch target {
            case .named: reason = "no namespace \(path) (`ip netns list` shows the names)"
            case .pid: reason = "no such process"
            default: reason = "\(path): \(String(cString: strerror(errno)))"
            }
            throw refuse(reason)
        }
        guard Self.isNetworkNamespace(path) else { throw refuse("\(path) is not a network namespace") }
        return ResolvedNamespace(target: target, path: path, pid: pid, runtime: runtime,
                                 inode: UInt64(status.st_ino), device: UInt64(status.st_dev))
    }

    /// Whether the namespace file at `path` is (still) the one resolved: the same nsfs inode.
    /// False once `ip netns del` removed the name, or the path now names another namespace. (Not
    /// for a process's namespace: /proc/PID/ns is out of reach once netfault dropped its privileges.)
    public var isStillThere: Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return UInt64(status.st_ino) == inode && UInt64(status.st_dev) == device
    }

    /// The pid of a running container: podman first, then docker, whichever answers.
    private static func containerProcess(_ name: String, _ refuse: (String) -> NamespaceError) throws(NamespaceError) -> (Int32, String) {
        var said: [String] = []
        for runtime in ["podman", "docker"] {
            guard let output = try? CommandOutput.of([runtime, "inspect", "--format", "{{.State.Pid}}", name]) else {
                said.append("\(runtime): not installed")
                continue
            }
            let answer = output.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if output.status == 0, let pid = Int32(answer) {
                guard pid > 0 else { throw refuse("the \(runtime) container is not running") }
                return (pid, runtime)
            }
            said.append("\(runtime): \(output.lastErrorLine ?? "exit \(output.status)")")
        }
        throw refuse("no running container of that name (\(said.joined(separator: "; ")))")
    }

    /// Opens `path` and asks the kernel what kind of namespace it is (NS_GET_NSTYPE).
    private static func isNetworkNamespace(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        // NS_GET_NSTYPE is _IO(0xb7, 0x3); it answers the CLONE_NEW* flag of the namespace.
        return ioctl(descriptor, 0xb703) == NetworkNamespace.cloneNewNet
    }
}
