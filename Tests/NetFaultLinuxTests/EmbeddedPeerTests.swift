import Foundation
import NetFaultLab
import Testing

/// `netfault demo` runs the same peer program as the lab tests, soak and bench: the copy in the
/// binary is Lab/peer.py as it is.
struct EmbeddedPeerTests {
    @Test func theBinaryCarriesLabPeerAsItIs() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Lab/peer.py")
        let text = try String(contentsOf: path, encoding: .utf8)
        // The generator drops the file's last newline into the closing delimiter.
        #expect(EmbeddedPeer.script + "\n" == text, "run Scripts/embed-presets")
    }
}
