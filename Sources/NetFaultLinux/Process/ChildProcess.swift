#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// The command `netfault run` wraps: spawned with the stop signals unblocked and at their default
/// actions (netfault itself blocks them for its signalfd), watched through a pidfd that becomes
/// readable when it exits.
public final class ChildProcess {
    /// How the command ended.
    public enum Exit: Equatable, Sendable, CustomStringConvertible {
        case status(Int32)
        case signal(Int32)

        /// The shell's convention: the status, or 128 + the signal.
        public var shellStatus: Int32 {
            switch self {
            case .status(let code): return code
            case .signal(let number): return 128 + number
            }
        }

        public var description: String {
            switch self {
            case .status(let code): return "exited with status \(code)"
            case .signal(let number): return "was killed by signal \(number) (\(String(cString: strsignal(number))))"
            }
        }
    }

    public let pid: pid_t
    public let command: [String]
    /// Readable once the process has exited.
    let pidDescriptor: Int32
    public private(set) var exit: Exit?

    /// Starts `command` (looked up in PATH), inheriting standard input, output and error unless
    /// `descriptors` maps them elsewhere (child descriptor → parent descriptor); `ownProcessGroup`
    /// keeps the terminal's Ctrl-C from reaching it. netfault's own descriptors are close-on-exec;
    /// with `closingOthers` (for netfault's own helpers) the child gets nothing beyond standard
    /// error but what `descriptors` names, whatever the parent has open.
    public init(_ command: [String], descriptors: [Int32: Int32] = [:], closingOthers: Bool = false,
                ownProcessGroup: Bool = false) throws(SystemError) {
        precondition(!command.isEmpty, "a command to run")
        self.command = command
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in StopSignals.signals + [SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                                       | (ownProcessGroup ? POSIX_SPAWN_SETPGROUP : 0)))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copy only: the parent's stays as it was.
        for (child, parent) in descriptors.sorted(by: { $0.key < $1.key }) { posix_spawn_file_actions_adddup2(&actions, parent, child) }
        if closingOthers { posix_spawn_file_actions_addclosefrom_np(&actions, max(2, descriptors.keys.max() ?? 2) + 1) }

        var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, command[0], &actions, &attributes, &arguments, environ)
        guard result == 0 else {
            throw SystemError("starting \(command[0])", call: "posix_spawnp", errno: result,
                              hint: result == ENOENT ? "no such command in PATH" : nil)
        }
        pid = child
        let descriptor = pidfd_open(child, 0)
        guard descriptor >= 0 else {
            let error = errno
            Glibc.kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
            throw SystemError("watching \(command[0])", call: "pidfd_open", errno: error)
        }
        pidDescriptor = descriptor
    }

    deinit { close(pidDescriptor) }

    /// Passes a signal on to the command.
    public func forward(_ signal: Int32) {
        if exit == nil { Glibc.kill(pid, signal) }
    }

    /// Reaps the command if it has exited; its exit afterwards.
    @discardableResult
    public func reap() -> Exit? {
        if exit != nil { return exit }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (macros).
        if status & 0x7f == 0 {
            exit = .status((status >> 8) & 0xff)
        } else {
            exit = .signal(status & 0x7f)
        }
        return exit
    }

    /// Waits for the command to exit.
    public func wait() -> Exit {
        while true {
            if let exit = reap() { return exit }
            var ready = pollfd(fd: pidDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&ready, 1, -1)
        }
    }

    /// Kills the command and waits for it (a stop that cannot wait for it to finish).
    public func kill() {
        guard reap() == nil else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        if waitpid(pid, &status, 0) == pid { exit = .signal(SIGKILL) }
    }
}
