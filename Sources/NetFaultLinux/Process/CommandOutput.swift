#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue

/// What an external command (ip, iptables-restore...) left: its status and both output streams.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var output: String
    public var errors: String

    /// The last line the command wrote to standard error (what failed, for most tools), or nil.
    public var lastErrorLine: String? {
        errors.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Runs `command` (a path, or a name looked up in PATH) to its end, with `input` on its standard
    /// input, in a process group of its own. Input is written and both outputs are read in one
    /// poll loop, so a child that fills one pipe while netfault waits on another cannot hang
    /// either. Plain system calls, no run loop:
    /// this works in a namespace whose loopback is down, where Foundation's `Process` hangs.
    public static func of(_ command: [String], input: String? = nil) throws(SystemError) -> CommandOutput {
        let doing = "running \(command[0])"
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        // A socket, not a pipe, for standard input: send(MSG_NOSIGNAL) to a child that stopped
        // reading fails with EPIPE instead of killing netfault with SIGPIPE.
        var inputEnds: [Int32] = [-1, -1]
        defer { for descriptor in output + errors + inputEnds where descriptor >= 0 { close(descriptor) } }
        try syscall(doing, "pipe2") { pipe2(&output, O_CLOEXEC) }
        try syscall(doing, "pipe2") { pipe2(&errors, O_CLOEXEC) }
        try syscall(doing, "socketpair(AF_UNIX)") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &inputEnds)
        }
        // A process group of its own: a second Ctrl-C, or `timeout` signalling netfault's group,
        // must not kill iptables-restore halfway through removing the hooks.
        let child = try ChildProcess(command, descriptors: [0: inputEnds[0], 1: output[1], 2: errors[1]], closingOthers: true,
                                     ownProcessGroup: true)
        // The child's ends are the child's now: an end left open here would never report EOF.
        close(inputEnds[0])
        inputEnds[0] = -1
        close(output[1])
        output[1] = -1
        close(errors[1])
        errors[1] = -1

        var pending = Array((input ?? "").utf8)[...]
        if pending.isEmpty { shutdown(inputEnds[1], Int32(SHUT_WR)) }
        var collected: [Int32: [UInt8]] = [output[0]: [], errors[0]: []]
        var open = [output[0], errors[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if !pending.isEmpty { descriptors.append(pollfd(fd: inputEnds[1], events: Int16(POLLOUT), revents: 0)) }
            try waitForEvents(&descriptors, timeoutMilliseconds: -1, doing)
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == inputEnds[1] {
                    let sent = retryingInterrupts { pending.withUnsafeBytes { send(descriptor.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) } }
                    if sent > 0 { pending = pending.dropFirst(sent) }
                    // A child that exits without reading all its input: its status says how that went.
                    if sent < 0, errno != EAGAIN { pending = [] }
                    if pending.isEmpty { shutdown(descriptor.fd, Int32(SHUT_WR)) }
                    continue
                }
                let count = retryingInterrupts { buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) } }
                if count > 0 {
                    collected[descriptor.fd]! += buffer[0..<count]
                } else if count == 0 || errno != EAGAIN {
                    open.removeAll { $0 == descriptor.fd }
                }
            }
        }
        let exit = child.wait()
        return CommandOutput(status: exit.shellStatus, output: String(decoding: collected[output[0]]!, as: UTF8.self),
                             errors: String(decoding: collected[errors[0]]!, as: UTF8.self))
    }
}
