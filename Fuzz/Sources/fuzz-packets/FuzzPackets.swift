import FuzzDriver
import NetFaultCore

/// One engine that lives across inputs, with a rule of every action, so that fuzzed packets reach
/// every decision path and the flow table fills, expires and evicts.
nonisolated(unsafe) var engine = Engine(ruleSet: try! RuleFile.parse("""
    rules:
      - {name: pass, match: {payload: "PASS"}, action: pass}
      - {name: reset, match: {after_bytes: 3000, probability: 0.2}, action: {reset: both}}
      - {name: reject, match: {flags: [syn], probability: 0.2}, action: {reject: tcp-reset}}
      - {name: icmp, match: {protocol: udp, probability: 0.3}, action: {reject: icmp-port-unreachable}}
      - {name: rewrite, match: {probability: 0.2}, action: {rewrite: {window: 0, ttl: 1, truncate: 10}}}
      - {name: duplicate, match: {probability: 0.2}, action: {duplicate: 2}}
      - {name: hold, match: {nth: 2}, action: {hold: 1s}}
      - {name: udp-delay, match: {protocol: udp}, action: {delay: 10ms, jitter: 5ms}}
      - {name: icmp-drop, match: {protocol: icmp}, action: drop}
    """, name: "fuzz.yaml").ruleSet, seed: 1, configuration: {
        var configuration = Engine.Configuration()
        configuration.flowCapacity = 64
        configuration.retainedFlows = 64
        return configuration
    }())
nonisolated(unsafe) var clock: Int64 = 0

/// The program's entry: libFuzzer's driver, calling `fuzzOneInput`.
@_cdecl("fuzz_packets_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data, size) }
}

/// libFuzzer's entry: any bytes, as a packet from the queue. Nothing may trap, and everything
/// netfault would send or let through instead must itself parse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // The same bytes as the first part of a longer packet, as a headers-only copy delivers them.
    if size > 0, let cut = try? Packet(parsing: bytes, originalLength: size + Int(data[0]) * 64) {
        precondition(cut.payload.count <= cut.payloadLength && cut.bytes.count <= size, "a captured payload beyond the capture")
        _ = cut.quotedHeader
    }
    guard let packet = try? Packet(parsing: bytes) else { return 0 }
    _ = packet.quotedHeader
    _ = packet.unreachableReason
    _ = packet.maximumSegmentSizeOption
    mustParse(packet.rewritten(with: HeaderRewrite(window: 1, ttl: 2, tos: 3, flags: [.ack], truncate: size % 100)))
    mustParse(packet.rewritten(with: HeaderRewrite()))
    for piece in packet.segmented(maxPayload: 1 + size % 700) { mustParse(piece) }
    if packet.transport != nil {
        mustParse(PacketBuilder.icmpUnreachable(.port, quoting: packet, from: packet.destination))
    }
    clock += Int64(size) * 1_000_000  // time moves on, so flows expire
    let decision = engine.process(packet, at: .milliseconds(clock / 1_000_000))
    if case .replace(let replacement) = decision.verdict { mustParse(replacement) }
    for injection in decision.injections { mustParse(injection.bytes) }
    return 0
}

private func mustParse(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        do {
            _ = try Packet(parsing: buffer)
        } catch {
            fatalError("netfault built a packet that does not parse (\(error)): \(bytes.prefix(64))")
        }
    }
}
