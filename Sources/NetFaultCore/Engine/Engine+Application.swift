/// The matches that read what a client sends (`tls_sni:`, `http:`, `dns:`), and the ClientHellos
/// gathered over several segments for `tls_sni:`.
extension Engine {
    /// At most this many ClientHellos are gathered at once (each up to a 16 KiB record): 16 MiB at worst.
    static let maximumPendingHellos = 1024

    /// Whether `packet`, from `side`, carries what `match` looks for.
    func matchesApplication(_ match: ApplicationMatch, _ packet: Packet, side: Side) -> Bool {
        guard side == .client, !packet.isCaptureTruncated, packet.payloadLength > 0 else { return false }
        switch match {
        case .tlsSNI(let glob):
            guard let hello = helloOnPacket, let name = hello.serverName else { return false }
            return glob.matches(name)
        case .http(let http):
            guard packet.transport == .tcp, let request = HTTPRequestHead(packet.payload) else { return false }
            return http.matches(request)
        case .dns(let dns):
            let query = packet.transport == .udp ? DNSQuery(udpPayload: packet.payload) : DNSQuery(tcpPayload: packet.payload)
            return query.map(dns.matches) ?? false
        }
    }

    /// The ClientHello `packet` completes: one whole in the packet, or the last part of one whose
    /// first bytes earlier segments of the connection carried (kept in `pendingHellos` meanwhile).
    /// A segment out of order or retransmitted leaves a pending hello as it is.
    mutating func readHello(_ packet: Packet, flowSlot: Int32, side: Side) -> CompletedHello? {
        guard side == .client, packet.transport == .tcp, packet.payloadLength > 0, !packet.isCaptureTruncated else { return nil }
        let payload = packet.payload
        if var pending = pendingHellos[flowSlot] {
            guard packet.sequenceNumber == pending.nextSequence else { return nil }
            // Up to the largest record: a header not yet whole leaves the hello's length unknown.
            pending.bytes += payload.prefix(max(0, TLSClientHello.largestRecord + TLSClientHello.recordHeaderLength - pending.bytes.count))
            pending.nextSequence &+= UInt32(payload.count)
            switch TLSClientHello.read(pending.bytes) {
            case .complete(let name):
                pendingHellos[flowSlot] = nil
                return CompletedHello(serverName: name)
            case .incomplete:
                pendingHellos[flowSlot] = pending
                return nil
            case .notAHello:
                pendingHellos[flowSlot] = nil
                return nil
            }
        }
        switch TLSClientHello.read(payload) {
        case .complete(let name):
            return CompletedHello(serverName: name)
        case .incomplete(let total):
            guard pendingHellos.count < Self.maximumPendingHellos else { return nil }
            pendingHellos[flowSlot] = PendingHello(bytes: Array(payload.prefix(total)), nextSequence: packet.sequenceNumber &+ UInt32(payload.count))
            return nil
        case .notAHello:
            return nil
        }
    }
}

/// What a `tls_sni:`, `http:` or `dns:` match looks for, kept beside the compiled rules (which hold
/// no references).
enum ApplicationMatch {
    case tlsSNI(NameGlob)
    case http(HTTPRequestMatch)
    case dns(DNSQueryMatch)

    /// The application match of `match`; nil when it has none.
    init?(_ match: Match) {
        if let glob = match.tlsSNI {
            self = .tlsSNI(glob)
        } else if let http = match.http {
            self = .http(http)
        } else if let dns = match.dns {
            self = .dns(dns)
        } else {
            return nil
        }
    }
}

/// The first bytes of a ClientHello that did not fit one segment.
struct PendingHello {
    var bytes: [UInt8]
    /// The sequence number of the byte that follows `bytes`.
    var nextSequence: UInt32
}

/// A ClientHello a packet completed.
struct CompletedHello {
    let serverName: [UInt8]?
}
