import Testing
@testable import NetFaultCore

/// Which packets a `--pcap` file gets: a faulted connection's whole story, nothing of the others.
struct FaultedFlowCaptureTests {
    static let a = FlowKey(transport: .tcp, Endpoint(IPAddress("198.18.1.2")!, 40000), Endpoint(IPAddress("198.18.2.2")!, 80))
    static let b = FlowKey(transport: .tcp, Endpoint(IPAddress("198.18.1.2")!, 40001), Endpoint(IPAddress("198.18.2.2")!, 80))

    func see(_ capture: inout FaultedFlowCapture, _ marker: UInt8, _ key: FlowKey, faulted: Bool = false) -> [UInt8] {
        var written: [UInt8] = []
        [marker, marker].withUnsafeBytes { bytes in
            capture.seen(bytes, key: key, faulted: faulted, at: .milliseconds(Int64(marker))) { written.append($0.bytes[0]) }
        }
        return written
    }

    @Test func aConnectionsPacketsWaitForItsFirstFaultThenFollowIt() {
        var capture = FaultedFlowCapture()
        #expect(see(&capture, 1, Self.a).isEmpty)
        #expect(see(&capture, 2, Self.b).isEmpty)
        #expect(see(&capture, 3, Self.a).isEmpty)
        #expect(see(&capture, 4, Self.a, faulted: true) == [1, 3, 4], "the packets before the fault, then the faulted one")
        #expect(see(&capture, 5, Self.a) == [5], "after the fault, every packet at once")
        #expect(capture.bufferedBytes == 2, "b's packet still waits")
    }

    @Test func waitingIsBoundedPerConnectionAndOverall() {
        var capture = FaultedFlowCapture(packetsBeforeFault: 2, bufferLimit: 5)
        for marker in 1...3 { _ = see(&capture, UInt8(marker), Self.a) }
        #expect(capture.bufferedBytes == 4, "only the first 2 packets of a wait")
        _ = see(&capture, 9, Self.b)
        #expect(capture.bufferedBytes == 2, "over the limit: the oldest connection's packets are let go")
        #expect(see(&capture, 10, Self.a, faulted: true) == [10])
    }

    @Test func packetsAreCutToTheSnapshotLengthButKeepTheirLength() {
        var capture = FaultedFlowCapture(snapshotLength: 4)
        var records: [FaultedFlowCapture.Record] = []
        Array(repeating: UInt8(7), count: 10).withUnsafeBytes { bytes in
            capture.seen(bytes, key: Self.a, faulted: true, at: .zero) { records.append($0) }
        }
        #expect(records == [FaultedFlowCapture.Record(bytes: [7, 7, 7, 7], length: 10, time: .zero)])
    }
}
