import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The client side of the control API, for `netfault ctl`: one request to a running netfault, on
/// its Unix socket or its loopback TCP port, through AsyncHTTPClient.
public struct ControlClient: Sendable {
    public enum Address: Sendable {
        case socket(String)
        /// `http://127.0.0.1:PORT`, with the token of `--token-file`.
        case url(String, token: String)

        public var description: String {
            switch self {
            case .socket(let path): return path
            case .url(let url, _): return url
            }
        }
    }

    /// What netfault answered.
    public struct Answer: Sendable {
        public var status: Int
        public var body: String
    }

    /// No netfault answered at `address`.
    public struct NotAnswering: Error, CustomStringConvertible {
        public var address: String
        public var reason: String
        public var description: String { "no netfault answers on \(address): \(reason)" }
    }

    public let address: Address

    public init(_ address: Address) { self.address = address }

    /// Sends one request; `path` includes any query.
    public func send(_ method: HTTPMethod, _ path: String, body: String? = nil, accept: String? = nil,
                     timeout: TimeAmount = .seconds(30)) async throws -> Answer {
        var request: HTTPClientRequest
        switch address {
        case .socket(let socket):
            guard FileManager.default.fileExists(atPath: socket) else {
                throw NotAnswering(address: socket, reason: "the socket does not exist (is netfault running? name its socket with --control, or its queue with --queue)")
            }
            guard let url = URL(httpURLWithSocketPath: socket, uri: path) else {
                throw NotAnswering(address: socket, reason: "not a usable socket path")
            }
            request = HTTPClientRequest(url: url.absoluteString)
        case .url(let base, let token):
            request = HTTPClientRequest(url: base.trimmingSuffix("/") + path)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        request.method = method
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/yaml")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch let error as IOError {
            throw NotAnswering(address: address.description, reason: "\(error.errnoCode == ECONNREFUSED ? "nothing listens there (a netfault that died?)" : String(cString: strerror(error.errnoCode)))")
        } catch {
            throw NotAnswering(address: address.description, reason: "\(error)")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes))
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
