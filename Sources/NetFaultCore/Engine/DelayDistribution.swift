import Foundation

/// The shape of a delay's spread around its mean, as tc netem names them (`distribution normal`):
/// a draw `t` scales the jitter, so the delay is `delay + jitter × t`.
public enum DelayDistribution: String, Sendable, CaseIterable {
    /// `t` uniform in [-1, 1): netem without a table.
    case uniform
    /// `t` standard normal: netem's `normal` table.
    case normal
    /// netem's `pareto` table (iproute2's netem/pareto.c): a Pareto of shape 3, shifted to mean 0
    /// and scaled by 4/3, its tail cut at 4 as the table's is (mean -0.03, standard deviation
    /// 0.82, median -0.32): a long tail of late packets.
    case pareto
    /// netem's `paretonormal` table: 1/4 of a normal draw plus 3/4 of a Pareto one.
    case paretonormal

    /// The draw for the uniform `u` in (0, 1) and a standard normal `z` (independent of `u`;
    /// only `paretonormal` uses both).
    func draw(uniform u: Double, normal z: Double) -> Double {
        switch self {
        case .uniform: return 2 * u - 1
        case .normal: return z
        case .pareto: return Self.pareto(u)
        case .paretonormal: return 0.25 * z + 0.75 * Self.pareto(u)
        }
    }

    /// The Pareto draw for `u` in (0, 1): the inverse of its distribution function.
    static func pareto(_ u: Double) -> Double {
        min(4, (pow(max(u, 1e-300), -1.0 / 3) - 1.5) * 4 / 3)
    }
}

/// Successive draws that depend on the previous one by `correlation` (0 to 1), with every draw's
/// distribution unchanged: a Gaussian AR(1) sequence, `z' = ρz + √(1-ρ²)ε`, mapped to a uniform
/// through the normal distribution function where a uniform is needed. tc netem instead mixes
/// each uniform with the last (`(1-ρ)·new + ρ·last`), which narrows the spread as the correlation
/// grows; here the configured jitter stays the jitter.
struct CorrelatedDraw: Sendable {
    /// The last Gaussian of the sequence; nil before the first draw.
    var last: Double?

    /// The next (uniform, normal) pair: the normal correlated with the last, the uniform its image
    /// (so also correlated), plus `fresh`, an independent normal for `paretonormal`'s second part.
    mutating func next(correlation: Double, random: inout SeededGenerator) -> (uniform: Double, normal: Double, fresh: Double) {
        let epsilon = Self.standardNormal(&random)
        let z = last.map { correlation * $0 + (1 - correlation * correlation).squareRoot() * epsilon } ?? epsilon
        last = z
        let uniform = min(max(0.5 * erfc(-z / 2.0.squareRoot()), 1e-12), 1 - 1e-12)
        return (uniform, z, Self.standardNormal(&random))
    }

    /// A standard normal draw (Box-Muller).
    static func standardNormal(_ random: inout SeededGenerator) -> Double {
        let u1 = max(random.unitInterval(), 1e-300)
        let u2 = random.unitInterval()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
