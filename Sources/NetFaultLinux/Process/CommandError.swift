import Foundation

/// An external command (ip, iptables-restore, nft...) that failed: what netfault was doing, the command,
/// its exit status and what it said.
public struct CommandError: Error, CustomStringConvertible, Sendable {
    public var doing: String
    public var command: String
    public var status: Int32
    public var output: String

    public init(doing: String, command: String, status: Int32, output: String) {
        self.doing = doing
        self.command = command
        self.status = status
        self.output = output
    }

    public var description: String {
        let detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return "\(doing): \(command) exited with \(status)\(detail.isEmpty ? "" : ": \(detail)")"
    }
}
