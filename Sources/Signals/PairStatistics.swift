import Foundation

/// The last `capacity` values, oldest first by index.
struct Ring: Sendable {
    private(set) var values: [Double]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { values = [Double](repeating: 0, count: max(1, capacity)) }

    var capacity: Int { values.count }

    /// The i-th newest … oldest: `self[0]` is the oldest kept.
    subscript(i: Int) -> Double { values[(head + capacity - count + i) % capacity] }

    /// The value `back` places behind the newest (0: the newest).
    func newest(_ back: Int = 0) -> Double { values[(head + capacity - 1 - back) % capacity] }

    mutating func append(_ v: Double) {
        values[head] = v
        head = (head + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// The last `n` values, oldest first.
    func last(_ n: Int) -> [Double] { (count - min(n, count)..<count).map { self[$0] } }
}

/// Rolling Pearson correlation of two series over `window` samples, O(1) per update: sums of
/// the values less a shift (the window's mean when last recomputed, so no cancellation on
/// prices far from zero), recomputed exactly every `window` updates so rounding cannot drift.
/// Keeps `cointegrationWindow` samples for an Engle–Granger test on demand.
public struct PairCorrelationTracker: Sendable {
    public let window: Int
    public let cointegrationWindow: Int
    private var xs: Ring, ys: Ring
    private var shift = (x: 0.0, y: 0.0)
    private var sums = (x: 0.0, y: 0.0, xx: 0.0, yy: 0.0, xy: 0.0)
    private var sinceExact = 0

    public init(window: Int = 60, cointegrationWindow: Int = 120) {
        self.window = max(3, window)
        self.cointegrationWindow = max(self.window, cointegrationWindow)
        xs = Ring(capacity: self.cointegrationWindow)
        ys = Ring(capacity: self.cointegrationWindow)
    }

    public var samples: Int { xs.count }

    /// One sample of each series (log prices, say); non-finite samples are ignored.
    public mutating func add(_ x: Double, _ y: Double) {
        guard x.isFinite, y.isFinite else { return }
        if xs.count >= window {
            let (ox, oy) = (xs.newest(window - 1) - shift.x, ys.newest(window - 1) - shift.y)
            sums = (sums.x - ox, sums.y - oy, sums.xx - ox * ox, sums.yy - oy * oy, sums.xy - ox * oy)
        }
        xs.append(x)
        ys.append(y)
        let (dx, dy) = (x - shift.x, y - shift.y)
        sums = (sums.x + dx, sums.y + dy, sums.xx + dx * dx, sums.yy + dy * dy, sums.xy + dx * dy)
        sinceExact += 1
        if sinceExact >= window || xs.count == 1 { recompute() }
    }

    /// Pearson's r over the last `window` samples; nil until the window is full or when a side does not vary.
    public var correlation: Double? {
        guard xs.count >= window else { return nil }
        let n = Double(window)
        let cxx = n * sums.xx - sums.x * sums.x, cyy = n * sums.yy - sums.y * sums.y, cxy = n * sums.xy - sums.x * sums.y
        guard cxx > 0, cyy > 0 else { return nil }
        return max(-1, min(1, cxy / (cxx * cyy).squareRoot()))
    }

    /// The last `n` samples of each series (fewer while fewer are kept), oldest first.
    public func recent(_ n: Int) -> (x: [Double], y: [Double]) { (xs.last(n), ys.last(n)) }

    /// Engle–Granger on the last `cointegrationWindow` samples (x on y: `x = α + β·y`); nil until full.
    public func cointegration(maxLag: Int? = nil) -> Cointegration? {
        guard xs.count >= cointegrationWindow else { return nil }
        return Cointegration.engleGranger(xs.last(cointegrationWindow), ys.last(cointegrationWindow), maxLag: maxLag)
    }

    private mutating func recompute() {
        // In place over the ring (no copy on the update path): the window's mean, then the sums about it.
        let n = min(window, xs.count), first = xs.count - n
        var mean = (x: 0.0, y: 0.0)
        for j in first..<xs.count { mean = (mean.x + xs[j], mean.y + ys[j]) }
        shift = (mean.x / Double(n), mean.y / Double(n))
        sums = (0, 0, 0, 0, 0)
        for j in first..<xs.count {
            let (dx, dy) = (xs[j] - shift.x, ys[j] - shift.y)
            sums = (sums.x + dx, sums.y + dy, sums.xx + dx * dx, sums.yy + dy * dy, sums.xy + dx * dy)
        }
        sinceExact = 0
    }
}

/// A pair's spread, log(priceA) − β·log(priceB), in Bollinger bands over `window` samples at
/// `width` standard deviations (the sample deviation, as pandas' rolling std): entry when the
/// spread crosses out of a band, reversion when it crosses its mean. O(1) per update, with the
/// sums recomputed exactly every `window` updates.
public struct SpreadTracker: Sendable {
    public enum Signal: Sendable, Equatable {
        case none
        /// Crossed above the upper band: A is dear against B (sell A, buy B).
        case enterShort
        /// Crossed below the lower band: A is cheap against B (buy A, sell B).
        case enterLong
        /// Crossed the mean: the spread has reverted.
        case revert
    }

    public struct Reading: Sendable, Equatable {
        public var spread: Double
        public var mean: Double
        public var deviation: Double
        /// (spread − mean) / deviation.
        public var z: Double
        public var signal: Signal
        public var upper: Double { mean + width * deviation }
        public var lower: Double { mean - width * deviation }
        let width: Double
    }

    public let window: Int
    public let width: Double
    public var hedgeRatio: Double
    private var spreads: Ring
    private var shift = 0.0
    private var sum = 0.0, sumSquares = 0.0
    private var sinceExact = 0
    public private(set) var last: Reading?

    public init(window: Int = 20, width: Double = 2, hedgeRatio: Double = 1) {
        self.window = max(2, window)
        self.width = width
        self.hedgeRatio = hedgeRatio
        spreads = Ring(capacity: self.window)
    }

    /// The spread of the two prices' logarithms; nil until the window is full or while it does not vary.
    public mutating func add(logA: Double, logB: Double) -> Reading? {
        let s = logA - hedgeRatio * logB
        guard s.isFinite else { return nil }
        if spreads.count == window {
            let old = spreads[0] - shift
            sum -= old
            sumSquares -= old * old
        }
        spreads.append(s)
        sum += s - shift
        sumSquares += (s - shift) * (s - shift)
        sinceExact += 1
        if sinceExact >= window || spreads.count == 1 { recompute() }
        guard spreads.count == window else { return nil }
        let n = Double(window)
        let mean = shift + sum / n
        let variance = max(0, (sumSquares - sum * sum / n) / (n - 1))
        guard variance > 0 else { return nil }
        let deviation = variance.squareRoot(), z = (s - mean) / deviation
        var signal = Signal.none
        if let previous = last {
            if z > width && previous.z <= width { signal = .enterShort }
            else if z < -width && previous.z >= -width { signal = .enterLong }
            else if (z <= 0) != (previous.z <= 0) { signal = .revert }
        }
        let reading = Reading(spread: s, mean: mean, deviation: deviation, z: z, signal: signal, width: width)
        last = reading
        return reading
    }

    private mutating func recompute() {
        // In place over the ring (no copy on the update path): the mean, then the sums about it.
        var total = 0.0
        for j in 0..<spreads.count { total += spreads[j] }
        shift = total / Double(spreads.count)
        sum = 0
        sumSquares = 0
        for j in 0..<spreads.count {
            let d = spreads[j] - shift
            sum += d
            sumSquares += d * d
        }
        sinceExact = 0
    }
}

/// The regime of a series from the Hurst exponent of its increments by rescaled range over the
/// last `window` increments: for each chunk size n (the window's divisors from 8), the mean over
/// chunks of R/S (R the range of the cumulative deviations from the chunk's mean, S its
/// population deviation), and H the least-squares slope of log(R/S) on log n. H < 0.5:
/// mean-reverting; above: trending. `add` is O(1); H is computed when asked and kept until the
/// next sample.
public struct RegimeDetector: Sendable {
    public enum Regime: Sendable, Equatable { case meanReverting, trending }

    public let window: Int
    public let sizes: [Int]
    private let logSizes: [Double]
    /// Each increment at i and i + window: the last `window` are always contiguous, from `head`.
    private var buffer: [Double]
    private var head = 0
    private var filled = 0
    private var previous: Double?
    private var cached: Double??

    public init(window: Int = 100) {
        let w = max(16, window)
        self.window = w
        sizes = (8...w).filter { w % $0 == 0 }
        logSizes = sizes.map { log(Double($0)) }
        buffer = [Double](repeating: 0, count: 2 * w)
    }

    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        if let previous {
            let d = value - previous
            buffer[head] = d
            buffer[head + window] = d
            head = head + 1 == window ? 0 : head + 1
            filled = min(filled + 1, window)
        }
        previous = value
        cached = nil
    }

    /// H over the last `window` increments; nil until there are that many, or when they do not vary.
    public mutating func hurst() -> Double? {
        if let cached { return cached }
        var h: Double?
        if filled == window {
            h = buffer.withUnsafeBufferPointer { b in
                Self.hurst(UnsafeBufferPointer(rebasing: b[head..<(head + window)]), sizes: sizes, logSizes: logSizes)
            }
        }
        cached = .some(h)
        return h
    }

    public mutating func regime() -> Regime? { hurst().map { $0 < 0.5 ? .meanReverting : .trending } }

    /// The rescaled-range estimate of H for `x` over chunk sizes `sizes` (each dividing x.count).
    public static func hurst(_ x: [Double], sizes: [Int]) -> Double? {
        x.withUnsafeBufferPointer { hurst($0, sizes: sizes, logSizes: sizes.map { log(Double($0)) }) }
    }

    static func hurst(_ x: UnsafeBufferPointer<Double>, sizes: [Int], logSizes: [Double]) -> Double? {
        // Prefix sums of the values and their squares, once: every chunk's mean and deviation
        // are then O(1), and its cumulative deviations independent of one another (no chain of
        // additions through the chunk).
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * (x.count + 1)) { buffer in
            let sum = buffer.baseAddress!, squares = sum + (x.count + 1)
            sum[0] = 0
            squares[0] = 0
            for i in 0..<x.count {
                sum[i + 1] = sum[i] + x[i]
                squares[i + 1] = squares[i] + x[i] * x[i]
            }
            // The least-squares slope of log(R/S) on log n, from running sums over the sizes.
            var count = 0.0, sa = 0.0, sb = 0.0, sab = 0.0, saa = 0.0
            for (k, n) in sizes.enumerated() where n >= 2 && x.count % n == 0 {
                let rs = meanRescaledRange(sum, squares, x.count, n)
                guard rs > 0 else { continue }
                let (a, b) = (logSizes[k], log(rs))
                count += 1
                sa += a
                sb += b
                sab += a * b
                saa += a * a
            }
            let denominator = count * saa - sa * sa
            guard count >= 2, denominator > 0 else { return nil }
            return (count * sab - sa * sb) / denominator
        }
    }

    /// The mean over chunks of `n` of R/S (chunks with no deviation left out); 0 if none has any.
    /// `sum` and `squares` are prefix sums of the `count` values and of their squares.
    static func meanRescaledRange(_ sum: UnsafeMutablePointer<Double>, _ squares: UnsafeMutablePointer<Double>, _ count: Int, _ n: Int) -> Double {
        var total = 0.0, chunks = 0
        let size = Double(n)
        var start = 0
        while start < count {
            let base = sum[start], mean = (sum[start + n] - base) / size
            let variance = max(0, (squares[start + n] - squares[start]) / size - mean * mean)
            // Cumulative deviation after k values: the prefix sum less k means (0 at k = 0 and k = n).
            // Four running minima and maxima each: one would be a chain of dependent min/max through the chunk.
            var lo = (0.0, 0.0, 0.0, 0.0), hi = (0.0, 0.0, 0.0, 0.0)
            var k = 1, kMean = mean
            let fourMeans = 4 * mean
            while k + 3 < n {
                let y0 = sum[start + k] - base - kMean
                let y1 = sum[start + k + 1] - base - (kMean + mean)
                let y2 = sum[start + k + 2] - base - (kMean + 2 * mean)
                let y3 = sum[start + k + 3] - base - (kMean + 3 * mean)
                lo = (y0 < lo.0 ? y0 : lo.0, y1 < lo.1 ? y1 : lo.1, y2 < lo.2 ? y2 : lo.2, y3 < lo.3 ? y3 : lo.3)
                hi = (y0 > hi.0 ? y0 : hi.0, y1 > hi.1 ? y1 : hi.1, y2 > hi.2 ? y2 : hi.2, y3 > hi.3 ? y3 : hi.3)
                k += 4
                kMean += fourMeans
            }
            while k < n {
                let y = sum[start + k] - base - Double(k) * mean
                lo.0 = y < lo.0 ? y : lo.0
                hi.0 = y > hi.0 ? y : hi.0
                k += 1
            }
            let range = max(max(hi.0, hi.1), max(hi.2, hi.3)) - min(min(lo.0, lo.1), min(lo.2, lo.3))
            if variance > 1e-14 * mean * mean, variance > 0 {
                total += range / variance.squareRoot()
                chunks += 1
            }
            start += n
        }
        return chunks > 0 ? total / Double(chunks) : 0
    }
}
