import ArbiterTestKit
import Foundation
import EVMCodec
import Signals
import Testing

func numbers(_ v: JSONValue?) -> [Double] {
    (v?.arrayValue ?? []).compactMap { if case .number(let s) = $0 { Double(s) } else { nil } }
}

func close(_ a: Double, _ b: Double, _ rel: Double = 1e-9) -> Bool { abs(a - b) <= rel * max(abs(a), abs(b), 1e-300) }

/// pandas' `ewm(adjust=False)` statistics (Tests/Fixtures/signals, python/oracle/gen_signal_vectors.py)
/// against the O(1) trackers.
@Suite struct MomentumTests {
    @Test func emaVarianceZScoreVelocityMatchPandas() throws {
        let vectors = try Fixtures.vectors("signals/momentum.json")
        #expect(vectors.count >= 20)
        var checked = 0
        for (n, v) in vectors.enumerated() {
            let prices = numbers(v["prices"])
            let (e5, e15, e60, var60) = (numbers(v["ema5"]), numbers(v["ema15"]), numbers(v["ema60"]), numbers(v["var60"]))
            try #require(prices.count == e5.count && e60.count == var60.count && prices.count == e15.count)
            var tracker = PriceMomentumTracker()
            var stats = EWStats(alpha: 2.0 / 61)
            for (i, p) in prices.enumerated() {
                let reading = tracker.add(p)
                let r = try #require(reading)
                stats.add(p)
                #expect(close(r.ema5, e5[i]) && close(r.ema15, e15[i]) && close(r.ema60, e60[i]), "series \(n) step \(i)")
                #expect(close(stats.variance, var60[i], 1e-7) || abs(stats.variance - var60[i]) < 1e-12 * e60[i] * e60[i], "series \(n) step \(i)")
                // z before the price joins the statistics; velocity of the EMA 5.
                if i >= 2, var60[i - 1] > 0 {
                    let z = (p - e60[i - 1]) / var60[i - 1].squareRoot()
                    #expect(close(r.zScore, z, 1e-6), "series \(n) step \(i)")
                }
                if i >= 1 {
                    #expect(close(r.velocity, (e5[i] - e5[i - 1]) / e5[i - 1], 1e-6) || abs(r.velocity) < 1e-15)
                }
                checked += 1
            }
        }
        #expect(checked > 2_000)
    }

    @Test func activityVolatilityMatchesPandasAndRateDecays() throws {
        let vectors = try Fixtures.vectors("signals/momentum.json")
        for (n, v) in vectors.enumerated() {
            let prices = numbers(v["prices"]), std = numbers(v["returnStd30"])
            guard prices.count > 1 else { continue }
            var tracker = PairActivityTracker<Int>(window: 10, hotRate: 1)
            for (i, p) in prices.enumerated() { tracker.record(0, price: p, at: UInt64(i) * 100_000_000) }
            let a = tracker.activity(0, at: UInt64(prices.count - 1) * 100_000_000)
            #expect(close(a.volatility, std.last!, 1e-7) || abs(a.volatility - std.last!) < 1e-12, "series \(n)")
            #expect(a.updates == prices.count)
        }
        // Ten updates a second for a minute: the rate settles at 10/s (a window of 10 s keeps
        // e^-6 of the start), hot; a minute of silence cools it by e^-6.
        var t = PairActivityTracker<String>(window: 10, hotRate: 1)
        for i in 0..<600 { t.record("WETH/USDC", price: 3000, at: UInt64(i) * 100_000_000) }
        let busy = t.activity("WETH/USDC", at: 59_900_000_000)
        // 600 events 0.1 s apart, each decayed by e^-0.01 per step: a geometric sum.
        let settled: Double = (1 - exp(-6.0)) / (1 - exp(-0.01)) / 10
        #expect(close(busy.rate, settled, 1e-9) && busy.isHot)
        #expect(abs(busy.rate - 10) < 0.1)
        let quiet = t.activity("WETH/USDC", at: 119_900_000_000)
        #expect(close(quiet.rate, busy.rate * exp(-6), 1e-9) && !quiet.isHot)
        #expect(t.hotPairs(at: 59_900_000_000).map(\.key) == ["WETH/USDC"] && t.hotPairs(at: 119_900_000_000).isEmpty)
        let none = t.activity("nothing", at: 0)
        #expect(none.rate == 0 && none.updates == 0 && !none.isHot)
    }

    /// Detection's per-pool tracker (an array by pool index) reads exactly what the keyed tracker
    /// reads after the same seeded updates: random pools, prices (some bad), clock steps; pools
    /// never updated read as no activity.
    @Test func thePoolIndexedTrackerReadsAsTheKeyedOne() {
        var rng = SeededGenerator(seed: 23)
        var keyed = PairActivityTracker<UInt64>(window: 30, hotRate: 0.7)
        var indexed = PoolActivityTracker(window: 30, hotRate: 0.7)
        var now: UInt64 = 1_800_000_000_000_000_000
        for step in 0..<20_000 {
            let pool = Int.random(in: 0..<300, using: &rng)
            let price = [Double.random(in: 0.5...2, using: &rng), 0, -1, .nan][Int.random(in: 0..<40, using: &rng) == 0 ? Int.random(in: 1...3, using: &rng) : 0]
            now &+= UInt64.random(in: 0...2_000_000_000, using: &rng)
            keyed.record(UInt64(pool), price: price, at: now)
            indexed.record(pool, price: price, at: now)
            if step % 1_000 == 0 || step == 19_999 {
                for p in 0..<320 {
                    let (a, b) = (keyed.activity(UInt64(p), at: now), indexed.activity(p, at: now))
                    #expect(a == b, "pool \(p) at step \(step)")
                }
            }
        }
        #expect(indexed.activity(-1, at: now).updates == 0 && indexed.activity(10_000, at: now).updates == 0)
    }

    @Test func badPricesAreIgnored() {
        var tracker = PriceMomentumTracker()
        #expect(tracker.add(.nan) == nil && tracker.add(-1) == nil && tracker.add(0) == nil && tracker.add(.infinity) == nil)
        #expect(tracker.updates == 0 && tracker.reading == nil)
        #expect(tracker.add(10)?.ema60 == 10)
    }
}
