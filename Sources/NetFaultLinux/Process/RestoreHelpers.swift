#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The iptables-restore and ip6tables-restore processes of this session: netfault's helpers, which
/// it starts in process groups of their own but in its session (the watchdog's too).
enum RestoreHelpers {
    /// Whether any is running: its command name (`comm`, 15 characters) names a restore tool, and
    /// its session is the caller's.
    static func runningInThisSession() -> Bool {
        let session = getsid(0)
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return processes.contains { entry in
            guard let pid = Int32(entry), pid != getpid(),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { return false }
            return isRestore(stat: stat, inSession: session)
        }
    }

    /// Reads `/proc/PID/stat`: `pid (comm) state ppid pgrp session …`, where comm may hold spaces
    /// and parentheses, so the fields after it are found from its last `)`.
    static func isRestore(stat: String, inSession session: pid_t) -> Bool {
        guard let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return false }
        let command = stat[stat.index(after: open)..<close]
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let processSession = pid_t(fields[3]) else { return false }
        return processSession == session && (command.hasPrefix("iptables-resto") || command.hasPrefix("ip6tables-rest"))
    }
}
