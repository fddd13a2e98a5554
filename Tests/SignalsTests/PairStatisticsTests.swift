import Foundation
import Signals
import Testing

/// The pair statistics' own edges (the numbers themselves are checked against statsmodels,
/// numpy and pandas in python/tests/test_statarb_signals.py).
@Suite struct PairStatisticsTests {
    @Test func leastSquaresFitsAnExactLineAndRefusesCollinearColumns() throws {
        let x = (0..<10).map(Double.init)
        let fit = try #require(LeastSquares(columns: [x, [Double](repeating: 1, count: 10)], y: x.map { 2 * $0 + 1 }))
        #expect(abs(fit.coefficients[0] - 2) < 1e-12 && abs(fit.coefficients[1] - 1) < 1e-12 && fit.ssr < 1e-20)
        #expect(LeastSquares(columns: [x, x.map { 3 * $0 }], y: x) == nil)
        #expect(LeastSquares(columns: [[1, 2]], y: [1, 2]) != nil && LeastSquares(columns: [[1]], y: [1]) == nil)
    }

    @Test func correlationStaysExactOverAMillionUpdates() {
        // Log prices near 8 with tiny moves: the case where raw sums cancel. After a million
        // incremental updates the tracker still agrees with a two-pass computation to 1e-9.
        var t = PairCorrelationTracker(window: 60)
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var x = 8.0, y = 8.0
        var xs: [Double] = [], ys: [Double] = []
        for _ in 0..<1_000_000 {
            let common = next()
            x += 1e-4 * common + 1e-5 * next()
            y += 1e-4 * common + 1e-5 * next()
            t.add(x, y)
            xs.append(x)
            ys.append(y)
            if xs.count > 60 { xs.removeFirst(); ys.removeFirst() }
        }
        let mx = xs.reduce(0, +) / 60, my = ys.reduce(0, +) / 60
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(xs, ys) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        let exact = sxy / (sxx * syy).squareRoot()
        #expect(abs((t.correlation ?? .nan) - exact) < 1e-9)
        #expect(exact > 0.9)
    }

    @Test func badSamplesAreIgnoredAndFlatSeriesGiveNoReading() {
        var t = PairCorrelationTracker(window: 3)
        t.add(.nan, 1)
        t.add(1, .infinity)
        #expect(t.samples == 0)
        for _ in 0..<5 { t.add(1, 2) }
        #expect(t.correlation == nil)
        var s = SpreadTracker(window: 3)
        #expect(s.add(logA: 1, logB: 1) == nil && s.add(logA: 1, logB: 1) == nil && s.add(logA: 1, logB: 1) == nil)
        #expect(s.add(logA: .nan, logB: 1) == nil)
        var r = RegimeDetector(window: 16)
        for i in 0..<16 { r.add(Double(i)) }
        #expect(r.hurst() == nil)  // 15 increments, all equal
        r.add(.nan)
        r.add(16)
        #expect(r.hurst() == nil)  // 16 increments, constant: no deviation
        var tenths = RegimeDetector(window: 16)
        for i in 0...16 { tenths.add(0.1 * Double(i) + 7) }
        #expect(tenths.hurst() == nil)  // equal up to rounding: still no deviation
    }

    @Test func theSpreadSignalsCrossingsOnce() throws {
        var s = SpreadTracker(window: 5, width: 1.2)
        let spreads = [0.0, 0.1, -0.1, 0.05, -0.05, 0.0, 0.9, 0.95, 0.3, -0.2, -0.9, -0.95, -1.5]
        let readings = spreads.compactMap { s.add(logA: $0, logB: 0) }
        // pandas' rolling(5) z: -0.632, 0.0, 1.773, 1.141, -0.25, -1.134, -1.424, -0.977, -1.208.
        #expect(abs(readings[2].z - 1.773) < 1e-3 && abs(readings[6].z + 1.424) < 1e-3)
        // Out above the band once (not again while outside), back across the mean, out below, in, out again.
        #expect(readings.map(\.signal) == [.none, .none, .enterShort, .none, .revert, .none, .enterLong, .none, .enterLong])
    }
}
