/// Momentum of one price series, O(1) per update and no allocation: EMAs over 5, 15 and 60
/// updates, the z-score of the price against the 60-update mean and deviation, velocity (the
/// relative change of the EMA 5 per update) and acceleration (the change of velocity).
public struct PriceMomentumTracker: Sendable, Equatable {
    public struct Reading: Sendable, Equatable {
        public var ema5: Double
        public var ema15: Double
        public var ema60: Double
        /// (price − mean₆₀) / deviation₆₀, measured before the price joins the statistics.
        public var zScore: Double
        public var velocity: Double
        public var acceleration: Double
        /// (ema5 − ema60) / ema60: above 0, rising.
        public var trend: Double { ema60 != 0 ? (ema5 - ema60) / ema60 : 0 }
    }

    private var fast = EWStats(span: 5)
    private var medium = EWStats(span: 15)
    private var slow = EWStats(span: 60)
    private var velocity = 0.0
    public private(set) var updates = 0

    public init() {}

    /// Adds a price (positive and finite; anything else is ignored and returns nil).
    @discardableResult
    public mutating func add(_ price: Double) -> Reading? {
        guard price.isFinite, price > 0 else { return nil }
        let z = slow.count > 1 ? slow.zScore(price) : 0
        let before = fast.mean
        fast.add(price)
        medium.add(price)
        slow.add(price)
        updates += 1
        let v = updates > 1 && before != 0 ? (fast.mean - before) / before : 0
        let a = updates > 2 ? v - velocity : 0
        velocity = v
        reading = Reading(ema5: fast.mean, ema15: medium.mean, ema60: slow.mean, zScore: z, velocity: v, acceleration: a)
        return reading
    }

    /// The reading of the last price added.
    public private(set) var reading: Reading?
}
