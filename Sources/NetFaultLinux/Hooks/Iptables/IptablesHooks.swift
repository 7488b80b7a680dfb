import Foundation
import NetFaultCore

/// Installs and removes `IptablesRules` with iptables-restore/ip6tables-restore (`--noflush`: one
/// transaction each, nothing else in the tables touched). Debian's iptables is iptables-nft; the
/// NFQUEUE target reaches the kernel through nft's xtables compatibility layer.
public struct IptablesHooks: Sendable {
    public init() {}

    static func tool(_ family: IPAddress.Family, _ suffix: String) -> String {
        (family == .v4 ? "iptables" : "ip6tables") + suffix
    }

    /// Installs the diversion for every family the rules need. Refuses when netfault's chain for
    /// the queue is already there (a controller killed without cleanup), and installs nothing then.
    public func install(_ rules: IptablesRules) throws {
        for family in [IPAddress.Family.v4, .v6] where IptablesRules.isInstalled(queue: rules.queue, saved: try save(family)) {
            throw Self.staleChain(queue: rules.queue)
        }
        do {
            for family in rules.families {
                try run(Self.tool(family, "-restore"), ["--noflush"], input: rules.installScript(for: family),
                        doing: "installing hooks for queue \(rules.queue)")
            }
        } catch {
            // One family may be installed already: nothing of this run's may stay behind.
            _ = try? remove(queue: rules.queue)
            throw error
        }
    }

    /// Replaces the chain's filters, `previous`' now, with `rules`' in each family (one
    /// transaction per family; a family that fails after another changed puts that one back).
    /// Returns the packets the replaced rules had diverted: their counters go with them. Packets
    /// counted between that reading and the replacement, a few at most, are not.
    public func replaceFilters(with rules: IptablesRules, previous: IptablesRules) throws -> Int {
        var diverted = 0
        var changed: [IPAddress.Family] = []
        do {
            for family in rules.families {
                diverted += IptablesRules.divertedPackets(queue: rules.queue, savedWithCounters: try save(family, counters: true))
                try run(Self.tool(family, "-restore"), ["--noflush"], input: rules.replaceFiltersScript(for: family),
                        doing: "changing the diverted traffic of queue \(rules.queue)")
                changed.append(family)
            }
        } catch {
            for family in changed {
                _ = try? run(Self.tool(family, "-restore"), ["--noflush"], input: previous.replaceFiltersScript(for: family),
                             doing: "putting back the diverted traffic of queue \(rules.queue)")
            }
            throw error
        }
        return diverted
    }

    /// The refusal to start over the chain a killed netfault left for `queue`.
    static func staleChain(queue: UInt16) -> CommandError {
        CommandError(doing: "installing hooks for queue \(queue)", command: "iptables-save", status: 0,
                     output: "chain \(IptablesRules.chainName(queue: queue)) is already installed, left by a netfault that did not stop cleanly; run `netfault cleanup --queue \(queue)` first")
    }

    /// Removes netfault's chain for `queue` and every jump to it, in both families. Returns how
    /// many families had something to remove.
    @discardableResult
    public func remove(queue: UInt16) throws -> Int {
        try removeCounting(queue: queue).families
    }

    /// Removes the hooks in two steps per family, the jumps first, so that the chain's counters are
    /// final when read: how many packets the hooks sent to the queue over the whole run.
    public func removeCounting(queue: UInt16) throws -> (families: Int, diverted: Int) {
        var removed = 0
        var diverted = 0
        var firstError: Error?
        for family in [IPAddress.Family.v4, .v6] {
            do {
                try detach(queue: queue, family: family)
                diverted += IptablesRules.divertedPackets(queue: queue, savedWithCounters: try save(family, counters: true))
                if let script = IptablesRules.removalScript(queue: queue, saved: try save(family)) {
                    try run(Self.tool(family, "-restore"), ["--noflush"], input: script, doing: "removing hooks for queue \(queue)")
                    removed += 1
                }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return (removed, diverted)
    }

    /// Removes the jumps to netfault's chain for `queue` in both families: nothing is diverted any
    /// more and the chain's counters are final; the chain goes with `removeCounting`.
    public func detach(queue: UInt16) throws {
        for family in [IPAddress.Family.v4, .v6] { try detach(queue: queue, family: family) }
    }

    private func detach(queue: UInt16, family: IPAddress.Family) throws {
        if let script = IptablesRules.detachScript(queue: queue, saved: try save(family)) {
            try run(Self.tool(family, "-restore"), ["--noflush"], input: script, doing: "removing hooks for queue \(queue)")
        }
    }

    /// The queues that have a netfault chain installed, in either family.
    public func installedQueues() throws -> [UInt16] {
        var queues = Set<UInt16>()
        for family in [IPAddress.Family.v4, .v6] {
            for line in try save(family).split(separator: "\n") where line.hasPrefix(":NETFAULT-") {
                let name = line.dropFirst(":NETFAULT-".count).prefix { $0.isNumber }
                if let queue = UInt16(name) { queues.insert(queue) }
            }
        }
        return queues.sorted()
    }

    /// The mangle table as iptables-save prints it, with `[packets:bytes]` before each rule if `counters`.
    public func save(_ family: IPAddress.Family, counters: Bool = false) throws -> String {
        try run(Self.tool(family, "-save"), ["-t", "mangle"] + (counters ? ["-c"] : []), input: nil, doing: "reading the firewall")
    }

    @discardableResult
    private func run(_ tool: String, _ arguments: [String], input: String?, doing: String) throws -> String {
        let result: CommandOutput
        do {
            result = try CommandOutput.of(["/usr/sbin/\(tool)"] + arguments, input: input)
        } catch {
            throw CommandError(doing: doing, command: tool, status: -1, output: "cannot start /usr/sbin/\(tool): \(error) (Scripts/setup installs iptables)")
        }
        guard result.status == 0 else {
            throw CommandError(doing: doing, command: ([tool] + arguments).joined(separator: " "), status: result.status, output: result.errors)
        }
        return result.output
    }
}
