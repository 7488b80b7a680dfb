import Foundation
import Testing

/// Real traffic through netfault between network namespaces: curl, python3 -m http.server and
/// Python sockets, IPv4 and IPv6. Needs root; with CI=true a missing root fails these tests
/// instead of skipping them. Serialized: timing assertions need the machine's two cores.
@Suite(.serialized, .enabled(if: Lab.canRun, "needs root (or CI=true, which makes a missing root a failure)"))
struct LabTests {}

extension Data {
    static func filled(_ count: Int) -> Data { Data(repeating: UInt8(ascii: "x"), count: count) }
}
