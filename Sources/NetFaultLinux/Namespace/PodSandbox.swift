import Foundation

/// A Kubernetes pod's sandbox on this node, as the container runtime reports it through the CRI
/// with `crictl` (which finds the runtime's socket itself: --runtime-endpoint,
/// CONTAINER_RUNTIME_ENDPOINT or /etc/crictl.yaml).
struct PodSandbox {
    var id: String
    /// The network namespace file the runtime made for the sandbox (containerd, CRI-O: a bind
    /// mount under /var/run/netns), from the OCI runtime spec in `crictl inspectp`'s `info`.
    var namespacePath: String?
    /// The sandbox's process (`info.pid`), when the runtime names no namespace file.
    var pid: Int32?

    /// The one ready sandbox of pod `namespace`/`name`.
    static func find(namespace: String, name: String, _ refuse: (String) -> NamespaceError) throws(NamespaceError) -> PodSandbox {
        // --name is a regular expression to crictl: anchored, with the dots escaped, it is the name.
        let pattern = "^" + name.replacingOccurrences(of: ".", with: "\\.") + "$"
        let listed = try crictl(["pods", "--namespace", namespace, "--name", pattern, "--state", "ready", "--quiet"], refuse)
        let ids = listed.split(whereSeparator: \.isNewline).map(String.init)
        guard let id = ids.first else { throw refuse("no ready pod \(namespace)/\(name) on this node (crictl pods)") }
        guard ids.count == 1 else { throw refuse("\(ids.count) ready sandboxes for pod \(namespace)/\(name): \(ids.joined(separator: ", "))") }
        let inspected = try crictl(["inspectp", "--output", "json", id], refuse)
        switch parse(inspected, id: id) {
        case .sandbox(let sandbox): return sandbox
        case .hostNetwork:
            throw refuse("the pod uses the node's network namespace (hostNetwork): faulting it would fault the whole node")
        case .unreadable:
            throw refuse("crictl inspectp \(id) names neither a network namespace file nor a process")
        }
    }

    enum Parsed {
        case sandbox(PodSandbox)
        /// A `hostNetwork: true` pod: its namespace is the node's own.
        case hostNetwork
        case unreadable
    }

    /// Reads `crictl inspectp`'s JSON (containerd and CRI-O print the same paths): the sandbox's
    /// OCI runtime spec, `info.runtimeSpec.linux.namespaces`, its entry of type "network" and that
    /// entry's `path`; else `info.pid`. A pod on the node's network is refused, however named: the
    /// CRI says `status.linux.namespaces.options.network` "NODE" (older runtimes: `hostNetwork`
    /// true), and the runtime leaves the network entry out of a spec that lists namespaces.
    static func parse(_ json: String, id: String) -> Parsed {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let info = object["info"] as? [String: Any] else { return .unreadable }
        let status = object["status"] as? [String: Any]
        let options = ((status?["linux"] as? [String: Any])?["namespaces"] as? [String: Any])?["options"] as? [String: Any]
        if options?["network"] as? String == "NODE" || options?["hostNetwork"] as? Bool == true { return .hostNetwork }
        let spec = info["runtimeSpec"] as? [String: Any]
        let namespaces = (spec?["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]]
        let network = namespaces?.first { $0["type"] as? String == "network" }
        if namespaces != nil, network == nil { return .hostNetwork }
        let path = (network?["path"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let pid = (info["pid"] as? NSNumber).map { $0.int32Value }.flatMap { $0 > 0 ? $0 : nil }
        guard path != nil || pid != nil else { return .unreadable }
        return .sandbox(PodSandbox(id: id, namespacePath: path, pid: pid))
    }

    private static func crictl(_ arguments: [String], _ refuse: (String) -> NamespaceError) throws(NamespaceError) -> String {
        let result: CommandOutput
        do {
            result = try CommandOutput.of(["crictl"] + arguments)
        } catch {
            throw refuse("crictl cannot be run (\(error)); pod: targets need crictl and the node's runtime socket")
        }
        guard result.status == 0 else {
            throw refuse("crictl \(arguments[0]) exited with \(result.status): \(result.lastErrorLine ?? "")")
        }
        return result.output
    }
}
