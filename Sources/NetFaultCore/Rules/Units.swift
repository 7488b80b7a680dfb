/// The units of the rule language: sizes (B, KB, KiB, MB, MiB, GB, GiB) and durations (us or µs, ms, s, m, h).
enum Units {
    static let sizeUnits: [(suffix: String, bytes: UInt64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
    ]
    static let durationUnits: [(suffix: String, nanoseconds: Double)] = [
        ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// `700KiB` → 716800. A bare number is bytes. Fractions are allowed (`1.5MB`) and rounded down.
    static func size(_ text: String) -> UInt64? {
        let trimmed = text.trimmingSpaces
        for unit in sizeUnits where trimmed.hasSuffix(unit.suffix) {
            guard let number = decimal(String(trimmed.dropLast(unit.suffix.count)).trimmingSpaces) else { return nil }
            let value = number * Double(unit.bytes)
            return value < 1.8e19 ? UInt64(value) : nil
        }
        guard let number = decimal(trimmed), number == number.rounded(.down), number < 1.8e19 else { return nil }
        return UInt64(number)
    }

    /// `250us`, `100ms`, `2.5s`, `3m`, `1h`. A unit is required: a bare `30` is refused, since it could mean anything.
    static func duration(_ text: String) -> Duration? {
        let trimmed = text.trimmingSpaces
        // "ms" and "us" before "m" and "s": the longest suffix wins.
        for unit in durationUnits.sorted(by: { $0.suffix.count > $1.suffix.count }) where trimmed.hasSuffix(unit.suffix) {
            guard let number = decimal(String(trimmed.dropLast(unit.suffix.count)).trimmingSpaces) else { return nil }
            let nanoseconds = number * unit.nanoseconds
            guard nanoseconds < 9e18 else { return nil }
            return .nanoseconds(Int64(nanoseconds))
        }
        return nil
    }

    /// `10Mbit` → 10 000 000 bits per second (k, M, G are powers of 1000, case-insensitive, as tc's
    /// `kbit`, `mbit`); `0` alone is 0.
    static func bitRate(_ text: String) -> UInt64? {
        let trimmed = text.trimmingSpaces
        if trimmed == "0" { return 0 }
        let lower = trimmed.lowercased()
        guard lower.hasSuffix("bit") else { return nil }
        var number = String(lower.dropLast(3)).trimmingSpaces
        var scale = 1.0
        for (prefix, factor) in [("k", 1e3), ("m", 1e6), ("g", 1e9)] where number.hasSuffix(prefix) {
            scale = factor
            number = String(number.dropLast()).trimmingSpaces
        }
        guard let value = decimal(number) else { return nil }
        let bits = value * scale
        return bits < 1e13 ? UInt64(bits) : nil
    }

    /// 10 000 000 → `10Mbit`, 1 500 000 → `1.5Mbit`.
    static func bitRateText(_ bits: UInt64) -> String {
        for (unit, factor) in [("Gbit", 1e9), ("Mbit", 1e6), ("Kbit", 1e3)] where Double(bits) >= factor {
            let value = Double(bits) / factor
            return (value == value.rounded() ? "\(Int(value))" : "\(value)") + unit
        }
        return "\(bits)bit"
    }

    /// `25%` → 0.25, `0.5%` → 0.005; a bare decimal from 0 to 1 is the share itself (`0.25`).
    static func percentage(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces
        if trimmed.hasSuffix("%") {
            guard let number = decimal(String(trimmed.dropLast()).trimmingSpaces), number <= 100 else { return nil }
            return number / 100
        }
        guard let number = decimal(trimmed), number <= 1 else { return nil }
        return number
    }

    /// 0.25 → `25%`, 0.005 → `0.5%`.
    static func percentText(_ share: Double) -> String {
        // To a ten-thousandth of a percent: the sum of two shares read from text is not exact.
        let percent = (share * 1_000_000).rounded() / 10_000
        return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
    }

    /// A non-negative decimal such as `12` or `0.25`; no signs, exponents, `inf` or `nan`.
    static func decimal(_ text: String) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              text.filter({ $0 == "." }).count <= 1, text != "." else { return nil }
        return Double(text)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating; rule durations are far below the limit.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (high, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : high &+ attoseconds / 1_000_000_000
    }

    /// Rule-file notation: the largest unit that expresses the value exactly (`250us`, `1500ms`, `30s`, `2m`).
    public var ruleText: String {
        let ns = nanoseconds
        if ns % 3_600_000_000_000 == 0, ns != 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns % 60_000_000_000 == 0, ns != 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
        return "\(Double(ns) / 1e3)us"
    }
}

/// A byte count as written in rule files: the largest binary unit that expresses it exactly.
func sizeText(_ bytes: UInt64) -> String {
    for (suffix, unit) in [("GiB", UInt64(1) << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= unit && bytes % unit == 0 {
        return "\(bytes / unit)\(suffix)"
    }
    return "\(bytes)B"
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

extension Duration {
    /// A duration as the rule language writes it (`500ms`, `3s`, `2m`, `1h`); nil for anything else.
    public init?(ruleText text: String) {
        guard let value = Units.duration(text) else { return nil }
        self = value
    }
}
