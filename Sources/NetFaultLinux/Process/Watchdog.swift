#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A separate process that removes netfault's hooks when netfault cannot: when it dies (SIGKILL,
/// a crash: its end of the heartbeat pipe closes) and when it stops answering (SIGSTOP, a hang: no
/// heartbeat for `stall`). Traffic then passes again; nobody has to run `netfault cleanup`.
///
/// It starts before the first hook goes in, so no moment of a run has hooks without a watchdog.
/// The heartbeat arrives on standard input: `h` every quarter second (the stall clock starts at the
/// first: installing thousands of iptables rules may take seconds), `s` when netfault begins an
/// orderly stop (from then on it may take as long as releasing held packets takes), `d` once
/// netfault removed its hooks itself. The watchdog removes the hooks on every other end: killed
/// before the first heartbeat, during the run, or in the middle of its stop.
public struct Watchdog {
    public static let heartbeat: UInt8 = UInt8(ascii: "h")
    public static let stopping: UInt8 = UInt8(ascii: "s")
    public static let removed: UInt8 = UInt8(ascii: "d")

    /// Where the watchdog finds its copy of the socket that owns netfault's nftables tables.
    public static let ownerSocketDescriptor: Int32 = 3

    public let queue: UInt16
    public let stallMilliseconds: Int32
    /// The inherited owner socket; nil when netfault's hooks are iptables chains.
    public let ownerSocket: Int32?
    private let log: (String) -> Void

    public init(queue: UInt16, stallMilliseconds: Int32, ownerSocket: Int32?, log: @escaping (String) -> Void) {
        self.queue = queue
        self.stallMilliseconds = stallMilliseconds
        self.ownerSocket = ownerSocket
        self.log = log
    }

    /// Watches standard input until netfault is gone. Returns what happened.
    public func run() -> String {
        // Ctrl-C and the like are for netfault, which stops in order; the watchdog only follows it.
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { Glibc.signal(signal, SIG_IGN) }
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        var beating = false
        var stopping = false
        var hooksRemoved = false
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let ready = retryingInterrupts { poll(&descriptor, 1, beating && !stopping ? stallMilliseconds : -1) }
            if ready < 0 {
                return remove(because: "the heartbeat could not be watched (\(String(cString: strerror(errno))))")
            }
            if ready == 0 {
                return remove(because: "netfault gave no sign of life for \(stallMilliseconds) ms (stopped or hung)")
            }
            let count = read(0, &buffer, buffer.count)
            if count <= 0 {
                if hooksRemoved { return "netfault stopped" }
                return remove(because: stopping ? "netfault ended in the middle of its stop" : "netfault ended without removing its hooks")
            }
            let received = buffer[0..<count]
            if received.contains(Self.heartbeat) { beating = true }
            if received.contains(Self.stopping) { stopping = true }
            if received.contains(Self.removed) { hooksRemoved = true }
        }
    }

    /// Removes netfault's iptables chains for the queue, once every iptables-restore netfault
    /// started has ended: one killed with netfault while installing is not killed with it (it runs
    /// in a process group of its own) and commits after. Removing before it would leave its chain;
    /// removing again later could take the chain of a netfault started since.
    private func removeChains() throws -> Bool {
        // At most a minute: ten thousand rules take a few seconds.
        var waited = 0
        while waited < 1200, RestoreHelpers.runningInThisSession() {
            usleep(50_000)
            waited += 1
        }
        return try IptablesHooks().remove(queue: queue) > 0
    }

    private func remove(because reason: String) -> String {
        do {
            let removed: Bool
            if let ownerSocket {
                try NftHookTables.remove(queue: queue, throughInherited: ownerSocket)
                removed = true
            } else {
                removed = try removeChains()
            }
            let text = "\(reason): \(removed ? "removed the hooks of queue \(queue); traffic passes" : "no hooks were left")"
            log("netfault watchdog: \(text)")
            return text
        } catch {
            log("netfault watchdog: \(reason), and removing the hooks failed: \(error) — run `netfault cleanup --queue \(queue)`")
            return "\(reason); removing the hooks failed"
        }
    }
}

/// This program's own path (/proc/self/exe): for starting itself again, as the watchdog or, in the
/// demo's lab, as `netfault apply`.
public func ownExecutablePath() throws(SystemError) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { throw SystemError("finding netfault's own path", call: "readlink(/proc/self/exe)", errno: errno) }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
