#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// A file netfault writes (the report, the capture), opened before anything is installed, so that
/// a path that cannot be written fails the start, not the end of a run. netfault runs as root:
/// it never follows a symbolic link someone planted there, never opens anything but a regular
/// file (a FIFO would block it, a device would take the data), creates the file readable by its
/// owner only (a capture holds payloads), and with `--user` opens it with that user's rights.
public final class OutputFile {
    public let path: String
    /// What the file is, for messages: "the report file", "the capture file".
    public let role: String
    public private(set) var descriptor: Int32

    /// Opens (creating or truncating) `path` for writing.
    ///
    /// - Parameter user: open it as this user (a name or numeric id): its rights, its ownership.
    public init(path: String, role: String, user: String? = nil) throws(OutputFileError) {
        self.path = path
        self.role = role
        var status = stat()
        if lstat(path, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            if kind == S_IFLNK { throw OutputFileError(path: path, role: role, reason: "is a symbolic link; name the file itself (netfault, running as root, follows no link)") }
            if kind == S_IFDIR { throw OutputFileError(path: path, role: role, reason: "is a directory; name a file in it") }
            if kind != S_IFREG { throw OutputFileError(path: path, role: role, reason: "is not a regular file (a FIFO, a socket or a device); name a regular file") }
        } else if errno == ENOENT {
            let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            var directory = stat()
            if stat(parent.isEmpty ? "/" : parent, &directory) != 0 || directory.st_mode & S_IFMT != S_IFDIR {
                throw OutputFileError(path: path, role: role, reason: "cannot be created: the directory \(parent.isEmpty ? "/" : parent) does not exist")
            }
        }
        let identity: (uid: uid_t, gid: gid_t)?
        do {
            identity = try user.map { name throws(SystemError) in try Privileges.lookUp(name) }
        } catch {
            throw OutputFileError(path: path, role: role, reason: "cannot be opened as user \(user ?? ""): no such user")
        }
        // The file system identity is this thread's own; the next call restores it.
        if let identity {
            _ = setfsgid(identity.gid)
            _ = setfsuid(identity.uid)
        }
        let flags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let opened = retryingInterrupts { open(path, flags, S_IRUSR | S_IWUSR) }
        let openError = errno
        if identity != nil {
            _ = setfsuid(0)
            _ = setfsgid(0)
        }
        guard opened >= 0 else {
            let reason = openError == ELOOP ? "is a symbolic link; name the file itself" : "cannot be opened for writing: \(String(cString: strerror(openError)))"
            throw OutputFileError(path: path, role: role, reason: reason + (user.map { " (as user \($0))" } ?? ""))
        }
        // Swapped for a FIFO or device between the look and the open: refused all the same.
        var opens = stat()
        guard fstat(opened, &opens) == 0, opens.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(opened)
            throw OutputFileError(path: path, role: role, reason: "is not a regular file; name a regular file")
        }
        _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
        descriptor = opened
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// Writes all of `bytes`; a short disk or a size limit is an error that names the file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputFileError) {
        guard let error = Self.writeAll(bytes, to: descriptor) else { return }
        throw OutputFileError(path: path, role: role, reason: "could not be written: \(String(cString: strerror(error)))")
    }

    /// Writes all of `bytes` to `descriptor`; nil once they are written, else the errno.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32? {
        var written = 0
        while written < bytes.count {
            let result = retryingInterrupts { Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written) }
            if result < 0 { return errno }
            written += result
        }
        return nil
    }

    /// Makes sure what was written reached the file system, and closes the file.
    public func close() throws(OutputFileError) {
        guard descriptor >= 0 else { return }
        let descriptor = self.descriptor
        self.descriptor = -1
        let synced = fsync(descriptor) == 0 || errno == EINVAL
        let syncError = errno
        let closed = Glibc.close(descriptor) == 0
        if !synced || !closed {
            throw OutputFileError(path: path, role: role, reason: "could not be written: \(String(cString: strerror(synced ? errno : syncError)))")
        }
    }

    /// Whether `self` and `other` name the same file (or the same path).
    public func isSameFile(as other: String) -> Bool {
        var mine = stat(), theirs = stat()
        guard fstat(descriptor, &mine) == 0, stat(other, &theirs) == 0 else { return false }
        return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino
    }
}

/// A report or capture file netfault cannot use, and why.
public struct OutputFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var role: String
    public var reason: String

    public var description: String { path.isEmpty ? "\(role) \(reason)" : "\(role) \(path) \(reason)" }
}

/// Standard output, for a report written there in chunks (`ReportWriter`): written with write(2)
/// as each chunk comes, and an error thrown, where `print` would lose it.
public enum StandardOutput {
    /// Writes all of `bytes` to standard output, after what `print` buffered.
    public static func write(_ bytes: UnsafeRawBufferPointer) throws(OutputFileError) {
        fflush(nil)
        guard let error = OutputFile.writeAll(bytes, to: STDOUT_FILENO) else { return }
        throw OutputFileError(path: "", role: "standard output", reason: "could not be written: \(String(cString: strerror(error)))")
    }
}
