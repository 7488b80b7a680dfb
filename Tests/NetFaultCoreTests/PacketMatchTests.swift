import Testing
@testable import NetFaultCore

/// The `size:` and `options:` matches, packet by packet: the IP packet's whole length (headers
/// included, also when only the headers were captured) and the TCP options it carries.
struct PacketMatchTests {
    /// Rule `a` with `match` (and `drop`), then the decisions on `packets`.
    func dropped(_ match: String, _ packets: [[UInt8]]) throws -> [Bool] {
        var driver = try EngineDriver("rules:\n  - name: a\n    match: \(match)\n    action: drop\n")
        return packets.map { driver.send($0).verdict == .drop }
    }

    @Test(arguments: [
        ("1400", 1399, false), ("1400", 1400, true), ("1400", 1401, false),
        ("\">1400\"", 1400, false), ("\">1400\"", 1401, true), ("\">=1400\"", 1400, true), ("\">= 1400\"", 1399, false),
        ("\"<100\"", 99, true), ("\"<100\"", 100, false), ("\"<=100\"", 100, true),
        ("1000-1500", 999, false), ("1000-1500", 1000, true), ("1000-1500", 1500, true), ("1000-1500", 1501, false),
    ])
    func theWholeIPPacketIsMeasured(_ size: String, _ length: Int, _ matches: Bool) throws {
        var conversation = Conversation()
        // IPv4 (20) + TCP (20) headers: the payload makes up the rest.
        let packet = conversation.data(from: .client, length - 40)
        #expect(packet.count == length)
        #expect(try dropped("{size: \(size)}", [packet]) == [matches])
    }

    @Test func anIPv6PacketCountsItsFixedHeader() throws {
        var conversation = Conversation(client: "[2001:db8:1::2]:40000", server: "[2001:db8:2::2]:80")
        let packet = conversation.data(from: .server, 1360)
        #expect(packet.count == 40 + 20 + 1360)
        #expect(try dropped("{size: \">1400\"}", [packet, conversation.data(from: .server, 1340)]) == [true, false])
    }

    /// A queue that copies headers only still hands over the packet's length from its header.
    @Test func aPacketCapturedInPartIsMeasuredByItsHeader() throws {
        var conversation = Conversation()
        let whole = conversation.data(from: .client, 1460)
        var driver = try EngineDriver("rules:\n  - name: a\n    match: {size: \">1400\"}\n    action: drop\n")
        let decision = Array(whole.prefix(512)).withUnsafeBytes { captured in
            whole.withUnsafeBytes { _ in
                let packet = try! Packet(parsing: captured, originalLength: whole.count)
                #expect(packet.isCaptureTruncated && packet.length == 1500)
                return driver.engine.process(packet, at: .milliseconds(0))
            }
        }
        #expect(decision.verdict == .drop)
    }

    @Test func sizesApplyToUDPAndICMPToo() throws {
        let conversation = Conversation(client: "198.18.1.2:5000", server: "198.18.2.2:53")
        #expect(try dropped("{protocol: udp, size: \">100\"}", [conversation.datagram(from: .client, 100), conversation.datagram(from: .client, 32)])
                == [true, false])
        #expect(try dropped("{protocol: icmp, size: \"<=84\"}", [PacketFixtures.ipv4ICMPEcho]) == [PacketFixtures.ipv4ICMPEcho.count <= 84])
    }

    @Test func everyListedOptionMustBeCarried() throws {
        // The fixture SYN carries MSS, SACK permitted, timestamps and window scale.
        let syn = PacketFixtures.ipv4TCPSyn
        #expect(try dropped("{options: [wscale]}", [syn]) == [true])
        #expect(try dropped("{options: [wscale, sackok, timestamps, mss]}", [syn]) == [true])
        #expect(try dropped("{options: [wscale, mptcp]}", [syn]) == [false])
        #expect(try dropped("{options: [tfo]}", [syn]) == [false])
    }

    @Test func aSegmentWithoutOptionsMatchesNoOptionsRule() throws {
        var conversation = Conversation()
        #expect(try dropped("{options: [timestamps]}", conversation.handshake() + [conversation.data(from: .client)])
                == [false, false, false, false])
    }

    @Test func checkDescribesBoth() throws {
        let file = try RuleFile.parse("rules:\n  - name: a\n    match: {size: \">1400\", options: [sack]}\n    action: drop\n", name: "t")
        #expect(file.ruleSet.rules[0].summary == "tcp packets, over 1400 bytes long, carrying TCP options sack → drop silently")
        #expect(file.ruleSet.needsSegments)
        #expect(try !RuleFile.parse("rules:\n  - name: a\n    match: {options: [sack]}\n    action: drop\n", name: "t").ruleSet.needsSegments)
    }

    /// A share of packets is a share of those on the wire: a rule that rolls per packet has the
    /// kernel cut super-packets first, and one that acts on every matching packet does not.
    @Test(arguments: [
        ("match: {server_port: 80, probability: 1%}\n    action: drop", true),
        ("match: {server_port: 80}\n    action: {loss: {model: gilbert-elliott, p: 1%}}", true),
        ("match: {server_port: 80}\n    action: {reorder: {probability: 25%}}", true),
        ("match: {server_port: 80}\n    action: {reorder: {gap: 2}}", false),
        ("match: {server_port: 80}\n    action: {delay: 10ms, jitter: 5ms}", false),
    ])
    func rulesThatRollPerPacketSeeSegments(_ rule: String, _ segments: Bool) throws {
        let ruleSet = try RuleFile.parse("rules:\n  - name: a\n    \(rule)\n", name: "t").ruleSet
        #expect(ruleSet.needsSegments == segments)
        if rule.contains("probability: 1%") { #expect(ruleSet.rules[0].match.probability == 0.01) }
        #expect(ruleSet.rules[0].segmentsReason == (segments ? "acts on a share of the packets on the wire" : nil))
    }

    @Test(arguments: [
        ("{size: big}", "rules[0].match.size: big is not a packet size in bytes"),
        ("{size: \"1500-1400\"}", "1500-1400 takes no packet: the smaller size comes first"),
        ("{size: \"<0\"}", "<0 takes no packet: no packet is under 0 bytes"),
        ("{size: \">70000\"}", ">70000 takes no packet: an IP packet is at most 65575 bytes"),
        ("{protocol: udp, options: [mss]}", "rules[0].match.options: only TCP packets have TCP options, and this rule matches udp"),
        ("{options: [wscale, window]}", "rules[0].match.options[1]: \"window\" is not a TCP option"),
    ])
    func badValuesAreRefusedWhereTheyStand(_ match: String, _ message: String) throws {
        let yaml = "rules:\n  - name: a\n    match: \(match)\n    action: drop\n  - name: b\n    match: {server_port: 80}\n    action: drop\n"
        do {
            _ = try RuleFile.parse(yaml, name: "t")
            Issue.record("\(match) was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains(message), "\(text)")
            #expect(!text.contains("can never act"), "a match with an error is not one without conditions: \(text)")
        }
    }
}
