#if canImport(Glibc)
import Glibc
#endif
import NetFaultCore

/// netfault's diversion as nftables owner tables (`NftDiversion`): created over a netlink socket
/// that this object holds for the life of the run, so that the kernel itself removes the tables
/// when netfault goes, however it goes — SIGKILL included (kernel 5.12 and later). The queue
/// rule is the xtables NFQUEUE target through nft's compat layer, which works where nft's native
/// `queue` statement is missing.
public final class NftHookTables {
    /// Why owner tables cannot be used here; netfault then falls back to iptables.
    public struct Unavailable: Error, CustomStringConvertible {
        public var reason: SystemError
        public var description: String { "nftables owner tables are unavailable: \(reason)" }
    }

    private(set) var diversion: NftDiversion
    let socket: NftSocket
    public var queue: UInt16 { diversion.plan.queue }
    /// The socket that owns the tables; a process that inherits it keeps them alive and may remove them.
    public var socketDescriptor: Int32 { socket.descriptor }

    /// The errnos that mean "this kernel cannot": no owner flag (EOPNOTSUPP), no nf_tables or no
    /// compat target (EPROTONOSUPPORT, ENOENT, EAFNOSUPPORT).
    static let unsupported: Set<Int32> = [EOPNOTSUPP, EPROTONOSUPPORT, ENOENT, EAFNOSUPPORT]

    /// Creates the tables in one transaction. Throws `Unavailable` when the kernel lacks what they
    /// need, and an error naming the queue when a table of that queue exists (a running netfault).
    public init(_ plan: DiversionPlan) throws {
        diversion = NftDiversion(plan: plan)
        let doing = "installing hooks for queue \(plan.queue)"
        do {
            socket = try NftSocket(doing: doing)
        } catch {
            if Self.unsupported.contains(error.errno) { throw Unavailable(reason: error) }
            throw error
        }
        let batch = diversion.installBatch(firstSequence: socket.nextSequence(count: 1024))
        do {
            try socket.send(batch, doing: doing)
        } catch {
            if Self.unsupported.contains(error.errno) { throw Unavailable(reason: error) }
            if error.errno == EEXIST {
                var refusal = error
                refusal.hint = "queue \(plan.queue) is diverted by another running netfault (table \(diversion.tableName)); stop it or pick another `queue:`"
                throw refusal
            }
            throw error
        }
    }

    /// Diverts `plan`'s filters from now on instead, in one transaction; the queue and hooks must
    /// be this run's. On a refusal the filters before stay.
    public func replaceFilters(with plan: DiversionPlan) throws {
        precondition(plan.queue == diversion.plan.queue && plan.queues == diversion.plan.queues && plan.hooks == diversion.plan.hooks,
                     "the queues and hooks of a run are fixed")
        let next = NftDiversion(plan: plan)
        try socket.send(next.replaceFiltersBatch(firstSequence: socket.nextSequence(count: 1024)),
                        doing: "changing the diverted traffic of queue \(queue)")
        diversion = next
    }

    /// Removes the hook chains: from here on no packet is queued, and the counters are final.
    public func detach() throws {
        try socket.send(diversion.detachBatch(firstSequence: socket.nextSequence(count: 1024)),
                        doing: "removing hooks for queue \(queue)", tolerating: [ENOENT])
    }

    /// The packets the hooks have sent to the queue so far.
    public func divertedPackets() throws -> Int {
        var total = 0
        for family in diversion.families {
            let dump = try socket.dump(diversion.enqueueRuleRequest(family: family, sequence: socket.nextSequence()),
                                       doing: "reading the hooks' counters for queue \(queue)")
            total += dump.withUnsafeBytes { NftDumps.countedPackets(inRuleDump: $0) }
        }
        return total
    }

    /// Deletes the tables (the kernel would when the socket closes; this is the orderly way).
    public func remove() throws {
        try Self.remove(queue: queue, through: socket)
    }

    static func remove(queue: UInt16, through socket: NftSocket) throws(SystemError) {
        let batch = NftDiversion.deleteBatch(queue: queue, families: [.v4, .v6], firstSequence: socket.nextSequence(count: 16))
        try socket.send(batch, doing: "removing hooks for queue \(queue)", tolerating: [ENOENT])
    }

    /// For the watchdog: deletes queue `queue`'s tables through the owning socket `descriptor`,
    /// which it inherited from netfault.
    public static func remove(queue: UInt16, throughInherited descriptor: Int32) throws {
        try remove(queue: queue, through: NftSocket(inherited: descriptor))
    }

    /// A netfault owner table found in the kernel.
    public struct Installed: Equatable, Sendable {
        public var queue: UInt16
        /// `ip` or `ip6`.
        public var family: String
        /// The netlink port of the socket that owns it (`nft list tables` names the process).
        public var ownerPort: UInt32?
    }

    /// netfault's tables in this network namespace.
    public static func installed() throws -> [Installed] {
        let socket = try NftSocket(doing: "listing nftables tables")
        let dump = try socket.dump(NftDiversion.tablesRequest(sequence: socket.nextSequence()), doing: "listing nftables tables")
        return dump.withUnsafeBytes { NftDumps.tables(inDump: $0) }.compactMap { table in
            guard let queue = table.netfaultQueue else { return nil }
            return Installed(queue: queue, family: table.family == NftDiversion.protocolFamily(.v4) ? "ip" : "ip6", ownerPort: table.owner)
        }
    }
}
