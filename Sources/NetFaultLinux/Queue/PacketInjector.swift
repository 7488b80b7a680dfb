#if canImport(Glibc)
import Glibc
#endif
import CNetfilterQueue
import NetFaultCore

/// Sends complete IP packets the engine built (RSTs, ICMP errors, duplicates) through raw sockets,
/// headers included. Each carries `mark`, which the hooks exclude, so none is queued again.
public final class PacketInjector: PacketSender {
    /// The socket mark on every injected packet; the hooks' first rule returns packets carrying it.
    public static let mark: UInt32 = 0x6e66_0001

    private let ipv4: Int32
    private let ipv6: Int32
    public private(set) var sent = 0
    /// Sends the kernel refused (no route, a full buffer); counted, never fatal.
    public private(set) var failures = 0

    public init() throws(SystemError) {
        ipv4 = try Self.rawSocket(family: AF_INET)
        do {
            ipv6 = try Self.rawSocket(family: AF_INET6)
        } catch {
            Glibc.close(ipv4)
            throw error
        }
    }

    deinit {
        Glibc.close(ipv4)
        Glibc.close(ipv6)
    }

    private static func rawSocket(family: Int32) throws(SystemError) -> Int32 {
        let doing = "opening the IPv\(family == AF_INET ? 4 : 6) injector"
        // IPPROTO_RAW implies "header included" for both families (IPV6_HDRINCL since Linux 4.5).
        let descriptor = try syscall(doing, "socket(SOCK_RAW, IPPROTO_RAW)") {
            socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
        }
        var mark = Self.mark
        do {
            try syscall(doing, "setsockopt(SO_MARK)") {
                setsockopt(descriptor, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
            }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        return descriptor
    }

    /// Sends one packet to the destination its header names.
    public func send(_ bytes: [UInt8]) {
        // The engine built these bytes; parsing them again only reads the destination.
        guard let address = bytes.withUnsafeBytes({ try? Packet(parsing: $0).destination }) else {
            failures += 1
            return
        }
        let result: Int
        switch address.family {
        case .v4:
            var destination = sockaddr_in()
            destination.sin_family = sa_family_t(AF_INET)
            destination.sin_addr.s_addr = address.v4Value.bigEndian
            result = withUnsafePointer(to: &destination) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(ipv4, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6:
            var destination = sockaddr_in6()
            destination.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &destination.sin6_addr) { raw in
                raw.storeBytes(of: address.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: address.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            result = withUnsafePointer(to: &destination) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(ipv6, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        if result < 0 {
            failures += 1
        } else {
            sent += 1
        }
    }
}
