/// How a connection ended, as the applications at its ends experienced it.
public enum ConnectionOutcome: String, Sendable, CaseIterable, Codable {
    /// The client's SYN was answered by an RST, or its datagram by an ICMP port unreachable.
    case refused
    /// SYNs went out, and no SYN-ACK reached the client.
    case connectTimeout = "connect-timeout"
    /// An ICMP host or administratively-prohibited unreachable answered the client.
    case unreachable
    /// An RST ended an established connection.
    case reset
    /// Unacknowledged data was retransmitted until the sender gave up (or the run ended): no FIN, no RST.
    case aborted
    /// FIN both ways.
    case closed
    /// Still open when the run ended.
    case open
    /// Silent for longer than the flow timeout, then forgotten (a UDP flow's usual end).
    case idle
}

/// The error an application got: the POSIX errno and the Windows Sockets code people search for.
public struct SocketError: Sendable, Equatable, CustomStringConvertible {
    /// `ECONNRESET`.
    public let errno: String
    /// `WSAECONNRESET`.
    public let winsock: String
    /// 10054.
    public let winsockCode: Int

    public var description: String { "\(errno) / \(winsock) \(winsockCode)" }

    public static let connectionRefused = SocketError(errno: "ECONNREFUSED", winsock: "WSAECONNREFUSED", winsockCode: 10061)
    public static let connectTimedOut = SocketError(errno: "ETIMEDOUT", winsock: "WSAETIMEDOUT", winsockCode: 10060)
    public static let hostUnreachable = SocketError(errno: "EHOSTUNREACH", winsock: "WSAEHOSTUNREACH", winsockCode: 10065)
    /// Linux maps ICMPv6 "administratively prohibited" to EACCES (icmpv6_err_convert).
    public static let accessDenied = SocketError(errno: "EACCES", winsock: "WSAEACCES", winsockCode: 10013)
    public static let connectionReset = SocketError(errno: "ECONNRESET", winsock: "WSAECONNRESET", winsockCode: 10054)
    public static let connectionAborted = SocketError(errno: "ETIMEDOUT", winsock: "WSAECONNABORTED", winsockCode: 10053)
    /// A send after the peer's FIN and then its RST: Linux says EPIPE (`tcp_reset()` in
    /// CLOSE-WAIT); Windows, which has no EPIPE, aborts the connection (WSAECONNABORTED).
    public static let brokenPipe = SocketError(errno: "EPIPE", winsock: "WSAECONNABORTED", winsockCode: 10053)

    /// The error an RST leaves on a socket.
    public init(_ effect: ResetEffect) {
        switch effect {
        case .refused: self = .connectionRefused
        case .brokenPipe: self = .brokenPipe
        case .connectionReset: self = .connectionReset
        }
    }

    init(errno: String, winsock: String, winsockCode: Int) {
        self.errno = errno
        self.winsock = winsock
        self.winsockCode = winsockCode
    }
}
