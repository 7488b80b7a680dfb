#if canImport(Glibc)
import Glibc
#endif

/// A failed system call or external command, with what was being done, the call, and the errno:
/// `binding queue 3: nfqnl config: Operation not permitted (EPERM) — run as root or with CAP_NET_ADMIN`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var doing: String
    public var call: String
    public var errno: Int32
    public var hint: String?

    public init(_ doing: String, call: String, errno: Int32, hint: String? = nil) {
        self.doing = doing
        self.call = call
        self.errno = errno
        self.hint = hint ?? Self.defaultHint(errno)
    }

    public var description: String {
        var text = "\(doing): \(call): \(String(cString: strerror(errno)))"
        if let name = Self.names[errno] { text += " (\(name))" }
        if let hint { text += " — \(hint)" }
        return text
    }

    static func defaultHint(_ errno: Int32) -> String? {
        switch errno {
        case EPERM, EACCES: return "run as root or with CAP_NET_ADMIN and CAP_NET_RAW"
        default: return nil
        }
    }

    static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM",
        EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL", ENOBUFS: "ENOBUFS",
        EPROTONOSUPPORT: "EPROTONOSUPPORT", EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE",
        EMSGSIZE: "EMSGSIZE", ENETUNREACH: "ENETUNREACH", EHOSTUNREACH: "EHOSTUNREACH", ENOTSUP: "EOPNOTSUPP",
    ]
}
