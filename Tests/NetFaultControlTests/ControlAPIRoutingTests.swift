import Testing
@testable import NetFaultControl

/// The control API's pure parts: routes, bodies, the TCP token check, the default socket path.
struct ControlAPIRoutingTests {
    @Test func pathsMapToRoutesAndTheirMethods() {
        #expect(ControlAPI.Route(path: "/v1/status") == .status)
        #expect(ControlAPI.Route(path: "/v1/rules/drop-syn") == .rule("drop-syn"))
        #expect(ControlAPI.Route(path: "/v1/rules/a%2Db") == .rule("a-b"))
        #expect(ControlAPI.Route(path: "/v1/rules/") == nil)
        #expect(ControlAPI.Route(path: "/v1/rules/a/b") == nil)
        #expect(ControlAPI.Route(path: "/v2/status") == nil)
        #expect(ControlAPI.Route.rule("x").methods == [.delete, .patch])
        #expect(ControlAPI.Route.rules.methods == [.get, .put, .post])
    }

    @Test func bodiesAreExactlyWhatTheyShouldBe() throws {
        #expect(try ControlAPI.enabledFlag(#"{"enabled": false}"#) == false)
        #expect(try ControlAPI.enabledFlag(#"{"enabled": true}"#) == true)
        for bad in [#"{"enabled": 1}"#, #"{"enabled": "false"}"#, #"{"enabled": true, "x": 1}"#, "[]", "", "{"] {
            #expect(throws: ControlAPI.Failure.self, "\(bad)") { try ControlAPI.enabledFlag(bad) }
        }
        #expect(try ControlAPI.markName(#"{"name": "t1"}"#) == "t1")
        #expect(throws: ControlAPI.Failure.self) { try ControlAPI.markName(#"{"name": 3}"#) }
    }

    @Test(arguments: [("127.0.0.1:8080", true), ("[::1]:9", true), ("127.1.2.3:1", true), ("0.0.0.0:80", false),
                      ("198.18.0.1:80", false), ("localhost:80", false), ("127.0.0.1:0", false), ("127.0.0.1", false)])
    func onlyLoopbackIsListenedOn(address: String, accepted: Bool) {
        #expect((ControlServer.TCPListener.loopback(address) != nil) == accepted)
    }

    @Test func theTokenMustMatchWhole() {
        #expect(ControlServer.tokensMatch("Bearer abcdefghijklmnop", token: "abcdefghijklmnop"))
        #expect(!ControlServer.tokensMatch("Bearer abcdefghijklmno", token: "abcdefghijklmnop"))
        #expect(!ControlServer.tokensMatch("Bearer abcdefghijklmnopq", token: "abcdefghijklmnop"))
        #expect(!ControlServer.tokensMatch("abcdefghijklmnop", token: "abcdefghijklmnop"))
        #expect(ControlServer.tokensMatch("bearer abcdefghijklmnop", token: "abcdefghijklmnop"), "the scheme is case-insensitive")
        #expect(!ControlServer.tokensMatch(nil, token: "abcdefghijklmnop"))
    }

    @Test func theDefaultSocketIsPerQueue() {
        #expect(ControlSocket.defaultPath(queue: 3, namespace: nil).hasSuffix("3.sock"))
        #expect(ControlSocket.defaultPath(queue: 3, namespace: nil).hasPrefix("/run/netfault/"))
    }
}
