/// An address and port: one end of a connection.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `198.18.1.2:40000`, `[2001:db8::2]:80`.
    public var description: String {
        address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    static func < (lhs: Endpoint, rhs: Endpoint) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }
}

/// Identifies a connection whichever way a packet travels: the two endpoints in a fixed order.
public struct FlowKey: Hashable, Sendable {
    public let transport: Transport
    public let lower: Endpoint
    public let upper: Endpoint

    public init(transport: Transport, _ a: Endpoint, _ b: Endpoint) {
        self.transport = transport
        if b < a {
            lower = b
            upper = a
        } else {
            lower = a
            upper = b
        }
    }

    /// The key of `packet`'s connection.
    public init(_ packet: Packet, transport: Transport) {
        self.init(transport: transport, Endpoint(packet.source, packet.sourcePort),
                  Endpoint(packet.destination, packet.destinationPort))
    }
}
