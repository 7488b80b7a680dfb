/// A point on the controller's monotonic clock, in nanoseconds. The engine never reads a clock:
/// the caller passes the time in, so tests drive it with any sequence of instants.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = Instant(nanoseconds: 0)

    public static func milliseconds(_ value: Int64) -> Instant { Instant(nanoseconds: value * 1_000_000) }
    public static func seconds(_ value: Double) -> Instant { Instant(nanoseconds: Int64(value * 1e9)) }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Saturating: a far-future deadline never wraps into the past.
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanoseconds)
        return Instant(nanoseconds: overflow ? .max : sum)
    }

    /// Nanoseconds from `earlier` to `self`.
    public func since(_ earlier: Instant) -> Int64 { nanoseconds &- earlier.nanoseconds }

    public var description: String { "\(Double(nanoseconds) / 1e6)ms" }
}

/// An optional instant in 8 bytes instead of 16 (`Instant?` pads its flag to a word): the flow
/// record holds six, a million flows hold six million. `Int64.min`, which no monotonic clock
/// reads, stands for nil.
@propertyWrapper
public struct PackedInstant: Sendable {
    private var nanoseconds: Int64

    public init(wrappedValue: Instant?) { nanoseconds = wrappedValue?.nanoseconds ?? .min }

    public var wrappedValue: Instant? {
        get { nanoseconds == .min ? nil : Instant(nanoseconds: nanoseconds) }
        set { nanoseconds = newValue?.nanoseconds ?? .min }
    }
}
