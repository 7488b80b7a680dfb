#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOPosix
import NetFaultLinux
import Logging
import Synchronization

/// The control API's servers: one on a Unix socket, and one on a loopback TCP port with a bearer
/// token (`--listen`, `--token-file`). Started by a thread that gave up every capability and never
/// enters a target namespace (`--netns`: the controller's own thread does), so the API's threads
/// hold no privilege and the API stays in the caller's namespace and filesystem. Requests reach
/// the run only through its `ControlMailbox`.
public final class ControlServer {
    /// The loopback address and port of `--listen`, with the token its requests must carry.
    public struct TCPListener: Sendable {
        public var host: String
        public var port: Int
        public var token: String

        public init(host: String, port: Int, token: String) {
            self.host = host
            self.port = port
            self.token = token
        }

        /// `127.0.0.1:8080` or `[::1]:8080` as host and port; nil for anything not on loopback.
        public static func loopback(_ text: String) -> (host: String, port: Int)? {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            let isLoopback = host == "::1" || (octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil })
            return isLoopback ? (host, port) : nil
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private var tasks: [Task<Void, any Error>] = []
    public let socket: ControlSocket
    /// Whether this server made the socket file (and so removes it): never one it refused to take over.
    private var ownsSocket = false

    /// Starts serving `mailbox` on `socket` (and `tcp`), and returns once every listener is bound.
    /// `socket.prepare()` has claimed the path and cleared the way; the socket is made 0600 (0660
    /// with a group) and root's, and `socket.secure()` (with the privilege to) gives it to its group.
    public init(mailbox: ControlMailbox, socket: ControlSocket, tcp: TCPListener?) throws {
        self.socket = socket
        group = MultiThreadedEventLoopGroup.singleton
        let api = ControlAPI(mailbox: mailbox, control: socket.path)
        do {
            let mask = umask(socket.creationMask)
            defer { umask(mask) }
            try start(.unixDomainSocket(path: socket.path), "the control socket \(socket.path)") { request in
                await api.respond(to: request)
            }
            ownsSocket = true
            if let tcp {
                try start(.hostname(tcp.host, port: tcp.port), "--listen \(tcp.host):\(tcp.port)") { request in
                    guard Self.tokensMatch(request.headers[.authorization], token: tcp.token) else {
                        var response = ControlAPI.error(.init(status: .unauthorized, message: "missing or wrong token: send Authorization: Bearer <the --token-file's token>"))
                        response.headers[.wwwAuthenticate] = "Bearer"
                        return response
                    }
                    return await api.respond(to: request)
                }
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Stops serving and removes the socket file.
    public func stop() {
        for task in tasks { task.cancel() }
        let finished = DispatchSemaphore(value: 0)
        let waiting = tasks
        Task.detached {
            for task in waiting { _ = await task.result }
            finished.signal()
        }
        _ = finished.wait(timeout: .now() + 5)
        tasks = []
        if ownsSocket { socket.remove() }
    }

    /// Slow or idle clients are cut off after this long; at most `maximumConnections` are served at once.
    static let idleTimeout = TimeAmount.seconds(30)
    static let maximumConnections = 64

    /// The servers' own log: only what is critical (a cancelled connection at the stop is not).
    private static let quietLogger: Logger = {
        var logger = Logger(label: "netfault.control")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `work` on one of the API's threads: where `ControlMailbox` resumes a request.
    public static let apiThread: @Sendable (@escaping @Sendable () -> Void) -> Void = { work in
        MultiThreadedEventLoopGroup.singleton.any().execute(work)
    }

    /// How a listener's start went.
    private enum Binding: Sendable {
        case waiting, bound, failed(String)
    }

    /// Runs one Hummingbird server on `address` and waits until it is bound (or failed to bind).
    private func start(_ address: BindAddress, _ what: String, _ respond: @escaping @Sendable (Request) async -> Response) throws {
        let binding = Mutex(Binding.waiting)
        let settled = DispatchSemaphore(value: 0)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in await respond(request) }
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: .init(address: address, serverName: "netfault",
                                 availableConnectionsDelegate: MaximumAvailableConnections(Self.maximumConnections)),
            onServerRunning: { _ in
                binding.withLock { $0 = .bound }
                settled.signal()
            },
            eventLoopGroupProvider: .shared(group),
            logger: Self.quietLogger
        )
        tasks.append(Task.detached {
            var failure = "it stopped"
            do { try await app.run() } catch { failure = "\(error)" }
            binding.withLock { if case .waiting = $0 { $0 = .failed(failure) } }
            settled.signal()
        })
        _ = settled.wait(timeout: .now() + 10)
        switch binding.withLock({ $0 }) {
        case .bound: return
        case .failed(let error): throw ControlServerError(message: "cannot serve \(what): \(error)")
        case .waiting: throw ControlServerError(message: "cannot serve \(what): not listening after 10 s")
        }
    }

    /// Whether an `Authorization` header carries `token`.
    static func tokensMatch(_ header: String?, token: String) -> Bool {
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.dropFirst(7).utf8)
        let expected = Array(token.utf8)
        // Compared in constant time: how long a wrong token took tells nothing of the right one.
        var difference = given.count ^ expected.count
        for index in 0..<max(given.count, expected.count) {
            difference |= Int((index < given.count ? given[index] : 0) ^ (index < expected.count ? expected[index] : 0))
        }
        return difference == 0
    }
}

public struct ControlServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
