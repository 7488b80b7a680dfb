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

    @Test func theSandboxsNetworkNamespaceFileIsRead() throws {
        let json = try String(contentsOf: Self.fixture, encoding: .utf8)
        let sandbox = try #require(PodSandbox.parse(json, id: "8f9e"))
        #expect(sandbox.namespacePath == "/var/run/netns/cni-6d2e3f4a-9b1c-7e58-0f3a-2c4d5e6f7a8b")
        #expect(sandbox.pid == 48095)
    }

    @Test func withoutAFileThePidServes() {
        let sandbox = PodSandbox.parse(#"{"status": {}, "info": {"pid": 77, "runtimeSpec": {"linux": {"namespaces": [{"type": "network"}]}}}}"#, id: "x")
        #expect(sandbox?.namespacePath == nil && sandbox?.pid == 77)
        #expect(PodSandbox.parse(#"{"status": {}, "info": {}}"#, id: "x") == nil)
        #expect(PodSandbox.parse("not json", id: "x") == nil)
    }
}
