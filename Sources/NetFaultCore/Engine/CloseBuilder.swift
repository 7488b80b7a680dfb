/// The FINs of a graceful close (`close`), with the sequence and acknowledgment numbers each
/// receiver expects, as `ResetBuilder` computes them for RSTs: a FIN is taken only in order, at
/// exactly the receiver's next expected byte (RFC 9293 §3.10.7.4, "eighth, check the FIN bit").
enum CloseBuilder {
    /// A FIN|ACK to the packet's sender, as from its peer, which closes: seq is the packet's ACK
    /// (the sender's RCV.NXT), and it acknowledges what came before the packet (the packet never
    /// arrives). Nil for a packet without ACK (a SYN): there is no connection yet to close.
    static func towardSender(of packet: Packet) -> [UInt8]? {
        guard packet.tcpFlags.contains(.ack) else { return nil }
        return PacketBuilder.tcp(source: packet.destination, destination: packet.source,
                                 sourcePort: packet.destinationPort, destinationPort: packet.sourcePort,
                                 sequence: packet.acknowledgmentNumber, acknowledgment: packet.sequenceNumber,
                                 flags: [.fin, .ack], window: packet.window)
    }

    /// A FIN|ACK to the packet's receiver, as from the sender, which closes instead of sending it:
    /// the packet's own seq is where the receiver expects the sender's next byte; it acknowledges
    /// what the packet did. `view` brings the numbers into the receiver's (`shift_seq`). Nil for a
    /// packet without ACK.
    static func towardReceiver(of packet: Packet, view: SequenceView = SequenceView()) -> [UInt8]? {
        guard packet.tcpFlags.contains(.ack) else { return nil }
        return PacketBuilder.tcp(source: packet.source, destination: packet.destination,
                                 sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
                                 sequence: packet.sequenceNumber &+ view.sequenceDelta,
                                 acknowledgment: packet.acknowledgmentNumber &+ view.acknowledgmentDelta,
                                 flags: [.fin, .ack], window: packet.window)
    }

    /// The closed peer's ACK of the packet's FIN (and of whatever came with it), to its sender:
    /// what a stack in FIN-WAIT-2 answers a FIN with before TIME-WAIT.
    static func acknowledgingFIN(of packet: Packet) -> [UInt8] {
        PacketBuilder.tcp(source: packet.destination, destination: packet.source,
                          sourcePort: packet.destinationPort, destinationPort: packet.sourcePort,
                          sequence: packet.acknowledgmentNumber, acknowledgment: packet.sequenceNumber &+ packet.sequenceLength,
                          flags: [.ack], window: 0)
    }
}
