import Testing
@testable import NetFaultCore

/// ICMP destination-unreachable messages from the network (a real firewall, a closed UDP port)
/// are read back to the connection they quote.
struct ICMPAttributionTests {
    /// An ICMP error answering `packet`, as a host at `from` would send it.
    func unreachable(_ reason: UnreachableReason, answering packet: [UInt8], from: String) -> [UInt8] {
        parsed(packet) { PacketBuilder.icmpUnreachable(reason, quoting: $0, from: IPAddress(from)!) }
    }

    @Test(arguments: [("198.18.1.2:40000", "198.18.2.2:53"), ("[2001:db8:1::2]:40000", "[2001:db8:2::2]:53")])
    func theQuotedHeaderNamesTheConnection(_ client: String, _ server: String) throws {
        let datagram = Conversation(client: client, server: server).datagram(from: .client)
        let icmp = unreachable(.port, answering: datagram, from: Conversation.endpoint(server).address.description)
        parsed(icmp) { packet in
            #expect(packet.unreachableReason == .port)
            #expect(packet.quotedHeader == QuotedHeader(transport: .udp, source: Conversation.endpoint(client),
                                                        destination: Conversation.endpoint(server)))
        }
    }

    @Test func otherPacketsQuoteNothing() {
        var c = Conversation()
        parsed(c.syn()) { packet in
            #expect(packet.quotedHeader == nil)
            #expect(packet.unreachableReason == nil)
        }
    }

    @Test func aClosedUDPPortRefusesTheFlowWithoutAFlowOfItsOwn() throws {
        var driver = try EngineDriver("rules:\n  - name: slow\n    match: {protocol: udp}\n    action: {delay: 1ms}\n")
        let datagram = Conversation(server: "198.18.2.2:53").datagram(from: .client)
        driver.send(datagram)
        #expect(driver.send(unreachable(.port, answering: datagram, from: "198.18.2.2")).verdict == .accept)
        let flow = try #require(driver.onlyFlow)
        #expect(flow.outcome() == .refused)
    }

    @Test func aFirewallsHostUnreachableMakesTheConnectUnreachable() throws {
        var driver = try EngineDriver("rules:\n  - name: none\n    match: {server_port: 1}\n    action: drop\n")
        var c = Conversation()
        let syn = c.syn()
        driver.send(syn)
        driver.send(unreachable(.adminProhibited, answering: syn, from: "198.18.2.1"))
        let flow = try #require(driver.onlyFlow)
        #expect(flow.outcome() == .unreachable)
        #expect(flow.socketErrors(for: .unreachable).client == .hostUnreachable)
    }

    @Test func anUnreachableAfterTheHandshakeChangesNothing() throws {
        var driver = try EngineDriver("rules:\n  - name: none\n    match: {server_port: 1}\n    action: drop\n")
        var c = Conversation()
        for packet in c.handshake() { driver.send(packet) }
        driver.send(unreachable(.host, answering: c.data(from: .client), from: "198.18.2.1"))
        #expect(driver.onlyFlow?.outcome() == .open)
    }
}
