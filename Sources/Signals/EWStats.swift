/// Exponentially weighted mean and variance, updated in O(1): `mean += α·(x − mean)`,
/// `variance = (1 − α)·(variance + α·(x − mean₀)²)` (West's recursion; pandas'
/// `ewm(alpha=α, adjust=False)` mean and `var(bias=True)`). The first value seeds the mean.
public struct EWStats: Sendable, Equatable {
    public let alpha: Double
    public private(set) var mean = 0.0
    public private(set) var variance = 0.0
    public private(set) var count = 0

    public init(alpha: Double) {
        precondition(alpha > 0 && alpha <= 1, "alpha in (0, 1]")
        self.alpha = alpha
    }

    /// The usual span form: α = 2 / (span + 1) (an "EMA 5" has span 5).
    public init(span: Double) { self.init(alpha: 2 / (span + 1)) }

    public mutating func add(_ x: Double) {
        count += 1
        if count == 1 {
            mean = x
            variance = 0
            return
        }
        let d = x - mean
        mean += alpha * d
        variance = (1 - alpha) * (variance + alpha * d * d)
    }

    public var standardDeviation: Double { variance.squareRoot() }

    /// How many standard deviations `x` lies from the mean (0 while the deviation is 0).
    public func zScore(_ x: Double) -> Double {
        let s = standardDeviation
        return s > 0 ? (x - mean) / s : 0
    }
}
