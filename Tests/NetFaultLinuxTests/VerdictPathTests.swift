import NetFaultCore
import Testing
@testable import NetFaultLinux

/// The verdict path end to end without root: real rules and the real engine, the queue worker,
/// its ledgers and parking lot, against `FakeKernel` playing NFQUEUE. Every packet gets exactly
/// one fate, a batch never covers a packet meant to be held, what netfault sends itself never
/// overtakes a packet read before it, and a stop answers everything.
struct VerdictPathTests {
    typealias Worker = QueueWorker<FakeQueue, FakeSender>

    /// One rule per server port, every action that meets the queue differently.
    static let rules = """
        rules:
          - {name: dropped, match: {server_port: 81}, action: drop}
          - {name: delayed, match: {server_port: 82}, action: {delay: 50ms}}
          - {name: kept, match: {server_port: 83}, action: {hold: forever}}
          - {name: reset, match: {server_port: 84}, action: {reset: both}}
          - {name: rewritten, match: {server_port: 85}, action: {rewrite: {ttl: 1}}}
          - {name: copied, match: {server_port: 86}, action: {duplicate: 2}}
        """
    /// No rule matches this port: the packet goes on in a batch.
    static let untouched: UInt16 = 87

    static func worker(_ kernel: FakeKernel, rules: String = rules) throws -> Worker {
        let ruleSet = try RuleFile.parse(rules, name: "test").ruleSet
        let engine = SharedEngine(Engine(ruleSet: ruleSet, seed: 7), capture: nil)
        let diverting = kernel.queue(ruleSet.queue)
        let parking = ruleSet.canHold ? ParkingLot(kernel.queue(RuleSet.parkingQueue(for: ruleSet.queue)), maximumHeld: ruleSet.maxHeld) : nil
        return Worker(queue: diverting, parking: parking, injector: FakeSender(kernel: kernel, watching: diverting),
                      engine: engine, clock: { kernel.now })
    }

    /// A client's SYN from `clientPort` to `serverPort`.
    static func syn(to serverPort: UInt16, from clientPort: UInt16 = 40000) -> [UInt8] {
        PacketBuilder.tcp(source: IPAddress("198.18.1.2")!, destination: IPAddress("198.18.2.2")!, sourcePort: clientPort,
                          destinationPort: serverPort, sequence: 1000, acknowledgment: 0, flags: [.syn])
    }

    static func arrive(_ kernel: FakeKernel, port: UInt16, clientPort: UInt16 = 40000) -> Int {
        kernel.arrive(syn(to: port, from: clientPort), on: 0)
    }

    @Test func aDecisionMapsToOneQueueCommand() {
        let deadline = Instant.seconds(5)
        #expect(VerdictPlan(.accept, canPark: true).disposition == .acceptInBatch)
        #expect(VerdictPlan(Decision(.drop), canPark: true).disposition == .drop)
        #expect(VerdictPlan(Decision(.replace([1, 2])), canPark: true).disposition == .replace([1, 2]))
        #expect(VerdictPlan(Decision(.acceptAfter(deadline)), canPark: true).disposition == .park(until: deadline))
        #expect(VerdictPlan(Decision(.holdUntilEnd), canPark: true).disposition == .park(until: nil))
        // Without a parking queue nothing is held: the packet goes on rather than waiting nowhere.
        #expect(VerdictPlan(Decision(.acceptAfter(deadline)), canPark: false).disposition == .acceptInBatch)
        #expect(VerdictPlan(Decision(.holdUntilEnd), canPark: false).disposition == .acceptInBatch)
        let injection = Injection(bytes: [9, 9], toward: .client)
        #expect(VerdictPlan(Decision(.drop, injections: [injection]), canPark: true).injections == [injection])
        #expect(VerdictPlan(.accept, canPark: true).injections.isEmpty)
    }

    /// 3000 packets over every action, read in bursts while the clock moves on, then a stop: each
    /// has exactly one fate, and it is the one its rule says.
    @Test func everyPacketGetsExactlyOneFate() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        var generator = SeededGenerator(seed: 11)
        var arrivedAt: [Int: Instant] = [:]
        var port: [Int: UInt16] = [:]
        for round in 0..<300 {
            for _ in 0..<10 {
                let serverPort = UInt16.random(in: 81...87, using: &generator)
                let number = Self.arrive(kernel, port: serverPort, clientPort: UInt16(10000 + round))
                arrivedAt[number] = kernel.now
                port[number] = serverPort
            }
            try worker.pump(parkingReadable: Bool.random(using: &generator))
            kernel.now = kernel.now + .milliseconds(Int64.random(in: 0...20, using: &generator))
        }
        worker.finish()
        #expect(kernel.violations == [])
        #expect(kernel.fates.count == kernel.packetCount)
        for (number, fate) in kernel.fates {
            switch (port[number]!, fate) {
            case (81, .dropped), (83, .dropped), (84, .dropped): break
            case (82, .delivered(let at, _)):
                // Released at its deadline, or by the stop, which delivers every delayed packet.
                #expect(at.since(arrivedAt[number]!) >= 50_000_000 || at == kernel.now, "packet #\(number) delayed too little")
            case (85, .delivered(_, let bytes)): #expect(bytes[8] == 1, "packet #\(number): TTL not rewritten")
            case (86, .delivered), (Self.untouched, .delivered): break
            default: Issue.record("packet #\(number) to port \(port[number]!): \(fate)")
            }
        }
        let copies = port.values.count { $0 == 86 } * 2
        let resets = kernel.injected.count - copies
        #expect(resets >= port.values.count { $0 == 84 }, "every reset sends at least one RST")
        #expect(worker.ledger.received == kernel.packetCount)
    }

    /// Packets accepted, held, accepted, read together: the move to the parking queue is written
    /// before the batch that accepts its neighbours, which therefore cannot take it.
    @Test func aBatchNeverCoversAHeldPacket() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        let start = kernel.now
        let first = Self.arrive(kernel, port: Self.untouched, clientPort: 1)
        let held = Self.arrive(kernel, port: 82, clientPort: 2)
        let last = Self.arrive(kernel, port: Self.untouched, clientPort: 3)
        try worker.pump(parkingReadable: false)
        #expect(kernel.fates[first] != nil && kernel.fates[last] != nil)
        #expect(kernel.fates[held] == nil, "the held packet went with the batch")
        kernel.now = start + .milliseconds(49)
        try worker.pump(parkingReadable: true)
        #expect(kernel.fates[held] == nil, "released early")
        kernel.now = start + .milliseconds(50)
        try worker.pump(parkingReadable: true)
        #expect(kernel.fates[held] == .delivered(at: start + .milliseconds(50), bytes: Self.syn(to: 82, from: 2)))
        #expect(kernel.violations == [])
    }

    /// A duplicate's copies and a reset's RSTs go out only after the verdicts of every packet
    /// read before them, the packet they answer included.
    @Test func injectionsFollowTheVerdictsBeforeThem() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        for clientPort: UInt16 in 1...20 {
            _ = Self.arrive(kernel, port: [Self.untouched, 86, 84, 81][Int(clientPort) % 4], clientPort: clientPort)
        }
        try worker.pump(parkingReadable: false)
        #expect(kernel.injected.count >= 10)
        #expect(kernel.violations == [])
    }

    /// The stop answers every packet owed: read and held, queued and not read yet, and the ones
    /// still on their way in while it waits for the queue to be quiet. Delays are delivered,
    /// `hold: forever` dropped.
    @Test func theStopAnswersEverything() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        let delayed = (1...5).map { Self.arrive(kernel, port: 82, clientPort: $0) }
        let kept = (6...8).map { Self.arrive(kernel, port: 83, clientPort: $0) }
        try worker.pump(parkingReadable: false)
        try worker.pump(parkingReadable: true)
        let unread = (9...12).map { Self.arrive(kernel, port: 81, clientPort: $0) }
        kernel.queue(0).lateArrivals = [[Self.syn(to: 81, from: 13)], [Self.syn(to: 81, from: 14)]]
        worker.finish()
        #expect(kernel.violations == [])
        #expect(kernel.packetCount == 14, "the late arrivals were waited for")
        #expect(kernel.fates.count == kernel.packetCount)
        for number in delayed { #expect(kernel.fates[number] == .delivered(at: kernel.now, bytes: Self.syn(to: 82, from: UInt16(number + 1)))) }
        for number in kept { #expect(kernel.fates[number] == .dropped(at: kernel.now)) }
        // Nothing is diverted any more: what is still queued goes on unjudged.
        for number in unread { #expect(kernel.fates[number]?.isDelivered == true) }
        #expect(kernel.queue(0).waiting.isEmpty && kernel.queue(RuleSet.parkingQueue(for: 0)).waiting.isEmpty)
    }

    /// A send that fails (a full socket buffer) leaves its verdicts pending; the stop sends them,
    /// each once.
    @Test func verdictsASendCouldNotDeliverGoWithTheStop() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        for clientPort: UInt16 in 1...6 { _ = Self.arrive(kernel, port: clientPort % 2 == 0 ? 81 : Self.untouched, clientPort: clientPort) }
        kernel.queue(0).failingFlushes = 1
        #expect(throws: FakeQueue.FlushFailed.self) { try worker.pump(parkingReadable: false) }
        #expect(kernel.fates.isEmpty)
        worker.finish()
        #expect(kernel.violations == [])
        #expect(kernel.fates.count == 6)
        #expect(kernel.fates.values.count { $0.isDelivered } == 3)
    }

    /// Bytes that are no IP packet go on as they came, counted.
    @Test func anUnreadablePacketGoesOn() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        let garbage = kernel.arrive([0x45, 0, 0, 99, 1, 2], on: 0)
        try worker.pump(parkingReadable: false)
        #expect(kernel.fates[garbage]?.isDelivered == true)
        #expect(worker.unreadable == 1)
        #expect(kernel.violations == [])
    }

    /// A moved packet the kernel let go on instead (nothing listened on the parking queue) is
    /// counted when the next one arrives; a stranger in the parking queue goes on at once.
    @Test func theParkingQueueAccountsForWhatTheKernelDid() throws {
        let kernel = FakeKernel()
        let worker = try Self.worker(kernel)
        let parking = kernel.queue(RuleSet.parkingQueue(for: 0))
        parking.isBound = false
        let passed = Self.arrive(kernel, port: 82, clientPort: 1)
        try worker.pump(parkingReadable: false)
        parking.isBound = true
        let held = Self.arrive(kernel, port: 82, clientPort: 2)
        let stranger = kernel.arrive(Self.syn(to: 99, from: 3), on: parking.queue)
        try worker.pump(parkingReadable: true)
        #expect(kernel.fates[passed]?.isDelivered == true)
        #expect(kernel.fates[stranger]?.isDelivered == true)
        #expect(kernel.fates[held] == nil)
        #expect(worker.parking?.passedByKernel == 1)
        #expect(worker.parking?.verdicts == 0, "the stranger's verdict is not a held packet's")
        worker.finish()
        #expect(kernel.violations == [])
        #expect(kernel.fates.count == 3)
    }
}

extension FakeKernel.Fate {
    var isDelivered: Bool {
        if case .delivered = self { return true }
        return false
    }
}
