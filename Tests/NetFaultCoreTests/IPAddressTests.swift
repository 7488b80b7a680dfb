import Testing
@testable import NetFaultCore

/// Address and CIDR text: parsing, RFC 5952 formatting, refusals and containment.
struct IPAddressTests {
    /// Text that parses, and the canonical text it formats back to.
    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("192.0.2.1", "192.0.2.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("10.0.0.0", "10.0.0.0"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        // RFC 5952 §4.2.2: a single zero group is not compressed.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        // §4.2.3: the longest run is compressed; on a tie, the first.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("fe80::1:2:3:4", "fe80::1:2:3:4"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        // Embedded dotted quad (RFC 4291 §2.2 form 3).
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("64:ff9b::198.51.100.2", "64:ff9b::c633:6402"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func parsesAndFormats(text: String, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1..2.3", " 1.2.3.4", "1.2.3.4 ",
        "010.0.0.1", "1.2.3.04", "00.0.0.0", "1.2.3.4/24", "+1.2.3.4", "١.2.3.4",
        ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1",
        "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5", "fe80::1%eth0",
        "+1::", "::-1", "::-0", "1:+2::", "::+ff",
    ])
    func refuses(text: String) {
        #expect(IPAddress(text) == nil, "\"\(text)\" should not parse")
    }

    @Test func wireBytes() throws {
        #expect(try #require(IPAddress("192.0.2.1")).bytes == [192, 0, 2, 1])
        #expect(try #require(IPAddress("2001:db8::ff01")).bytes
            == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01])
        #expect(try #require(IPAddress("192.0.2.1")).v4Value == 0xc000_0201)
    }

    @Test func familiesOrderAndDiffer() throws {
        let v4 = try #require(IPAddress("0.0.0.1"))
        let v6 = try #require(IPAddress("::1"))
        #expect(v4 != v6)
        #expect(v4 < v6)
        #expect(try #require(IPAddress("10.0.0.1")) < #require(IPAddress("10.0.0.2")))
    }

    @Test(arguments: [
        ("198.18.1.0/24", "198.18.1.0/24", 24, false),
        ("198.18.1.7/24", "198.18.1.0/24", 24, true),
        ("10.1.2.3", "10.1.2.3", 32, false),
        ("0.0.0.0/0", "0.0.0.0/0", 0, false),
        ("1.2.3.4/0", "0.0.0.0/0", 0, true),
        ("192.0.2.1/32", "192.0.2.1", 32, false),
        ("2001:db8::/32", "2001:db8::/32", 32, false),
        ("2001:db8::1/64", "2001:db8::/64", 64, true),
        ("2001:db8:1:2:3:4:5:6/65", "2001:db8:1:2::/65", 65, true),
        ("2001:db8:1:2:8000::/65", "2001:db8:1:2:8000::/65", 65, false),
        ("::1", "::1", 128, false),
        ("::/0", "::/0", 0, false),
    ])
    func cidrParses(text: String, canonical: String, prefixLength: Int, hadHostBits: Bool) throws {
        let cidr = try CIDR(parsing: text)
        #expect(cidr.description == canonical)
        #expect(cidr.prefixLength == prefixLength)
        #expect(cidr.hadHostBits == hadHostBits)
    }

    @Test(arguments: [
        ("1.2.3.4/33", CIDR.ParseError.badPrefix("1.2.3.4/33", max: 32)),
        ("2001:db8::/129", .badPrefix("2001:db8::/129", max: 128)),
        ("1.2.3.4/", .badPrefix("1.2.3.4/", max: 32)),
        ("1.2.3.4/024", .badPrefix("1.2.3.4/024", max: 32)),
        ("1.2.3.4/-1", .badPrefix("1.2.3.4/-1", max: 32)),
        ("1.2.3.4/+8", .badPrefix("1.2.3.4/+8", max: 32)),
        ("1.2.3.4/8/8", .badPrefix("1.2.3.4/8/8", max: 32)),
        ("010.0.0.1/8", .notAnAddress("010.0.0.1/8")),
        ("/8", .notAnAddress("/8")),
        ("", .notAnAddress("")),
        ("example.com/8", .notAnAddress("example.com/8")),
    ])
    func cidrRefuses(text: String, error: CIDR.ParseError) {
        #expect(throws: error) { try CIDR(parsing: text) }
    }

    @Test(arguments: [
        ("198.18.1.0/24", "198.18.1.0", true),
        ("198.18.1.0/24", "198.18.1.255", true),
        ("198.18.1.0/24", "198.18.2.0", false),
        ("198.18.1.0/24", "198.18.0.255", false),
        ("0.0.0.0/0", "255.255.255.255", true),
        ("0.0.0.0/0", "::", false),
        ("10.0.0.1", "10.0.0.1", true),
        ("10.0.0.1", "10.0.0.2", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::", false),
        ("2001:db8:1:2:8000::/65", "2001:db8:1:2:ffff::", true),
        ("2001:db8:1:2:8000::/65", "2001:db8:1:2:7fff::", false),
        ("::/0", "::ffff:1.2.3.4", true),
        ("::/0", "1.2.3.4", false),
        ("::1", "::1", true),
    ])
    func cidrContains(cidr: String, address: String, contained: Bool) throws {
        let block = try CIDR(parsing: cidr)
        #expect(block.contains(try #require(IPAddress(address))) == contained)
    }
}
