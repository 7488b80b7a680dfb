import CNetfilterQueue
import Foundation
import NetFaultLinux
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension LabTests {
    /// A queue's thread blocks in the socket's receive while nothing is held; these check that it
    /// comes back when asked (the stop) and, should the request be lost, by itself.
    @Suite(.timeLimit(.minutes(1))) struct QueueSocketWaits {
        /// A queue socket bound in a network namespace of its own, made for this test and gone with
        /// the socket: no traffic reaches it, nothing else sees it.
        static func isolatedSocket(queue: UInt16, waitLimitMilliseconds: Int32? = QueueSocket.longestWaitMilliseconds) throws -> QueueSocket {
            final class Outcome: @unchecked Sendable { var result: Result<QueueSocket, Error>? }
            let outcome = Outcome()
            let done = DispatchSemaphore(value: 0)
            // Only this thread enters the new namespace; the socket keeps it alive after the thread ends.
            let thread = Thread {
                outcome.result = Result {
                    guard unshare(Self.newNetworkNamespace) == 0 else {
                        throw Lab.Failure(description: "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))")
                    }
                    return try QueueSocket(queue: queue, copyBytes: QueueSocket.headerCopyBytes, waitLimitMilliseconds: waitLimitMilliseconds)
                }
                done.signal()
            }
            thread.start()
            done.wait()
            return try outcome.result!.get()
        }

        /// CLONE_NEWNET, which sched.h declares only under _GNU_SOURCE.
        static let newNetworkNamespace: Int32 = 0x4000_0000

        /// Reads `socket` blocking, on a thread of its own; returns what the read returned and how
        /// long it took, in seconds. A read still blocked after 5 s fails the test.
        static func blockedRead(_ socket: QueueSocket, whileDoing action: () -> Void) throws -> (packets: Int, seconds: Double) {
            final class Outcome: @unchecked Sendable { var result: Result<Int, Error>? }
            let outcome = Outcome()
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) let reading = socket
            let start = DispatchTime.now().uptimeNanoseconds
            Thread {
                outcome.result = Result { try reading.drain(waitingForFirst: true) { _ in } }
                done.signal()
            }.start()
            action()
            guard done.wait(timeout: .now() + 5) == .success else {
                throw Lab.Failure(description: "the blocked read did not come back within 5 s")
            }
            return (try outcome.result!.get(), Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }

        /// With no time limit, only the wake-up brings the read back (else it fails after 5 s); while
        /// blocked, the socket says it waits for packets (what the heartbeat counts as idle).
        @Test func aBlockedReadReturnsWhenWoken() throws {
            let socket = try Self.isolatedSocket(queue: 4711, waitLimitMilliseconds: nil)
            defer { socket.close() }
            #expect(!socket.isWaitingForPackets)
            var sawWaiting = false
            let (packets, _) = try Self.blockedRead(socket) {
                for _ in 0..<500 where !sawWaiting {
                    sawWaiting = socket.isWaitingForPackets
                    usleep(1000)
                }
                #expect(socket.wake())
            }
            #expect(sawWaiting, "the blocked read never said it waits for packets")
            #expect(!socket.isWaitingForPackets)
            #expect(packets == 0)
            #expect(socket.wakeUpsRead == 1)
        }

        /// A message that comes to a blocked reader alone is read alone: the read asks for one
        /// message, not a batch whose search for a second one finds nothing (a ping-pong's case).
        @Test func aMessageThatComesAloneIsReadAlone() throws {
            let socket = try Self.isolatedSocket(queue: 4714, waitLimitMilliseconds: nil)
            defer { socket.close() }
            _ = try Self.blockedRead(socket) {
                for _ in 0..<500 where !socket.isWaitingForPackets { usleep(1000) }
                usleep(1000)
                #expect(socket.wake())
            }
            #expect(socket.wakeUpsRead == 1)
            #expect(socket.reads == 1 && socket.singleReads == 1, "\(socket.reads) reads, \(socket.singleReads) of one message")
        }

        /// Messages already waiting are read in batches: a first read of one finds its message
        /// there at once and the rest follow many per read, not one per read.
        @Test func aBacklogIsReadInBatches() throws {
            let socket = try Self.isolatedSocket(queue: 4715, waitLimitMilliseconds: nil)
            defer { socket.close() }
            let backlog = 200
            for _ in 0..<backlog { #expect(socket.wake()) }
            while socket.wakeUpsRead < backlog {
                try socket.drain(waitingForFirst: true) { _ in }
            }
            #expect(socket.wakeUpsRead == backlog)
            // A read that came back late by chance (a busy host) leaves the next one single too: a
            // few, not one per message.
            #expect(socket.reads <= 20, "\(socket.reads) reads for \(backlog) waiting messages")
        }

        /// A wake-up needs CAP_NET_ADMIN (netlink's rule for writing to another port): without it
        /// `wake` says it failed, and a socket given a time limit then brings its reader back alone
        /// (what `QueueThread.start` does should that ever happen).
        @Test func withoutNetworkAdministrationTheWakeUpFailsAndATimeLimitStands() throws {
            let socket = try Self.isolatedSocket(queue: 4713, waitLimitMilliseconds: nil)
            defer { socket.close() }
            final class Outcome: @unchecked Sendable { var sent: Bool? }
            let outcome = Outcome()
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) let waking = socket
            // Capabilities are a thread's own: only this thread gives them up.
            Thread {
                if netfault_capset(0) == 0 { outcome.sent = waking.wake() }
                done.signal()
            }.start()
            done.wait()
            #expect(outcome.sent == false, "capset failed (nil), or the wake-up went out without CAP_NET_ADMIN (true)")
            try socket.limitWaits(to: QueueSocket.longestWaitMilliseconds)
            let (packets, seconds) = try Self.blockedRead(socket) {}
            #expect(packets == 0 && socket.wakeUpsRead == 0)
            #expect(seconds >= 0.05 && seconds < 2, "the read took \(seconds) s")
        }

        @Test func aBlockedReadReturnsByItselfWhenNothingArrives() throws {
            let socket = try Self.isolatedSocket(queue: 4712)
            defer { socket.close() }
            let (packets, seconds) = try Self.blockedRead(socket) {}
            #expect(packets == 0)
            #expect(socket.wakeUpsRead == 0)
            // It waited (a socket that never blocks would make every queue thread spin), and came
            // back by its own time limit (QueueSocket.longestWaitMilliseconds), not much later.
            #expect(seconds >= 0.05 && seconds < 2, "the read took \(seconds) s")
        }
    }
}
