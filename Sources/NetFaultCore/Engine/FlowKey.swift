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
    public let lower: Endpoint
    public let upper: Endpoint
    public let transport: Transport

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

    /// Three words into the hasher instead of the nine fields one by one: the flow table is looked
    /// up on every packet, and each `combine` is a round of SipHash. Equality still compares every field.
    public func hash(into hasher: inout Hasher) {
        let mix: UInt64 = 0x9e37_79b9_7f4a_7c15
        let transportBits = UInt64(transport.hashBits)
        hasher.combine(lower.address.high ^ (upper.address.high &* mix))
        hasher.combine(lower.address.low ^ (upper.address.low &* mix))
        hasher.combine(UInt64(lower.port) << 32 | UInt64(upper.port) << 8 | transportBits)
    }

    /// The flow index's hash: every field folded into three words, mixed with `seed` by 128-bit
    /// multiplications (as wyhash does). Faster than SipHash; the seed keeps it unpredictable.
    func tableHash(seed: UInt64) -> UInt64 {
        func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let product = a.multipliedFullWidth(by: b)
            return product.high ^ product.low
        }
        let ports = UInt64(lower.port) << 32 | UInt64(upper.port) << 8 | UInt64(transport.hashBits)
        let first = fold(lower.address.high ^ seed ^ 0xa076_1d64_78bd_642f, upper.address.high ^ 0xe703_7ed1_a0b4_28db)
        let second = fold(lower.address.low ^ seed ^ 0x8ebc_6af0_9c88_c6e3, upper.address.low ^ 0x5899_65cc_7537_4cc3)
        return fold(first ^ ports ^ 0x1d8e_4e27_c47d_124f, second ^ seed)
    }
}

extension Transport {
    /// A small number per protocol for the flow hashes.
    var hashBits: UInt8 {
        switch self {
        case .tcp: return 1
        case .udp: return 2
        case .icmp: return 3
        }
    }
}
