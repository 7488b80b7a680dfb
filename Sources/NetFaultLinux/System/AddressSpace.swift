#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import Foundation
import NetFaultCore

/// The address space netfault may map: the limit `ulimit -v` sets (RLIMIT_AS). Under one, every
/// mapping counts, used or only reserved: glibc reserves 64 MiB for each thread's malloc arena and
/// gives each thread an 8 MiB stack (RLIMIT_STACK), and netfault reserves its flow table for
/// `flows.max_tracked` up front. A limit of 100 MB left no room for the first thread, 300 MB none
/// for the flow table, and netfault died of a Swift fatal error as it started. So, under a limit,
/// netfault economizes on what only reserves (one arena, smaller stacks), and checks, before
/// anything is installed, that what the run needs fits. Without a limit nothing here changes anything.
public enum AddressSpace {
    /// The stack of each thread started once `economize()` ran under a limit: netfault's threads
    /// neither recurse deeply nor keep large buffers on their stacks.
    public static let threadStack = 1 << 20
    /// What a run takes besides its flows and its threads' stacks: the queues' buffers, the
    /// control API, the report's list, the heap's slack.
    static let workingMemory = 32 << 20
    /// And for each queue: its batch of received packets, and its parking queue's.
    static let workingMemoryPerQueue = 2 << 20

    /// The soft limit in bytes; nil when there is none.
    public static var limit: Int? {
        var limits = rlimit()
        // RLIM_INFINITY is all ones.
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limits) == 0, limits.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limits.rlim_cur)
    }

    /// What this process maps now, in bytes (VmSize); 0 when /proc cannot tell.
    public static func mapped() -> Int {
        // statm: sizes in pages, the whole mapped size first.
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Under a limit: every thread allocates from the one main malloc arena (no 64 MiB
    /// reservation per thread), and threads started from now on get `threadStack`. Call it
    /// before any thread starts.
    public static func economize() {
        guard limit != nil else { return }
        _ = mallopt(M_ARENA_MAX, 1)
        var attributes = pthread_attr_t()
        guard pthread_attr_init(&attributes) == 0 else { return }
        defer { pthread_attr_destroy(&attributes) }
        if pthread_attr_setstacksize(&attributes, threadStack) == 0 { _ = pthread_setattr_default_np(&attributes) }
    }

    /// What a run of `ruleSet` maps beyond what is mapped when it is checked.
    public struct Need: Sendable, Equatable {
        /// The engine's flows at their limits.
        public var flows: Engine.Footprint
        /// The stacks of the threads still to start.
        public var stacks: Int
        /// Buffers and heap besides.
        public var working: Int

        public var total: Int { flows.total + stacks + working }

        /// The run of `ruleSet` whose threads are still to start: one per queue, the
        /// controller's, the control API's (one per core) and Swift concurrency's (one per core,
        /// and one more).
        public init(_ ruleSet: RuleSet) {
            let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            let threads = ruleSet.queues + 1 + 2 * cores + 1
            flows = Engine.footprint(for: ruleSet)
            // Each stack has a guard page below it.
            stacks = threads * (AddressSpace.threadStack + Int(sysconf(Int32(_SC_PAGESIZE))))
            working = AddressSpace.workingMemory + ruleSet.queues * AddressSpace.workingMemoryPerQueue
        }
    }

    /// Checks that `need` fits in the limit beside what is mapped now; throws, with the figures
    /// and what to change, when it does not. Without a limit, it always fits.
    public static func check(_ need: Need, flowLimits: FlowLimits) throws(AddressSpaceError) {
        guard let limit else { return }
        let mapped = mapped()
        guard mapped + need.total > limit else { return }
        throw AddressSpaceError(limit: limit, mapped: mapped, need: need, flowLimits: flowLimits)
    }
}

/// The address-space limit is below what the run needs: the figures, and what to change.
public struct AddressSpaceError: Error, CustomStringConvertible, Sendable {
    public var limit: Int
    public var mapped: Int
    public var need: AddressSpace.Need
    public var flowLimits: FlowLimits

    public var description: String {
        func kib(_ bytes: Int) -> String { "\((bytes + 1023) / 1024) KiB" }
        let total = mapped + need.total
        return "the address-space limit (ulimit -v) is \(kib(limit)), and this run needs about \(kib(total)): "
            + "\(kib(mapped)) mapped at start-up (the program and its libraries), "
            + "\(kib(need.flows.flowTable)) for the flow table (flows.max_tracked \(flowLimits.maxTracked)), "
            + "\(kib(need.flows.listed + need.flows.flowArrays)) for the connections tracked and listed (flows.max_listed \(flowLimits.maxListed)), "
            + "\(kib(need.stacks)) for the threads' stacks and \(kib(need.working)) of working memory; "
            + "raise the limit (ulimit -v \((total + 1023) / 1024) or more), or lower flows.max_tracked and flows.max_listed in the rule file"
    }
}
