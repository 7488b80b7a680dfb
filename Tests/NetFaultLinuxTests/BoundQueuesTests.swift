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
