/// A token bucket that schedules rather than drops: each packet leaves when the bucket holds its
/// bytes (at once while the burst lasts, then at the rate), behind every packet before it, and is
/// refused when it would wait past the queue's limit — what the kernel's `tbf` does to a queue of
/// packets, computed per packet with the departure time as the answer.
struct RateBucket: Sendable {
    /// Bytes the bucket holds at `updated` (at most the burst).
    var tokens: Double
    /// Nanoseconds: when `tokens` was counted.
    var updated: Int64
    /// Nanoseconds: when the last packet scheduled leaves; nothing leaves before it.
    var lastDeparture: Int64
    /// Departure times of the packets still waiting, oldest first (`queue: N packets` only).
    var waiting: [Int64] = []
    var waitingStart = 0

    init(burst: Double, now: Int64) {
        tokens = burst
        updated = now
        lastDeparture = now
    }

    /// When a packet of `bytes` sent at `now` leaves; nil when the queue limit refuses it (the
    /// bucket is then as it was).
    mutating func departure(of bytes: Double, at now: Int64, rate bytesPerSecond: Double, burst: Double, limit: RateLimit.QueueLimit) -> Int64? {
        let start = max(now, lastDeparture)
        let refilled = min(burst, tokens + Double(start - updated) * bytesPerSecond / 1e9)
        let wait = refilled >= bytes ? 0 : Int64(((bytes - refilled) / bytesPerSecond * 1e9).rounded(.up))
        let leaves = start + wait
        switch limit {
        case .time(let nanoseconds): if leaves - now > nanoseconds { return nil }
        case .bytes(let most): if Double(max(0, lastDeparture - now)) * bytesPerSecond / 1e9 + bytes > Double(most) { return nil }
        case .packets(let most):
            while waitingStart < waiting.count, waiting[waitingStart] <= now { waitingStart += 1 }
            if waitingStart > 1024, waitingStart * 2 > waiting.count {
                waiting.removeFirst(waitingStart)
                waitingStart = 0
            }
            if leaves > now, waiting.count - waitingStart >= most { return nil }
            if leaves > now { waiting.append(leaves) }
        }
        tokens = max(0, refilled - bytes)
        updated = leaves
        lastDeparture = leaves
        return leaves
    }
}
