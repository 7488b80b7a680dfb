import Yams

/// What a `rate` rule limits its packets to: the rate, the burst, the queue, whose packets share
/// a bucket, and the bytes each packet costs beyond its IP length.
public struct RateLimit: Sendable, Equatable {
    /// How long the queue before the bucket may get: packets past it are dropped (counted).
    public enum QueueLimit: Sendable, Equatable, CustomStringConvertible {
        /// Nanoseconds a packet may wait.
        case time(Int64)
        case bytes(UInt64)
        case packets(Int)

        public var description: String {
            switch self {
            case .time(let nanoseconds): return Duration.nanoseconds(nanoseconds).ruleText
            case .bytes(let bytes): return sizeText(bytes)
            case .packets(let count): return "\(count) packets"
            }
        }
    }

    /// Which packets share a bucket.
    public enum Sharing: String, Sendable, CaseIterable {
        /// All the rule's packets, every connection, both directions: one link, one queue.
        case rule
        /// Each connection's packets, both directions.
        case connection
        /// Each connection's packets in each direction.
        case direction
    }

    public var bitsPerSecond: UInt64
    public var burst: UInt64
    public var queue: QueueLimit
    public var per: Sharing
    /// Bytes added to each packet's (and each segment's) IP length: link headers, framing.
    public var overhead: Int

    /// A burst of 10 ms at the rate, and at least 4 KiB (two full Ethernet frames and then some).
    public static func defaultBurst(bitsPerSecond: UInt64) -> UInt64 { max(4096, bitsPerSecond / 8 / 100) }
}

extension Action {
    /// `{rate: 10Mbit, burst: 32KiB, queue: 100ms, per: rule, overhead: 0}`: a bandwidth limit, as
    /// the kernel's `tbf` (and netem's `rate`) set it: a token bucket delays the packets past the
    /// rate, and drops (counted) those that would wait past the queue's limit. `rate: 0` carries
    /// nothing: every packet is dropped, and the connections stay open, as over a dead link.
    public struct Rate: ActionUnit {
        static let kind = Kind.rate
        static let needs: ActionNeeds = [.parking]
        static let settingUsage: String? = "a rate: {rate: 10Mbit}"
        static let companionKeys = ["burst", "queue", "per", "overhead"]

        public var limit: RateLimit

        public init(_ limit: RateLimit) { self.limit = limit }

        static func read(_ setting: Node?, _ reading: ActionReading, reader: inout RuleFileReader) -> Rate? {
            guard let setting = reader.requiredSetting(setting, reading, kind),
                  let text = reader.scalar(setting, reading.path, expected: "a rate such as 10Mbit") else { return nil }
            guard let bits = Units.bitRate(text) else {
                reader.error(setting, reading.path, "\(RuleFileReader.excerpt(text)) is not a rate: a number and bit, Kbit, Mbit or Gbit (10Mbit), or 0")
                return nil
            }
            var limit = RateLimit(bitsPerSecond: bits, burst: RateLimit.defaultBurst(bitsPerSecond: bits), queue: .time(100_000_000),
                                  per: .rule, overhead: 0)
            var valid = true
            if let entry = reading.companions["burst"] {
                let path = reading.path(of: "burst")
                if let burst = reader.size(entry.value, path) {
                    if burst >= 1 { limit.burst = burst } else {
                        reader.error(entry.value, path, "must be at least 1 byte")
                        valid = false
                    }
                } else { valid = false }
            }
            if let entry = reading.companions["queue"] {
                if let queue = readQueue(entry.value, reading.path(of: "queue"), reader: &reader) { limit.queue = queue } else { valid = false }
            }
            if let entry = reading.companions["per"] {
                if let per = reader.keyword(entry.value, reading.path(of: "per"), as: RateLimit.Sharing.self, what: "what shares a bucket") {
                    limit.per = per
                } else { valid = false }
            }
            if let entry = reading.companions["overhead"] {
                if let overhead = reader.integer(entry.value, reading.path(of: "overhead"), in: 0...1000, what: "bytes per packet") {
                    limit.overhead = overhead
                } else { valid = false }
            }
            return valid ? Rate(limit) : nil
        }

        /// `100ms`, `64KiB` or `1000 packets`.
        static func readQueue(_ node: Node, _ path: String, reader: inout RuleFileReader) -> RateLimit.QueueLimit? {
            let forms = "a queue limit: a time (100ms), a size (64KiB) or a packet count (1000 packets)"
            guard let text = reader.scalar(node, path, expected: forms) else { return nil }
            let trimmed = text.trimmingSpaces
            if trimmed.hasSuffix("packets") {
                let number = String(trimmed.dropLast("packets".count)).trimmingSpaces
                if let count = Int(number), count >= 1, count <= 1_000_000 { return .packets(count) }
            } else if let duration = Units.duration(trimmed), duration > .zero {
                return .time(duration.nanoseconds)
            } else if let bytes = Units.size(trimmed), bytes >= 1 {
                return .bytes(bytes)
            }
            reader.error(node, path, "\(RuleFileReader.excerpt(text)) is not \(forms)")
            return nil
        }

        var action: Action { .rate(self) }

        public var summary: String {
            guard limit.bitsPerSecond > 0 else { return "carry nothing (rate 0: every packet dropped, the connections left open)" }
            let share = switch limit.per {
            case .rule: "one bucket for the rule"
            case .connection: "a bucket per connection"
            case .direction: "a bucket per connection and direction"
            }
            return "limit to \(Units.bitRateText(limit.bitsPerSecond)) (burst \(sizeText(limit.burst)), queue \(limit.queue), \(share)"
                + (limit.overhead > 0 ? ", \(limit.overhead) bytes of overhead a packet" : "") + "), dropping past the queue"
        }

        func decide(_ packet: Packet, _ context: ActionContext, engine: inout Engine) -> Decision {
            guard limit.bitsPerSecond > 0 else { return Decision(.drop) }
            let now = context.now.nanoseconds
            let key = RateBucketKey(rule: context.rule, flow: limit.per == .rule ? nil : engine.table[context.flowSlot].key,
                                    side: limit.per == .direction ? context.side : nil)
            let rate = Double(limit.bitsPerSecond) / 8
            let burst = Double(limit.burst)
            let bytes = Double(Self.wireBytes(of: packet, overhead: limit.overhead))
            let leaves = engine.rateBuckets[key, default: RateBucket(burst: burst, now: now)]
                .departure(of: bytes, at: now, rate: rate, burst: burst, limit: limit.queue)
            engine.noteRateDecision(at: now)
            guard let leaves else { return Decision(.drop) }
            return leaves <= now ? .accept : Decision(.acceptAfter(Instant(nanoseconds: leaves)))
        }

        /// The bytes `packet` puts on the wire: its IP length plus `overhead`, and for a GSO
        /// super-packet (longer than an Ethernet MTU) the headers and overhead of every segment
        /// it becomes, taking 1500-byte segments.
        static func wireBytes(of packet: Packet, overhead: Int) -> Int {
            let headers = packet.payloadOffset
            guard packet.length > 1500, packet.payloadLength > 0, headers < 1500 else { return packet.length + overhead }
            let perSegment = 1500 - headers
            let segments = (packet.payloadLength + perSegment - 1) / perSegment
            return packet.payloadLength + segments * (headers + overhead)
        }
    }
}

/// Whose packets share a bucket: the rule's, a connection's, or a connection's in one direction.
struct RateBucketKey: Hashable, Sendable {
    let rule: Int
    let flow: FlowKey?
    let side: Side?
}
