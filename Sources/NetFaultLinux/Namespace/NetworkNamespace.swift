#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// The calling thread's network namespace, switched to a `--netns` target and back. A namespace
/// is a thread's own: every socket netfault opens, every process it starts (the watchdog,
/// iptables-restore) and every thread it starts belongs to the namespace of the thread that made
/// it, so the controller's thread enters the target before it binds a queue or installs a hook,
/// and returns to the caller's only to start `run`'s command.
public final class NetworkNamespace {
    /// CLONE_NEWNET, declared by <sched.h> only under _GNU_SOURCE.
    static let cloneNewNet: Int32 = 0x4000_0000

    public let target: ResolvedNamespace
    private let targetDescriptor: Int32
    private let callerDescriptor: Int32

    /// Enters `target` on the calling thread (needs CAP_SYS_ADMIN); the caller's namespace is kept
    /// open for `inCallersNamespace`.
    public init(entering target: ResolvedNamespace) throws(SystemError) {
        let doing = "entering the network namespace \(target.description)"
        callerDescriptor = try syscall(doing, "open(/proc/thread-self/ns/net)") { open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) }
        do {
            targetDescriptor = try syscall(doing, "open(\(target.path))") { open(target.path, O_RDONLY | O_CLOEXEC) }
        } catch {
            close(callerDescriptor)
            throw error
        }
        self.target = target
        do {
            try syscall(doing, "setns") { setns(targetDescriptor, Self.cloneNewNet) }
        } catch {
            close(targetDescriptor)
            close(callerDescriptor)
            throw error
        }
    }

    deinit {
        close(targetDescriptor)
        close(callerDescriptor)
    }

    /// Runs `body` back in the caller's namespace, then enters the target again: for what must
    /// run where netfault was started (`run`'s command). Needs CAP_SYS_ADMIN still.
    public func inCallersNamespace<Result>(_ body: () throws -> Result) throws -> Result {
        try syscall("returning to the caller's network namespace", "setns") { setns(callerDescriptor, Self.cloneNewNet) }
        let result = Swift.Result { try body() }
        // The stop runs iptables-restore and the like from this thread: it must be back in the target.
        try syscall("entering the network namespace \(target.description) again", "setns") { setns(targetDescriptor, Self.cloneNewNet) }
        return try result.get()
    }
}
