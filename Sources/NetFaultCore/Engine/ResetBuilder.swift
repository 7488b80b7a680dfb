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
    /// expects the sender's next byte (the packet never arrives).
    static func towardReceiver(of packet: Packet) -> [UInt8] {
        let acknowledges = packet.tcpFlags.contains(.ack)
        return PacketBuilder.tcp(source: packet.source, destination: packet.destination,
                                 sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
                                 sequence: packet.sequenceNumber, acknowledgment: acknowledges ? packet.acknowledgmentNumber : 0,
                                 flags: acknowledges ? [.rst, .ack] : [.rst], window: 0)
    }
}
