#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore

/// Where netfault's diversion lives: nftables owner tables when the kernel has them (the kernel
/// removes them if netfault dies), otherwise iptables chains (the watchdog or `netfault cleanup`
/// removes those).
public enum HookBackend: String, Sendable, CaseIterable {
    /// Owner tables where the kernel supports them, iptables otherwise.
    case auto
    /// Owner tables or nothing.
    case nftables
    /// iptables chains even where owner tables would work.
    case iptables
}

/// The hooks of one run, as installed.
enum InstalledHooks {
    case ownerTables(NftHookTables)
    case iptables(IptablesHooks, queue: UInt16)

    /// Installs `plan` with `backend` (`log` hears which was used and why), and starts the watchdog
    /// with `startWatchdog` so that no hook ever stands without it: before the first iptables rule
    /// (a chain outlives netfault), or right after the owner tables, whose socket it must inherit
    /// (until it does, the tables die with netfault). A refusal undoes what was done and throws.
    static func install(_ plan: DiversionPlan, backend: HookBackend, log: (String) -> Void,
                        startWatchdog: (_ ownerSocket: Int32?) throws -> WatchdogLink) throws -> (InstalledHooks, WatchdogLink) {
        let iptables = IptablesHooks()
        // A chain left by an earlier iptables run would queue every packet a second time. It is
        // refused before the watchdog starts: the watchdog removes what is installed for the queue.
        let chains = (try? iptables.installedQueues()) ?? []
        if chains.contains(plan.queue) { throw IptablesHooks.staleChain(queue: plan.queue) }
        if let warning = otherNetfaultsWarning(queue: plan.queue, chains: chains) { log(warning) }
        if backend != .iptables {
            do {
                let tables = try NftHookTables(plan)
                log("netfault: hooks in nftables table \(NftDiversion.tableName(queue: plan.queue)) (owner flag: the kernel removes it if netfault dies)")
                do {
                    return (.ownerTables(tables), try startWatchdog(tables.socketDescriptor))
                } catch {
                    _ = try? tables.remove()
                    throw error
                }
            } catch let unavailable as NftHookTables.Unavailable where backend == .auto {
                log("netfault: \(unavailable); falling back to iptables chain \(IptablesRules.chainName(queue: plan.queue)), which the watchdog or `netfault cleanup` removes if netfault dies")
            }
        }
        let watchdog = try startWatchdog(nil)
        do {
            try iptables.install(IptablesRules(plan))
        } catch {
            // Removed here, the watchdog is told so; otherwise it tries once more as it ends.
            if (try? iptables.remove(queue: plan.queue)) != nil { watchdog.hooksRemoved() }
            watchdog.finish()
            throw error
        }
        if backend == .iptables { log("netfault: hooks in iptables chain \(IptablesRules.chainName(queue: plan.queue)) (--hooks iptables)") }
        return (.iptables(iptables, queue: plan.queue), watchdog)
    }

    /// Another netfault's hooks in this namespace see the same packets as this one's wherever
    /// their filters meet: each queues them in turn, so their delays and drops add up, silently.
    private static func otherNetfaultsWarning(queue: UInt16, chains: [UInt16]) -> String? {
        let tables = Set(((try? NftHookTables.installed()) ?? []).map(\.queue))
        let others = (chains.map { ($0, "iptables chain \(IptablesRules.chainName(queue: $0))") }
            + tables.map { ($0, "nftables table \(NftDiversion.tableName(queue: $0))") })
            .filter { $0.0 != queue }.sorted { $0.0 < $1.0 }
        guard !others.isEmpty else { return nil }
        return "netfault: warning: another netfault diverts traffic in this network namespace (\(others.map { "queue \($0.0), \($0.1)" }.joined(separator: "; "))): "
            + "a packet both divert goes through each in turn, and their delays and drops add up"
    }

    /// Diverts `plan`'s traffic from now on (its queue and hooks are this run's): one nftables
    /// transaction, or one iptables-restore per family. Returns the diverted packets counted by
    /// rules that went (iptables), to add to the count at the stop; on a refusal nothing changed
    /// (nftables), or the families changed were put back (iptables).
    func replaceFilters(with plan: DiversionPlan, previous: DiversionPlan) throws -> Int {
        switch self {
        case .ownerTables(let tables):
            try tables.replaceFilters(with: plan)
            return 0
        case .iptables(let installer, _):
            return try installer.replaceFilters(with: IptablesRules(plan), previous: IptablesRules(previous))
        }
    }

    /// The packets diverted so far, while the hooks stand; nil with iptables (reading its counters
    /// means running iptables-save) or when they cannot be read.
    func divertedSoFar() -> Int? {
        if case .ownerTables(let tables) = self { return try? tables.divertedPackets() }
        return nil
    }

    /// The descriptor a watchdog must inherit to remove the hooks itself; nil for iptables.
    var ownerSocket: Int32? {
        if case .ownerTables(let tables) = self { return tables.socketDescriptor }
        return nil
    }

    /// Stops diverting: from here on no packet enters the queue and the count of diverted packets
    /// is final, but the hooks stay registered, so the kernel keeps the packets already queued or
    /// held until netfault gives them their verdicts. Then `removeCounting`.
    func detach() throws {
        switch self {
        case .ownerTables(let tables): try tables.detach()
        case .iptables(let installer, let queue): try installer.detach(queue: queue)
        }
    }

    /// After `detach` and the last verdicts: the count of diverted packets, then the hooks removed.
    /// The count is nil when the hooks were gone already (the watchdog removed them).
    func removeCounting() throws -> Int? {
        switch self {
        case .ownerTables(let tables):
            let diverted: Int?
            do {
                diverted = try tables.divertedPackets()
            } catch let error as SystemError where error.errno == ENOENT {
                diverted = nil
            }
            try tables.remove()
            return diverted
        case .iptables(let installer, let queue):
            return try installer.removeCounting(queue: queue).diverted
        }
    }

    /// What to tell the user when removing the hooks failed.
    var leftoverAdvice: String {
        switch self {
        case .ownerTables: return "the kernel removes them when netfault exits"
        case .iptables(_, let queue): return "run `netfault cleanup --queue \(queue)`"
        }
    }

    /// Removes the hooks after a failed start; errors are the caller's to ignore.
    func remove() throws {
        switch self {
        case .ownerTables(let tables): try tables.remove()
        case .iptables(let installer, let queue): try installer.remove(queue: queue)
        }
    }
}
