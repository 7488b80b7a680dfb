import Foundation
import Testing
@testable import NetFaultLinux

/// How `--netns` reads its target, without root.
struct NamespaceTargetTests {
    @Test func everyFormIsRead() throws {
        #expect(try NamespaceTarget(parsing: "lab-mbox") == .named("lab-mbox"))
        #expect(try NamespaceTarget(parsing: "/proc/42/ns/net") == .path("/proc/42/ns/net"))
        #expect(try NamespaceTarget(parsing: "/var/run/netns/cni-1234") == .path("/var/run/netns/cni-1234"))
        #expect(try NamespaceTarget(parsing: "pid:4242") == .pid(4242))
        #expect(try NamespaceTarget(parsing: "container:api_1.v2") == .container("api_1.v2"))
        #expect(try NamespaceTarget(parsing: "pod:default/web-0") == .pod(namespace: "default", name: "web-0"))
        #expect(try NamespaceTarget(parsing: "pod:kube-system/coredns-5d78c9869d-x2l8q").description == "pod:kube-system/coredns-5d78c9869d-x2l8q")
    }

    @Test(arguments: ["pid:", "pid:0", "pid:-3", "pid:12a", "container:", "container:-x", "container:a b", "container:a;rm",
                      "pod:", "pod:web", "pod:default/", "pod:/web", "pod:Default/web", "pod:a/b/c", "", ".", ".."])
    func aMalformedTargetIsRefused(_ text: String) {
        #expect(throws: NamespaceError.self) { try NamespaceTarget(parsing: text) }
    }

    @Test func theErrorNamesTheTarget() {
        #expect(throws: NamespaceError.self) { try NamespaceTarget(parsing: "pod:web") }
        do {
            _ = try NamespaceTarget(parsing: "pod:web")
        } catch {
            #expect(error.description == "--netns pod:web: pod: takes NAMESPACE/NAME, e.g. pod:default/web-0")
        }
    }
}

/// What netfault reads from `crictl inspectp` (the fixture in Tests/Fixtures/crictl).
struct PodSandboxTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/crictl/inspectp-containerd.json")

    static func sandbox(_ parsed: PodSandbox.Parsed) -> PodSandbox? {
        if case .sandbox(let sandbox) = parsed { return sandbox }
        return nil
    }

    static func isHostNetwork(_ parsed: PodSandbox.Parsed) -> Bool {
        if case .hostNetwork = parsed { return true }
        return false
    }

    @Test func theSandboxsNetworkNamespaceFileIsRead() throws {
        let json = try String(contentsOf: Self.fixture, encoding: .utf8)
        let sandbox = try #require(Self.sandbox(PodSandbox.parse(json, id: "8f9e")))
        #expect(sandbox.namespacePath == "/var/run/netns/cni-6d2e3f4a-9b1c-7e58-0f3a-2c4d5e6f7a8b")
        #expect(sandbox.pid == 48095)
    }

    /// CRI-O's layout: `info` holds `image`, `pid` and `runtimeSpec` (no `pid` when it runs no
    /// pause process), the namespace file a bare UUID under /var/run/netns; keys in any order.
    @Test func criOsLayoutIsReadToo() {
        let withPause = #"{"info": {"runtimeSpec": {"linux": {"namespaces": [{"type": "pid"}, {"path": "/var/run/netns/9abac4ae-94a6-4853-b299-e4c1c2c508c0", "type": "network"}]}}, "pid": 38091, "image": "k8s.gcr.io/pause:3.2"}, "status": {"linux": {"namespaces": {"options": {"network": "POD"}}}}}"#
        #expect(Self.sandbox(PodSandbox.parse(withPause, id: "x"))?.namespacePath == "/var/run/netns/9abac4ae-94a6-4853-b299-e4c1c2c508c0")
        let withoutPause = #"{"status": {}, "info": {"runtimeSpec": {"linux": {"namespaces": [{"type": "network", "path": "/var/run/netns/1c2d"}]}}}}"#
        let sandbox = Self.sandbox(PodSandbox.parse(withoutPause, id: "x"))
        #expect(sandbox?.namespacePath == "/var/run/netns/1c2d" && sandbox?.pid == nil)
    }

    /// A hostNetwork pod's namespace is the node's: refused, never entered through its pid.
    @Test func aPodOnTheNodesNetworkIsRefused() throws {
        let json = try String(contentsOf: Self.fixture, encoding: .utf8)
        #expect(Self.isHostNetwork(PodSandbox.parse(json.replacingOccurrences(of: #""network": "POD""#, with: #""network": "NODE""#), id: "x")))
        let noEntry = #"{"status": {}, "info": {"pid": 77, "runtimeSpec": {"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}}}"#
        #expect(Self.isHostNetwork(PodSandbox.parse(noEntry, id: "x")))
    }

    @Test func withoutAFileThePidServes() {
        let sandbox = Self.sandbox(PodSandbox.parse(#"{"status": {}, "info": {"pid": 77, "runtimeSpec": {"linux": {"namespaces": [{"type": "network"}]}}}}"#, id: "x"))
        #expect(sandbox?.namespacePath == nil && sandbox?.pid == 77)
        #expect(Self.sandbox(PodSandbox.parse(#"{"status": {}, "info": {"pid": 0}}"#, id: "x")) == nil)
        #expect(Self.sandbox(PodSandbox.parse("not json", id: "x")) == nil)
    }
}
