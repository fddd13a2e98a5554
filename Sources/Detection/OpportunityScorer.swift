import Opportunities
import Signals

/// Ranks opportunities for execution: expected dollars × confidence, where confidence is the
/// detector's, lowered by the pair's volatility (the state may move before inclusion) and by a
/// trend running against the trade's first hop, raised a little for a fresh dislocation (a large
/// z-score: a swap just moved the price) and for hot pairs (state is fresh there), and divided
/// by the seconds left before expiry (what expires soon goes first).
public struct OpportunityScorer: Sendable {
    public struct Weights: Sendable {
        /// Confidence lost per unit of per-update log-return deviation.
        public var volatility = 20.0
        /// Bonus for |z| ≥ `dislocationZ`.
        public var dislocation = 0.1
        public var dislocationZ = 2.0
        /// Confidence lost per unit of adverse trend (ema5 vs ema60).
        public var adverseTrend = 5.0
        public var hot = 0.05
        public init() {}
    }

    public var weights: Weights
    public init(weights: Weights = Weights()) { self.weights = weights }

    public struct Score: Sendable, Equatable {
        public var confidence: Double
        /// Micro-dollars × confidence per second left.
        public var value: Double
    }

    /// `momentum`: the first hop's price reading (tokenOut per tokenIn); `activity`: its pair's.
    public func score(_ o: Opportunity, momentum: PriceMomentumTracker.Reading?, activity: PairActivityTracker<UInt64>.Activity?,
                      now: UInt64) -> Score {
        var c = o.confidence
        if let a = activity {
            c *= 1 / (1 + weights.volatility * a.volatility)
            if a.isHot { c *= 1 + weights.hot }
        }
        if let m = momentum {
            // The first hop buys tokenOut: a falling price of tokenOut per tokenIn means the
            // output shrinks while we wait.
            if m.trend < 0 { c *= max(0, 1 - weights.adverseTrend * -m.trend) }
            if abs(m.zScore) >= weights.dislocationZ { c *= 1 + weights.dislocation }
        }
        c = min(max(c, 0), 1)
        let secondsLeft = o.expiresAt > now ? Double(o.expiresAt - now) / 1e9 : 0
        guard secondsLeft > 0, o.netProfitMicroUSD > 0 else { return Score(confidence: c, value: 0) }
        return Score(confidence: c, value: Double(o.netProfitMicroUSD) * c / max(secondsLeft, 1))
    }
}
