/// A loss model with memory, as tc netem's `loss gemodel` and `loss state` (Salsano et al.,
/// "Definition of a general and intuitive loss model for packet networks and its implementation
/// in the Netem module in the Linux kernel", NetemCLG): the rule's packets walk a Markov chain,
/// and the state they are in says whether they are lost, so losses come in bursts.
public enum LossModel: Sendable, Equatable {
    /// Gilbert-Elliott: a good and a bad state. `p`: good → bad; `r`: bad → good; `h`: a packet
    /// in the bad state gets through; `k`: one in the good state does (netem's `gemodel p r 1-h 1-k`).
    case gilbertElliott(p: Double, r: Double, h: Double, k: Double)
    /// netem's 4-state model (`loss state p13 p31 p32 p23 p14`): 1 delivered in a gap, 2 delivered
    /// in a burst, 3 lost in a burst, 4 lost alone in a gap.
    case fourState(p13: Double, p31: Double, p32: Double, p23: Double, p14: Double)

    /// The model's state per rule: where the chain stands.
    struct State: Sendable {
        /// Gilbert-Elliott: 1 good, 2 bad; 4-state: 1-4 as netem numbers them.
        var state = 1
    }

    /// Whether the next packet is lost, moving the chain on; one or two draws from `random`.
    func lost(_ state: inout State, random: inout SeededGenerator) -> Bool {
        switch self {
        case .gilbertElliott(let p, let r, let h, let k):
            // As netem: the state the packet finds decides its fate; the chain moves on for the next.
            if state.state == 1 {
                if random.unitInterval() < p { state.state = 2 }
                return random.unitInterval() >= k
            }
            if random.unitInterval() < r { state.state = 1 }
            return random.unitInterval() >= h
        case .fourState(let p13, let p31, let p32, let p23, let p14):
            let roll = random.unitInterval()
            switch state.state {
            case 1:
                if roll < p14 { state.state = 4; return true }
                if roll < p14 + p13 { state.state = 3; return true }
                return false
            case 2:
                if roll < p23 { state.state = 3; return true }
                return false
            case 3:
                if roll < p32 { state.state = 2; return false }
                if roll < p32 + p31 { state.state = 1; return false }
                return true
            default:
                state.state = 1
                return false
            }
        }
    }

    /// `gilbert-elliott p 1% r 30% h 0% k 100%`.
    public var summary: String {
        switch self {
        case .gilbertElliott(let p, let r, let h, let k):
            return "Gilbert-Elliott p \(Units.percentText(p)), r \(Units.percentText(r)), h \(Units.percentText(h)), k \(Units.percentText(k))"
        case .fourState(let p13, let p31, let p32, let p23, let p14):
            return "4-state p13 \(Units.percentText(p13)), p31 \(Units.percentText(p31)), p32 \(Units.percentText(p32)), "
                + "p23 \(Units.percentText(p23)), p14 \(Units.percentText(p14))"
        }
    }
}
