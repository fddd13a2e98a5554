import ArbiterTestKit
import Detection
import Foundation
import Testing

/// The statistical-arbitrage detector on seeded synthetic pairs: a cointegrated pair with a
/// mean-reverting spread gives signals on both sides and reversions, with the hedge ratio it was
/// made with; independent random walks cross their bands as often but the gates stop them.
@Suite struct StatisticalArbitrageDetectorTests {
    /// Prices of A and B: log B a random walk; log A = 0.3 + β·log B + AR(φ) noise, or an independent walk.
    static func run(_ d: inout StatisticalArbitrageDetector, pair: Int, seed: UInt64, beta: Double, phi: Double, cointegrated: Bool,
                    steps: Int = 3_000) -> [StatisticalArbitrageDetector.Event] {
        var g = SeededGenerator(seed: seed), logB = 2.0, noise = 0.0, logA = 2.5
        var events: [StatisticalArbitrageDetector.Event] = []
        for _ in 0..<steps {
            logB += 0.01 * g.normal()
            noise = phi * noise + 0.004 * g.normal()
            logA = cointegrated ? 0.3 + beta * logB + noise : logA + 0.01 * g.normal()
            if let e = d.update(pair: pair, priceA: exp(logA), priceB: exp(logB)) { events.append(e) }
        }
        return events
    }

    @Test func aCointegratedMeanRevertingPairSignalsBothWaysAndReverts() throws {
        var d = StatisticalArbitrageDetector(pairs: 1)
        let events = Self.run(&d, pair: 0, seed: 7, beta: 1.6, phi: 0.3, cointegrated: true)
        let signals = events.compactMap { if case .enter(let s) = $0 { s } else { nil } }
        #expect(signals.contains { $0.side == .longA } && signals.contains { $0.side == .shortA })
        #expect(events.contains { if case .revert = $0 { true } else { false } })
        for s in signals {
            #expect(s.correlation > 0.7 && s.pValue < 0.05 && s.hurst < 0.5 && abs(s.z) > 2)
            #expect((s.side == .longA) == (s.z < 0) && s.confidence > 0 && s.confidence <= 1)
            #expect(abs(s.hedgeRatio - 1.6) < 0.1)
            #expect(abs(s.expectedReversion - abs(s.spread - s.mean)) < 1e-15)
        }
        #expect(d.counts.signals == signals.count && d.counts.signals > d.counts.crossings / 2)
    }

    @Test func independentWalksCrossTheirBandsButAreGatedOut() throws {
        var d = StatisticalArbitrageDetector(pairs: 2)
        let walks = Self.run(&d, pair: 0, seed: 11, beta: 1, phi: 0, cointegrated: false)
        let enters = walks.filter { if case .enter = $0 { true } else { false } }.count
        #expect(d.counts.crossings > 50)
        #expect(Double(enters) < 0.2 * Double(d.counts.crossings))
        #expect(d.counts.lowCorrelation + d.counts.notCointegrated + d.counts.trending + d.counts.signals == d.counts.crossings)
        // Pairs are independent: the second pair's state is its own.
        #expect(d.cointegration(of: 1) == nil)
    }

    @Test func badPricesAndUnknownPairsAreIgnored() {
        var d = StatisticalArbitrageDetector(pairs: 1)
        #expect(d.update(pair: 0, priceA: 0, priceB: 1) == nil && d.update(pair: 0, priceA: .nan, priceB: 1) == nil)
        #expect(d.update(pair: 3, priceA: 1, priceB: 1) == nil && d.update(pair: -1, priceA: 1, priceB: 1) == nil)
        #expect(d.counts.crossings == 0 && d.counts.signals == 0)
    }
}
