import EVMPrimitives
import Opportunities

/// The CEX as a fair-value check on the other detectors' opportunities: every hop whose pair the
/// exchange prices is compared with what the mid says its input is worth. A hop that gets less
/// than that, beyond the pool's fee and a noise band, trades against the CEX's direction: the
/// cycle relies on a price the exchange says is wrong (it sells what the exchange values more, or
/// buys what it values less). Such an opportunity's confidence is marked down (×0.8); one whose
/// priced hops are all on the CEX's side is marked up (×1.15, at most 1): the original's weights.
public enum CexAlignment {
    public enum Verdict: Equatable, Sendable {
        /// No hop's pair is priced by the exchange.
        case unpriced
        case aligned
        case contradicted
    }

    public static let alignedWeight = 1.15
    public static let contradictedWeight = 0.8

    /// The verdict on `o`'s path, and its confidence weighted by it. `bandBps` is the pool's fee
    /// and noise a hop may give up against the mid without counting as against it.
    public static func check(_ o: Opportunity, references: [CexReference], bandBps: Double = 40) -> (Verdict, Double) {
        var priced = false
        var amountIn = o.amountIn
        for hop in o.path {
            defer { amountIn = hop.amountOut }
            guard let r = references.first(where: { ($0.base == hop.tokenIn && $0.quote == hop.tokenOut) || ($0.base == hop.tokenOut && $0.quote == hop.tokenIn) })
            else { continue }
            priced = true
            let fair = hop.tokenIn == r.base ? UInt256.mulDiv(amountIn, r.numerator, r.denominator) : UInt256.mulDiv(amountIn, r.denominator, r.numerator)
            guard let fair, !fair.isZero else { continue }
            if hop.amountOut.doubleValue < fair.doubleValue * (1 - bandBps / 10_000) {
                return (.contradicted, o.confidence * contradictedWeight)
            }
        }
        guard priced else { return (.unpriced, o.confidence) }
        return (.aligned, min(1, o.confidence * alignedWeight))
    }
}
