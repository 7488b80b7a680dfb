@testable import NetFaultCore

/// A scripted TCP (or UDP) conversation between a client and a server: each call returns the next
/// packet's bytes with sequence and acknowledgment numbers kept consistent, as real stacks would.
struct Conversation {
    let client: Endpoint
    let server: Endpoint
    var clientNext: UInt32
    var serverNext: UInt32

    init(client: String = "198.18.1.2:40000", server: String = "198.18.2.2:80", clientISN: UInt32 = 1000, serverISN: UInt32 = 900_000) {
        self.client = Self.endpoint(client)
        self.server = Self.endpoint(server)
        clientNext = clientISN
        serverNext = serverISN
    }

    static func endpoint(_ text: String) -> Endpoint {
        let colon = text.lastIndex(of: ":")!
        var host = String(text[..<colon])
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        return Endpoint(IPAddress(host)!, UInt16(text[text.index(after: colon)...])!)
    }

    func tcp(from side: Side, seq: UInt32, ack: UInt32, flags: TCPFlags, payload: [UInt8] = []) -> [UInt8] {
        let (source, destination) = side == .client ? (client, server) : (server, client)
        return PacketBuilder.tcp(source: source.address, destination: destination.address, sourcePort: source.port,
                                 destinationPort: destination.port, sequence: seq, acknowledgment: ack, flags: flags, payload: payload)
    }

    mutating func syn() -> [UInt8] {
        defer { clientNext &+= 1 }
        return tcp(from: .client, seq: clientNext, ack: 0, flags: [.syn])
    }

    /// The same SYN again, as a client's SYN retransmission timer sends it.
    func synAgain() -> [UInt8] { tcp(from: .client, seq: clientNext &- 1, ack: 0, flags: [.syn]) }

    mutating func synAck() -> [UInt8] {
        defer { serverNext &+= 1 }
        return tcp(from: .server, seq: serverNext, ack: clientNext, flags: [.syn, .ack])
    }

    /// A bare ACK from `side`, acknowledging everything the other side sent.
    func ack(from side: Side = .client) -> [UInt8] {
        side == .client ? tcp(from: .client, seq: clientNext, ack: serverNext, flags: [.ack])
            : tcp(from: .server, seq: serverNext, ack: clientNext, flags: [.ack])
    }

    mutating func handshake() -> [[UInt8]] { [syn(), synAck(), ack()] }

    /// A data segment of `count` bytes (or `payload`) from `side`; the sequence number advances.
    mutating func data(from side: Side, _ count: Int = 1000, payload: [UInt8]? = nil) -> [UInt8] {
        let bytes = payload ?? Array(repeating: UInt8(ascii: "x"), count: count)
        if side == .client {
            defer { clientNext &+= UInt32(bytes.count) }
            return tcp(from: .client, seq: clientNext, ack: serverNext, flags: [.ack, .psh], payload: bytes)
        }
        defer { serverNext &+= UInt32(bytes.count) }
        return tcp(from: .server, seq: serverNext, ack: clientNext, flags: [.ack, .psh], payload: bytes)
    }

    /// The segment `data(from:)` produced `back` bytes ago, sent again.
    func retransmit(from side: Side, _ count: Int = 1000) -> [UInt8] {
        let payload = Array(repeating: UInt8(ascii: "x"), count: count)
        return side == .client ? tcp(from: .client, seq: clientNext &- UInt32(count), ack: serverNext, flags: [.ack, .psh], payload: payload)
            : tcp(from: .server, seq: serverNext &- UInt32(count), ack: clientNext, flags: [.ack, .psh], payload: payload)
    }

    mutating func fin(from side: Side) -> [UInt8] {
        if side == .client {
            defer { clientNext &+= 1 }
            return tcp(from: .client, seq: clientNext, ack: serverNext, flags: [.fin, .ack])
        }
        defer { serverNext &+= 1 }
        return tcp(from: .server, seq: serverNext, ack: clientNext, flags: [.fin, .ack])
    }

    func rst(from side: Side) -> [UInt8] {
        side == .client ? tcp(from: .client, seq: clientNext, ack: 0, flags: [.rst])
            : tcp(from: .server, seq: serverNext, ack: 0, flags: [.rst])
    }

    /// A closed port's answer to the client's SYN: RST|ACK acknowledging it (RFC 9293 §3.10.7.1).
    func refusal() -> [UInt8] { tcp(from: .server, seq: 0, ack: clientNext, flags: [.rst, .ack]) }

    /// An RST from `side` with sequence number `seq`: a forged one, or one the receiver no longer expects.
    func rst(from side: Side, seq: UInt32) -> [UInt8] { tcp(from: side, seq: seq, ack: 0, flags: [.rst]) }

    func datagram(from side: Side, _ count: Int = 64) -> [UInt8] {
        let (source, destination) = side == .client ? (client, server) : (server, client)
        return PacketBuilder.udp(source: source.address, destination: destination.address, sourcePort: source.port,
                                 destinationPort: destination.port, payload: Array(repeating: 0x61, count: count))
    }
}

/// An engine under test with a fake clock in milliseconds.
struct EngineDriver {
    var engine: Engine

    init(_ yaml: String, seed: UInt64 = 1, configuration: Engine.Configuration? = nil) throws {
        try self.init(try RuleFile.parse(yaml, name: "test.yaml"), seed: seed, configuration: configuration)
    }

    init(_ file: RuleFile, seed: UInt64 = 1, configuration: Engine.Configuration? = nil) throws {
        engine = Engine(ruleSet: file.ruleSet, seed: seed, configuration: configuration)
    }

    @discardableResult
    mutating func send(_ bytes: [UInt8], at milliseconds: Int64 = 0) -> Decision {
        bytes.withUnsafeBytes { buffer in
            let packet = try! Packet(parsing: buffer)
            return engine.process(packet, at: .milliseconds(milliseconds))
        }
    }

    /// The single tracked flow; nil unless exactly one is tracked.
    var onlyFlow: Flow? {
        let flows = Array(engine.flows)
        return flows.count == 1 ? flows[0] : nil
    }
}

/// Parses bytes the engine emitted, for assertions.
func parsed<T>(_ bytes: [UInt8], _ body: (Packet) throws -> T) rethrows -> T {
    try bytes.withUnsafeBytes { try body(try! Packet(parsing: $0)) }
}
