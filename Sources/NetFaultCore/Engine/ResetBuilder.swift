/// RSTs that the endpoints' stacks accept at once. RFC 5961 §3.2: an RST is taken immediately only
/// when its sequence number is exactly the receiver's next expected byte (RCV.NXT).
enum ResetBuilder {
    /// To the packet's sender, from its peer. If the packet acknowledges something, its ACK field is the
    /// sender's RCV.NXT, so the RST carries seq = ack (RFC 9293 §3.5.2, as iptables REJECT does).
    /// Otherwise (a SYN) an RST|ACK acknowledging the packet, as a closed port answers.
    static func towardSender(of packet: Packet) -> [UInt8] {
        if packet.tcpFlags.contains(.ack) {
            return PacketBuilder.tcp(source: packet.destination, destination: packet.source,
                                     sourcePort: packet.destinationPort, destinationPort: packet.sourcePort,
                                     sequence: packet.acknowledgmentNumber, acknowledgment: 0, flags: [.rst], window: 0)
        }
        return PacketBuilder.tcp(source: packet.destination, destination: packet.source,
                                 sourcePort: packet.destinationPort, destinationPort: packet.sourcePort,
                                 sequence: 0, acknowledgment: packet.sequenceNumber &+ packet.sequenceLength,
                                 flags: [.rst, .ack], window: 0)
    }

    /// To the packet's receiver, as if from the sender: the packet's own seq is where the receiver
    /// expects the sender's next byte (the packet never arrives). `view` brings the packet's
    /// numbers into the receiver's, on a connection under `shift_seq`.
    static func towardReceiver(of packet: Packet, view: SequenceView = SequenceView()) -> [UInt8] {
        let acknowledges = packet.tcpFlags.contains(.ack)
        return PacketBuilder.tcp(source: packet.source, destination: packet.destination,
                                 sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
                                 sequence: packet.sequenceNumber &+ view.sequenceDelta,
                                 acknowledgment: acknowledges ? packet.acknowledgmentNumber &+ view.acknowledgmentDelta : 0,
                                 flags: acknowledges ? [.rst, .ack] : [.rst], window: 0)
    }
}

/// What a packet's sequence and acknowledgment numbers become in its receiver's eyes on a
/// connection under `shift_seq`: the client's sequence numbers are shifted on their way to the
/// server, and the server's acknowledgments back on their way to the client. The packet's sender
/// sees its own numbers: what netfault answers it with needs no view.
struct SequenceView {
    var sequenceDelta: UInt32 = 0
    var acknowledgmentDelta: UInt32 = 0

    init() {}

    /// The view of `sender`'s packets from its peer, on a connection whose shift is `shift`.
    init(of sender: Side, shift: UInt32) {
        if sender == .client { sequenceDelta = shift } else { acknowledgmentDelta = 0 &- shift }
    }
}
