#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NetFaultLinux
import Synchronization

/// Where the control API listens: a Unix socket, by default `/run/netfault/<queue>.sock`, or
/// `/run/netfault/<netns>-<queue>.sock` when netfault faults another network namespace than the
/// machine's initial one. 0600 and root's, or 0660 for `--control-group`. A path a live netfault
/// answers on is never taken over; a dead one's socket file is replaced; anything else that is
/// not a socket is left alone and refused.
public struct ControlSocket: Sendable {
    public static let directory = "/run/netfault"

    public let path: String
    /// The group `--control-group` opens the socket to; nil: root only.
    public let group: gid_t?
    /// The path was chosen by netfault, not given with `--control`.
    public let isDefault: Bool

    public init(path: String, group: gid_t?, isDefault: Bool) {
        self.path = path
        self.group = group
        self.isDefault = isDefault
    }

    /// The default socket of `queue`, for the namespace faulted: `namespace` (`--netns`), else
    /// the one netfault runs in.
    public static func defaultPath(queue: UInt16, namespace: ResolvedNamespace?) -> String {
        let tag = namespace.map(Self.tag(for:)) ?? Self.tagOfOwnNamespace()
        return "\(directory)/\(tag.map { "\($0)-" } ?? "")\(queue).sock"
    }

    /// What names a namespace in the default path: its name under /run/netns, else its inode.
    static func tag(for namespace: ResolvedNamespace) -> String {
        if case .named(let name) = namespace.target { return name }
        return namedNamespace(inode: namespace.inode) ?? "netns\(namespace.inode)"
    }

    /// nil in the machine's initial namespace (that of pid 1); otherwise its name or inode.
    static func tagOfOwnNamespace() -> String? {
        var own = stat(), initial = stat()
        guard stat("/proc/self/ns/net", &own) == 0 else { return nil }
        let initialIsReadable = stat("/proc/1/ns/net", &initial) == 0
        if initialIsReadable, own.st_ino == initial.st_ino { return nil }
        // Under `ip netns exec` pid 1's namespace cannot be examined (EACCES), but the namespace
        // has its name under /run/netns: two netfaults in two named namespaces never share a socket.
        if let name = namedNamespace(inode: UInt64(own.st_ino)) { return name }
        // Unreadable and unnamed (not root, or a pid namespace of its own): the initial one, as far as can be told.
        return initialIsReadable ? "netns\(own.st_ino)" : nil
    }

    /// The name under /run/netns of the namespace with `inode`, if it has one.
    static func namedNamespace(inode: UInt64) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return names.sorted().first { name in
            var status = stat()
            return stat("/run/netns/\(name)", &status) == 0 && UInt64(status.st_ino) == inode
        }
    }

    /// The claim on a socket path for the life of the process: an exclusive lock on `PATH.lock`,
    /// so that of two netfaults started on one path at once, one is refused (the server would
    /// otherwise replace the socket file it finds when it binds). Released when it goes, and the
    /// lock file with it: an agent started and stopped for every test leaves no files behind.
    public final class Claim: Sendable {
        private let descriptor: Int32
        private let lockPath: String
        private let released = Atomic<Bool>(false)

        fileprivate init(_ descriptor: Int32, lockPath: String) {
            self.descriptor = descriptor
            self.lockPath = lockPath
        }

        /// Whether `lockPath` still names the file this claim locked (not one made after it went).
        fileprivate var holdsThePath: Bool {
            var held = stat(), named = stat()
            return fstat(descriptor, &held) == 0 && lstat(lockPath, &named) == 0
                && held.st_ino == named.st_ino && held.st_dev == named.st_dev
        }

        /// Gives the path up now, lock file and all; once (later calls, and the deinit, do nothing).
        /// Called at the stop: a reference the API's threads still hold could otherwise outlive the
        /// process's exit, and the lock file with it.
        public func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            // Unlinked while still locked: a netfault that opened it meanwhile finds, once it gets
            // the lock, that the path names no file or another, and tries again.
            if holdsThePath { unlink(lockPath) }
            close(descriptor)
        }

        deinit { release() }
    }

    /// Before binding: makes the default directory (0755), claims the path, and clears the way:
    /// refuses a path a live netfault holds or answers on, or that is not a socket; removes a
    /// dead one's socket.
    public func prepare() throws -> Claim {
        if isDefault { try makeDirectory() }
        for _ in 0..<10 {
            let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard lock >= 0 else { throw refusal("cannot be claimed: \(path).lock: \(String(cString: strerror(errno)))") }
            guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
                close(lock)
                throw refusal("a running netfault answers on it")
            }
            let claim = Claim(lock, lockPath: path + ".lock")
            // Locked just as its last holder removed it: the lock is on a file nobody else sees.
            guard claim.holdsThePath else { continue }
            try clearWay()
            return claim
        }
        throw refusal("cannot be claimed: \(path).lock keeps being replaced")
    }

    private func clearWay() throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            guard errno == ENOENT else { throw refusal("cannot be examined: \(String(cString: strerror(errno)))") }
            return
        }
        guard status.st_mode & S_IFMT == S_IFSOCK else {
            throw refusal("exists and is not a socket; netfault leaves it alone")
        }
        if Self.answers(path) {
            throw refusal("a running netfault answers on it")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw refusal("is a dead netfault's socket and cannot be removed: \(String(cString: strerror(errno)))")
        }
    }

    /// The file mode creation mask the socket is bound under: 0600, or 0660 for `group`.
    var creationMask: mode_t { group == nil ? 0o177 : 0o117 }

    /// After binding (made root's, 0600 or 0660 by `creationMask`): given to `group`, if any,
    /// never through a link planted where the socket was.
    public func secure() throws {
        guard let group else { return }
        guard lchown(path, 0, group) == 0 else {
            throw refusal("cannot be given to group \(group): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else {
            throw refusal("is no longer the socket netfault made")
        }
    }

    /// At the stop: the socket file goes (only if it is still a socket).
    func remove() {
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }

    private func makeDirectory() throws {
        if mkdir(Self.directory, 0o755) == 0 { return }
        guard errno == EEXIST else {
            throw ControlServerError(message: "cannot make \(Self.directory): \(String(cString: strerror(errno))); name another place with --control PATH")
        }
        var status = stat()
        guard lstat(Self.directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw ControlServerError(message: "\(Self.directory) exists and is not a directory (a link?); netfault will not put its socket there; name another place with --control PATH")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func answers(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected == 0
    }

    private func refusal(_ reason: String) -> ControlServerError {
        ControlServerError(message: "the control socket \(path) \(reason)"
            + (isDefault ? "; name another with --control PATH" : ""))
    }
}
