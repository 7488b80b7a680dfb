import Testing
@testable import NetFaultCore

/// The parsers behind `tls_sni:`, `http:` and `dns:`: what they read from well-formed bytes, and
/// nil (never a trap) from anything else.
struct ApplicationParserTests {
    // MARK: TLS ClientHello

    @Test func aRealClientHelloNamesItsServer() {
        #expect(TLSClientHello.read(TLSSamples.realHello) == .complete(serverName: Array("www.Blocked.example".utf8)))
    }

    @Test func everySplitOfARealHelloIsIncompleteUntilTheLastByte() {
        let hello = TLSSamples.realHello
        for cut in 1..<hello.count {
            guard case .incomplete(let total) = TLSClientHello.read(hello[..<cut]) else {
                Issue.record("the first \(cut) bytes were not taken for the start of a hello")
                return
            }
            #expect(total == (cut < 5 ? 5 : hello.count))
        }
    }

    @Test func aHelloWithoutServerNameNamesNone() {
        #expect(TLSClientHello.read(TLSSamples.hello(serverName: nil)) == .complete(serverName: nil))
        #expect(TLSClientHello.read(TLSSamples.hello(serverName: nil, padding: 40)) == .complete(serverName: nil))
        #expect(TLSClientHello.read(TLSSamples.hello(serverName: "a.example", padding: 40)) == .complete(serverName: Array("a.example".utf8)))
    }

    @Test(arguments: [
        ("an HTTP request", Array("GET / HTTP/1.1\r\n\r\n".utf8)),
        ("an application-data record", [23, 3, 3, 0, 5, 1, 2, 3, 4, 5]),
        ("a record over 16 KiB", [22, 3, 3, 0x40, 0x01, 1]),
        ("a handshake that is not a hello", [22, 3, 3, 0, 4, 2, 0, 0, 0]),
        ("SSL 2", [22, 2, 0, 0, 4, 1, 0, 0, 0]),
    ] as [(String, [UInt8])])
    func otherBytesAreNotAHello(_ what: String, _ bytes: [UInt8]) {
        #expect(TLSClientHello.read(bytes) == .notAHello, "\(what)")
    }

    @Test func lengthsThatDisagreeAreNotAHello() {
        var hello = TLSSamples.hello(serverName: "a.example")
        hello[8] &+= 1  // the handshake's length, one more than the record holds
        #expect(TLSClientHello.read(hello) == .notAHello)
        var badList = TLSSamples.hello(serverName: "a.example")
        badList[badList.count - 14] = 0xff  // the server name list's length, past its extension
        #expect(TLSClientHello.read(badList) == .notAHello)
    }

    @Test func mutatedHellosNeverTrap() {
        var random = SeededGenerator(seed: 21)
        let hello = TLSSamples.realHello
        for _ in 0..<3000 {
            var bytes = hello
            for _ in 0..<Int(random.next() % 8) + 1 { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
            let cut = Int(random.next() % UInt64(bytes.count + 1))
            _ = TLSClientHello.read(bytes[..<cut])
            _ = HTTPRequestHead(bytes[..<cut])
            _ = DNSQuery(udpPayload: bytes[5..<max(5, cut)])
            _ = DNSQuery(tcpPayload: bytes[3..<max(3, cut)])
        }
    }

    // MARK: HTTP

    @Test func aRequestLineAndHostAreRead() throws {
        let request = try #require(HTTPRequestHead(Array("POST /upload/a?x=1 HTTP/1.1\r\nUser-Agent: curl\r\nhOsT:  API.example:8080 \r\n\r\nbody".utf8)))
        #expect(request.method == Array("POST".utf8))
        #expect(request.path == Array("/upload/a?x=1".utf8))
        #expect(request.host == Array("API.example".utf8))
        let proxied = try #require(HTTPRequestHead(Array("GET http://b.example:81/x HTTP/1.0\r\n".utf8)))
        #expect(proxied.path == Array("/x".utf8) && proxied.host == nil)
        let v6 = try #require(HTTPRequestHead(Array("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n".utf8)))
        #expect(v6.host == Array("[2001:db8::1]".utf8))
    }

    @Test(arguments: ["", "GET / HTTP/1.1", "GET  / HTTP/1.1\r\n", "GET / HTTP/2\r\n", "G\"T / HTTP/1.1\r\n", "\u{16}\u{03}\u{01}", "HTTP/1.1 200 OK\r\n"])
    func otherTextIsNotARequest(_ text: String) {
        #expect(HTTPRequestHead(Array(text.utf8)) == nil)
    }

    @Test func matchesFollowTheirFields() throws {
        let request = try #require(HTTPRequestHead(Array("POST /upload/1 HTTP/1.1\r\nHost: api.example\r\n\r\n".utf8)))
        #expect(HTTPRequestMatch(method: "POST", host: NameGlob("API.*", caseInsensitive: true), path: NameGlob("/upload*", caseInsensitive: false)).matches(request))
        #expect(!HTTPRequestMatch(method: "GET").matches(request))
        #expect(!HTTPRequestMatch(path: NameGlob("/UPLOAD*", caseInsensitive: false)).matches(request))
        #expect(!HTTPRequestMatch(host: NameGlob("other.example", caseInsensitive: true)).matches(request))
    }

    // MARK: Globs

    @Test(arguments: [
        ("*.blocked.example", "www.BLOCKED.example", true), ("*.blocked.example", "blocked.example", false),
        ("a?c", "abc", true), ("a?c", "ac", false), ("*", "", true), ("**x*", "yyxyy", true), ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false), ("exact", "exact.", false),
    ])
    func globs(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(NameGlob(pattern, caseInsensitive: true).matches(Array(name.utf8)) == expected)
    }

    // MARK: DNS

    @Test func aQueryIsRead() throws {
        let query = try #require(DNSQuery(udpPayload: DNSSamples.query(name: "WWW.Example", type: 28, id: 0x1234)))
        #expect(query.id == 0x1234 && query.type == 28 && query.questionClass == 1 && query.recursionDesired)
        #expect(query.name == Array("www.example".utf8))
        #expect(query.question == Array(DNSSamples.query(name: "WWW.Example", type: 28)[12...]))
        let overTCP = try #require(DNSQuery(tcpPayload: TLSSamples.be16(29) + DNSSamples.query(name: "WWW.Example", type: 28, id: 0x1234)))
        #expect(overTCP == query)
    }

    @Test func responsesPointersAndBadLengthsAreNotQueries() {
        let query = DNSSamples.query(name: "a.example", type: 1)
        #expect(DNSQuery(udpPayload: DNSSamples.query(name: "a.example", type: 1, flags: 0x8180)) == nil, "a response")
        #expect(DNSQuery(udpPayload: DNSSamples.query(name: "a.example", type: 1, flags: 0x2900)) == nil, "an UPDATE")
        #expect(DNSQuery(udpPayload: Array(query[..<12]) + [0xc0, 0x0c, 0, 1, 0, 1]) == nil, "a compression pointer")
        #expect(DNSQuery(udpPayload: Array(query[..<12]) + [63] + [UInt8](repeating: 0x61, count: 10)) == nil, "a label past the end")
        let long = Array(repeating: String(repeating: "a", count: 63), count: 5).joined(separator: ".")
        #expect(DNSQuery(udpPayload: DNSSamples.query(name: long, type: 1)) == nil, "a name over 255 bytes")
        #expect(DNSQuery(udpPayload: Array(query.dropLast())) == nil, "a truncated class")
        var none = query
        none[5] = 0
        #expect(DNSQuery(udpPayload: none) == nil, "no question")
        #expect(DNSQuery(tcpPayload: [0, 200] + query) == nil, "a length prefix past the segment")
        #expect(DNSQuery(tcpPayload: [0]) == nil && DNSQuery(udpPayload: []) == nil)
        for cut in 0..<query.count { #expect(DNSQuery(udpPayload: query[..<cut]) == nil) }
    }

    /// Known answers, written out from RFC 1035 §4.1 by hand.
    @Test func responsesAreBuiltByteForByte() throws {
        let query = try #require(DNSQuery(udpPayload: DNSSamples.query(name: "a.example", type: 1, id: 0xbeef)))
        let question: [UInt8] = [1, 0x61, 7] + Array("example".utf8) + [0, 0, 1, 0, 1]
        #expect(DNSResponseBuilder.error(.nxdomain, to: query) == [0xbe, 0xef, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0] + question)
        #expect(DNSResponseBuilder.error(.servfail, to: query)[2...3] == [0x81, 0x82])
        #expect(DNSResponseBuilder.error(.refused, to: query)[2...3] == [0x81, 0x85])
        #expect(DNSResponseBuilder.answer(IPAddress("198.18.0.66")!, to: query)
            == [0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + question + [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 66])
        let noRecursion = try #require(DNSQuery(udpPayload: DNSSamples.query(name: "a.example", type: 28, flags: 0)))
        let nodata = DNSResponseBuilder.answer(IPAddress("198.18.0.66")!, to: noRecursion)
        #expect(nodata[2...3] == [0x80, 0x80] && nodata[6...7] == [0, 0], "an A address for an AAAA query: no record, no error")
        let v6 = DNSResponseBuilder.answer(IPAddress("2001:db8::66")!, to: noRecursion)
        #expect(v6[6...7] == [0, 1] && Array(v6.suffix(18)) == [0, 16] + IPAddress("2001:db8::66")!.bytes)
    }
}
