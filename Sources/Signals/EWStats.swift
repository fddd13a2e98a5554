/// Exponentially weighted mean and variance, updated in O(1): `mean += α·(x − mean)`,
/// `variance = (1 − α)·(variance + α·(x − mean₀)²)` (West's recursion; pandas'
/// `ewm(alpha=α, adjust=False)` mean and `var(bias=True)`). The first value seeds the mean.
public struct EWStats: Sendable, Equatable {
    public let alpha: Double
    // Stored apart from the read-only accessors so that `add` can be inlinable (the per-update
    // trackers are built on it).
    @usableFromInline
    struct Moments: Sendable, Equatable {
        @usableFromInline var mean = 0.0
        @usableFromInline var variance = 0.0
        @usableFromInline var count = 0
        @usableFromInline init() {}
    }
    @usableFromInline var state = Moments()
    public var mean: Double { state.mean }
    public var variance: Double { state.variance }
    public var count: Int { state.count }

    public init(alpha: Double) {
        precondition(alpha > 0 && alpha <= 1, "alpha in (0, 1]")
        self.alpha = alpha
    }

    /// The usual span form: α = 2 / (span + 1) (an "EMA 5" has span 5).
    public init(span: Double) { self.init(alpha: 2 / (span + 1)) }

    @inlinable
    public mutating func add(_ x: Double) {
        state.count += 1
        if state.count == 1 {
            state.mean = x
            state.variance = 0
            return
        }
        let d = x - state.mean
        state.mean += alpha * d
        state.variance = (1 - alpha) * (state.variance + alpha * d * d)
    }

    @inlinable
    public var standardDeviation: Double { variance.squareRoot() }

    /// How many standard deviations `x` lies from the mean (0 while the deviation is 0).
    @inlinable
    public func zScore(_ x: Double) -> Double {
        let s = standardDeviation
        return s > 0 ? (x - mean) / s : 0
    }
}
