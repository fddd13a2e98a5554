import Foundation
import Signals

/// Statistical arbitrage on correlated pairs (design item #31): per pair, the log prices feed a
/// rolling correlation, the spread's Bollinger bands and the spread's regime; a spread that
/// crosses out of a band is a signal only while the pair is correlated (r > `minCorrelation`),
/// cointegrated (Engle–Granger p < `maxPValue`) and mean-reverting (Hurst < `maxHurst`).
///
/// Per update the work is O(1): correlation, spread and band. The Hurst exponent is computed only
/// when a band is crossed. Engle–Granger runs every `cointegrationEvery` updates of a pair. When it
/// gives a new hedge ratio, the spread's window and its regime are rebuilt on that ratio from the
/// kept prices, so every spread in a window shares one β.
public struct StatisticalArbitrageDetector: Sendable {
    public struct Configuration: Sendable {
        public var correlationWindow = 60
        public var cointegrationWindow = 120
        public var cointegrationEvery = 20
        public var bandWindow = 20
        public var bandWidth = 2.0
        public var regimeWindow = 100
        public var minCorrelation = 0.7
        public var maxPValue = 0.05
        public var maxHurst = 0.5
        /// The spread's β: the Engle–Granger hedge ratio, or 1 (log(A/B), as the original).
        public var useHedgeRatio = true
        public init() {}
    }

    /// Buy A and sell B (the spread is below its band), or the reverse.
    public enum Side: Sendable, Equatable { case longA, shortA }

    public struct Signal: Sendable, Equatable {
        public var pair: Int
        public var side: Side
        public var spread: Double
        public var mean: Double
        public var deviation: Double
        public var z: Double
        public var hedgeRatio: Double
        public var correlation: Double
        public var pValue: Double
        public var hurst: Double
        /// The spread's distance to its mean (log units): what a full reversion returns.
        public var expectedReversion: Double { abs(spread - mean) }
        /// 0…1: how far each gate is passed, multiplied (a signal at the gates' edges is near 0).
        public var confidence: Double
    }

    public enum Event: Sendable, Equatable {
        case enter(Signal)
        /// The spread crossed back over its mean.
        case revert(pair: Int, z: Double)
    }

    /// What is refused at a band crossing, counted by gate.
    public struct Counts: Sendable, Equatable {
        /// Engle–Granger tests run.
        public var tests = 0
        public var crossings = 0
        public var lowCorrelation = 0
        public var notCointegrated = 0
        public var trending = 0
        public var signals = 0
        public init() {}
    }

    struct Pair: Sendable {
        var correlation: PairCorrelationTracker
        var spread: SpreadTracker
        var regime: RegimeDetector
        var cointegration: Cointegration?
        var sinceTest = 0
    }

    public let configuration: Configuration
    private var pairs: [Pair]
    public private(set) var counts = Counts()

    public init(pairs: Int, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let c = configuration
        self.pairs = Array(repeating: Pair(correlation: PairCorrelationTracker(window: c.correlationWindow, cointegrationWindow: max(c.cointegrationWindow, c.regimeWindow + 1)),
                                           spread: SpreadTracker(window: c.bandWindow, width: c.bandWidth, hedgeRatio: 1),
                                           regime: RegimeDetector(window: c.regimeWindow)), count: pairs)
    }

    public var pairCount: Int { pairs.count }

    /// The last Engle–Granger result of `pair`.
    public func cointegration(of pair: Int) -> Cointegration? { pairs[pair].cointegration }

    /// One observation of `pair`'s two prices (A and B in a common unit); nil unless it is a
    /// signal or a reversion. Non-positive or non-finite prices are ignored.
    public mutating func update(pair i: Int, priceA: Double, priceB: Double) -> Event? {
        guard i >= 0, i < pairs.count, priceA > 0, priceB > 0, priceA.isFinite, priceB.isFinite else { return nil }
        let (a, b) = (log(priceA), log(priceB))
        pairs[i].correlation.add(a, b)
        pairs[i].regime.add(a - pairs[i].spread.hedgeRatio * b)
        let reading = pairs[i].spread.add(logA: a, logB: b)
        var event: Event?
        if let reading {
            switch reading.signal {
            case .none: break
            case .revert: event = .revert(pair: i, z: reading.z)
            case .enterLong, .enterShort: event = gate(i, reading)
            }
        }
        pairs[i].sinceTest += 1
        if pairs[i].sinceTest >= configuration.cointegrationEvery { retest(i) }
        return event
    }

    /// A band crossing through the gates: correlated, cointegrated, mean-reverting.
    private mutating func gate(_ i: Int, _ reading: SpreadTracker.Reading) -> Event? {
        let c = configuration
        counts.crossings += 1
        guard let r = pairs[i].correlation.correlation, r > c.minCorrelation else {
            counts.lowCorrelation += 1
            return nil
        }
        guard let eg = pairs[i].cointegration, eg.pValue < c.maxPValue else {
            counts.notCointegrated += 1
            return nil
        }
        guard let h = pairs[i].regime.hurst(), h < c.maxHurst else {
            counts.trending += 1
            return nil
        }
        counts.signals += 1
        let confidence = (r - c.minCorrelation) / (1 - c.minCorrelation) * (1 - eg.pValue / c.maxPValue) * (c.maxHurst - h) / c.maxHurst
        return .enter(Signal(pair: i, side: reading.signal == .enterLong ? .longA : .shortA, spread: reading.spread, mean: reading.mean,
                             deviation: reading.deviation, z: reading.z, hedgeRatio: pairs[i].spread.hedgeRatio, correlation: r,
                             pValue: eg.pValue, hurst: h, confidence: max(0, min(1, confidence))))
    }

    /// Engle–Granger on the kept prices; a new hedge ratio rebuilds the spread and its regime on it.
    private mutating func retest(_ i: Int) {
        pairs[i].sinceTest = 0
        counts.tests += 1
        guard let eg = pairs[i].correlation.cointegration() else { return }
        pairs[i].cointegration = eg
        guard configuration.useHedgeRatio, eg.hedgeRatio.isFinite, eg.hedgeRatio > 0 else { return }
        let (xs, ys) = pairs[i].correlation.recent(configuration.regimeWindow + 1)
        var spread = SpreadTracker(window: configuration.bandWindow, width: configuration.bandWidth, hedgeRatio: eg.hedgeRatio)
        var regime = RegimeDetector(window: configuration.regimeWindow)
        for (a, b) in zip(xs, ys) {
            regime.add(a - eg.hedgeRatio * b)
            _ = spread.add(logA: a, logB: b)
        }
        pairs[i].spread = spread
        pairs[i].regime = regime
    }
}
