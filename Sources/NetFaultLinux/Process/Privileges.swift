#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import Foundation

/// Least privilege: once the queue is bound, the raw sockets are open and the hooks are in place,
/// netfault keeps only CAP_NET_ADMIN (to remove its hooks, through iptables-restore) and
/// CAP_NET_RAW (to inject), and can give up root for another user.
public enum Privileges {
    public static let netAdmin: Int32 = 12  // CAP_NET_ADMIN
    public static let netRaw: Int32 = 13  // CAP_NET_RAW
    static let setgid: Int32 = 6  // CAP_SETGID
    static let setuid: Int32 = 7  // CAP_SETUID
    static let kept: UInt64 = (1 << UInt64(netAdmin)) | (1 << UInt64(netRaw))

    /// Drops every other capability from the bounding set and from this process's sets; with `user`
    /// (a name or numeric id), switches to that user and group first, keeping the two capabilities,
    /// which also pass to the programs netfault starts (ambient) so iptables-restore still works.
    public static func keepOnlyNetworkAdministration(user: String? = nil) throws(SystemError) {
        try dropFromBoundingSet()
        if let user {
            // glibc switches every thread of the process; the control API's kept just the right to
            // (`giveUpAllInThisThread(keepingUserSwitch:)`) and lose it with the switch.
            let (uid, gid) = try lookUp(user)
            try syscall("keeping capabilities across the switch to \(user)", "prctl(PR_SET_KEEPCAPS)") { netfault_prctl(PR_SET_KEEPCAPS, 1, 0) }
            try syscall("dropping supplementary groups", "setgroups") { setgroups(0, nil) }
            try syscall("switching to group \(gid)", "setresgid") { setresgid(gid, gid, gid) }
            try syscall("switching to user \(user)", "setresuid") { setresuid(uid, uid, uid) }
        }
        try syscall("keeping CAP_NET_ADMIN and CAP_NET_RAW only", "capset") { netfault_capset(kept) }
        for capability in [netAdmin, netRaw] {
            try syscall("passing capability \(capability) to iptables-restore", "prctl(PR_CAP_AMBIENT_RAISE)") {
                netfault_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt(capability))
            }
        }
        try syscall("forbidding new privileges", "prctl(PR_SET_NO_NEW_PRIVS)") { netfault_prctl(PR_SET_NO_NEW_PRIVS, 1, 0) }
    }

    /// For a thread that needs no privilege (the control API's): capabilities are a thread's own,
    /// so each such thread gives up every one itself, and narrows its bounding set as
    /// `keepOnlyNetworkAdministration` does. Call it in each such thread before that call.
    /// `keepingUserSwitch`: keep CAP_SETUID and CAP_SETGID until `keepOnlyNetworkAdministration`
    /// switches every thread to `--user` (glibc aborts the process when one thread may not
    /// follow); the switch itself clears them, since these threads do not keep capabilities.
    public static func giveUpAllInThisThread(keepingUserSwitch: Bool = false) throws(SystemError) {
        do {
            try dropFromBoundingSet()
        } catch where error.errno == EPERM {
            // Without CAP_SETPCAP (netfault not run as root): nothing in the bounding set can be
            // gained anyway once no-new-privileges is set below.
        }
        let userSwitch: UInt64 = (1 << UInt64(setgid)) | (1 << UInt64(setuid))
        try syscall("giving up every capability in a thread of the control API", "capset") { netfault_capset_own(keepingUserSwitch ? userSwitch : 0) }
        try syscall("forbidding new privileges", "prctl(PR_SET_NO_NEW_PRIVS)") { netfault_prctl(PR_SET_NO_NEW_PRIVS, 1, 0) }
    }

    /// Drops every capability but CAP_NET_ADMIN and CAP_NET_RAW from this thread's bounding set.
    private static func dropFromBoundingSet() throws(SystemError) {
        let last = lastCapability()
        // Only what is still there: under a service manager that already narrowed the bounding set
        // (and withheld CAP_SETPCAP), there is nothing left to drop.
        for capability in 0...last where capability != netAdmin && capability != netRaw
            && netfault_prctl(PR_CAPBSET_READ, UInt(capability), 0) == 1 {
            if netfault_prctl(PR_CAPBSET_DROP, UInt(capability), 0) != 0 {
                throw SystemError("dropping capability \(capability)", call: "prctl(PR_CAPBSET_DROP)", errno: errno)
            }
        }
    }

    /// Names the calling thread for the kernel (`/proc/PID/task/TID/comm`: 15 characters kept).
    public static func nameThisThread(_ name: String) {
        netfault_name_thread(name)
    }

    /// Gives this thread 1 ns of timer slack (prctl PR_SET_TIMERSLACK; the default is 50 µs), so
    /// that its timed waits end when asked. Best effort: a kernel that refuses leaves the default.
    static func tightenTimerSlack() {
        _ = netfault_prctl(PR_SET_TIMERSLACK, 1, 0)
    }

    /// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
    static func lastCapability() -> Int32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 40
    }

    /// Whether `user` (a name or numeric id) exists.
    public static func userExists(_ user: String) -> Bool { (try? lookUp(user)) != nil }

    /// The user's uid and primary gid, by name or number.
    static func lookUp(_ user: String) throws(SystemError) -> (uid_t, gid_t) {
        if let entry = getpwnam(user) { return (entry.pointee.pw_uid, entry.pointee.pw_gid) }
        if let number = UInt32(user), let entry = getpwuid(number) { return (entry.pointee.pw_uid, entry.pointee.pw_gid) }
        throw SystemError("looking up user \(user)", call: "getpwnam", errno: ENOENT, hint: "no such user")
    }
}
