import Testing
@testable import NetFaultLinux

/// `cleanup` knows a netfault is running from its bound queue, as the kernel lists it.
@Suite struct BoundQueuesTests {
    @Test func readsEachBoundQueueWithItsPort() {
        // queue, peer port, waiting, copy mode, copy range, queue dropped, user dropped, last id, 1
        let table = """
                0  51234     0 2 65531     0     0        7  1
            32768  51234     3 2 65531     0     0       12  1
            """
        #expect(BoundQueues.parse(table) == [0: 51234, 32768: 51234])
        #expect(BoundQueues.parse("").isEmpty)
    }
}

/// The watchdog waits for netfault's iptables-restore helpers before it removes the chains.
@Suite struct RestoreHelpersTests {
    @Test func findsRestoreToolsOfTheSessionOnly() {
        #expect(RestoreHelpers.isRestore(stat: "4242 (iptables-restor) S 1 4242 777 0 -1", inSession: 777))
        #expect(RestoreHelpers.isRestore(stat: "4243 (ip6tables-resto) R 1 4243 777 0 -1", inSession: 777))
        #expect(!RestoreHelpers.isRestore(stat: "4242 (iptables-restor) S 1 4242 778 0 -1", inSession: 777), "another session's")
        #expect(!RestoreHelpers.isRestore(stat: "4244 (iptables-save) S 1 4244 777 0 -1", inSession: 777))
        #expect(!RestoreHelpers.isRestore(stat: "4245 (a (iptables-restor) b) S 1 4245 777 0 -1", inSession: 777))
    }
}
