import ArgumentParser
import DetectBench
import Detection
import EVMCodec
import Foundation
import Signals

/// `arbiter bench statarb`: a seeded stream of price updates over many pairs through the
/// statistical-arbitrage detector (correlation, spread and bands, regime at band crossings, the
/// gates), one update at a time.
struct StatArbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statarb",
        abstract: "Replay seeded price updates over many pairs through the statistical-arbitrage detector; print updates/s and latency per update.")

    @Option(name: .long, help: "Price updates (after as many again per pair for warm-up).") var updates = 1_000_000
    @Option(name: .long, help: "Pairs; 3 in 5 are cointegrated with a mean-reverting spread, the rest independent walks.") var pairs = 50
    @Option(name: .long, help: "Updates of a pair between its Engle–Granger tests.") var cointegrationEvery = 100
    @Option(name: .long, help: "Seed of the prices.") var seed: UInt64 = 1
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (1...100_000_000).contains(updates) else { throw CLIError("--updates must be within 1…100000000") }
        guard (1...10_000).contains(pairs) else { throw CLIError("--pairs must be within 1…10000") }
        guard (1...1_000_000).contains(cointegrationEvery) else { throw CLIError("--cointegration-every must be within 1…1000000") }
    }

    /// Timings by the work an update did: the O(1) path, a band crossing (Hurst computed), an Engle–Granger test.
    struct Samples {
        var plain: [UInt64] = [], crossing: [UInt64] = [], test: [UInt64] = []
        static func percentile(_ v: [UInt64], _ q: Double) -> UInt64 { v.isEmpty ? 0 : v[min(v.count - 1, Int(Double(v.count) * q))] }
    }

    func run() throws {
        var configuration = StatisticalArbitrageDetector.Configuration()
        configuration.cointegrationEvery = cointegrationEvery
        var detector = StatisticalArbitrageDetector(pairs: pairs, configuration: configuration)
        var market = Market(pairs: pairs, seed: seed)
        // Warm-up: every pair past its windows (a regime needs 101 samples, Engle–Granger 120).
        for _ in 0..<(pairs * 200) {
            let (i, a, b) = market.next()
            _ = detector.update(pair: i, priceA: a, priceB: b)
        }
        let stream = (0..<updates).map { _ in market.next() }
        let before = detector.counts
        var samples = Samples(), signals = 0, reverts = 0
        samples.plain.reserveCapacity(updates)
        let clock = ContinuousClock()
        let started = clock.now
        for (i, a, b) in stream {
            let (tests, crossings) = (detector.counts.tests, detector.counts.crossings)
            let t0 = clock.now
            let event = detector.update(pair: i, priceA: a, priceB: b)
            let ns = Self.nanoseconds(clock.now - t0)
            if detector.counts.tests > tests { samples.test.append(ns) }
            else if detector.counts.crossings > crossings { samples.crossing.append(ns) }
            else { samples.plain.append(ns) }
            switch event {
            case .enter: signals += 1
            case .revert: reverts += 1
            case nil: break
            }
        }
        let total = Self.nanoseconds(clock.now - started)
        let regime = Self.regimeCost(stream, clock)
        // The loop alone (the clock reads around each update, the bookkeeping), to subtract.
        let overhead = Self.loopOverhead(stream.count, clock)
        samples.plain.sort()
        samples.crossing.sort()
        samples.test.sort()
        var counts = detector.counts
        counts.crossings -= before.crossings
        counts.lowCorrelation -= before.lowCorrelation
        counts.notCointegrated -= before.notCointegrated
        counts.trending -= before.trending
        report(total: total, overhead: overhead, regime: regime, samples: samples, signals: signals, reverts: reverts, counts: counts)
    }

    func report(total: UInt64, overhead: UInt64, regime: UInt64, samples s: Samples, signals: Int, reverts: Int, counts: StatisticalArbitrageDetector.Counts) {
        let p = Samples.percentile
        let perUpdate = Double(total) / Double(updates)
        let testMean = s.test.isEmpty ? 0 : Double(s.test.reduce(0, +)) / Double(s.test.count)
        if json {
            func n(_ v: UInt64) -> JSONValue { .number(String(v)) }
            func group(_ v: [UInt64]) -> JSONValue {
                .object([("count", .number(String(v.count))), ("p50", n(p(v, 0.5))), ("p99", n(p(v, 0.99))), ("max", n(v.last ?? 0))])
            }
            Output.line(JSONValue.object([
                ("updates", .number(String(updates))), ("pairs", .number(String(pairs))), ("seed", n(seed)),
                ("cointegrationEvery", .number(String(cointegrationEvery))),
                ("updatesPerSecond", .number(String(format: "%.0f", 1e9 / perUpdate))), ("nsPerUpdate", .number(String(format: "%.1f", perUpdate))),
                ("timingOverheadNs", n(overhead)),
                ("latencyNs", .object([("plain", group(s.plain)), ("crossing", group(s.crossing)), ("cointegration", group(s.test))])),
                ("cointegrationMeanNs", .number(String(format: "%.0f", testMean))), ("regimeNs", n(regime)),
                ("signals", .number(String(signals))), ("reverts", .number(String(reverts))), ("crossings", .number(String(counts.crossings))),
                ("gated", .object([("lowCorrelation", .number(String(counts.lowCorrelation))), ("notCointegrated", .number(String(counts.notCointegrated))),
                                   ("trending", .number(String(counts.trending)))])),
            ]).text)
        } else {
            Output.line("\(updates) updates over \(pairs) pairs (seed \(seed)): \(String(format: "%.0f", 1e9 / perUpdate)) updates/s, \(String(format: "%.1f", perUpdate)) ns each")
            Output.line("per update (less \(overhead) ns of timing): O(1) p50 \(p(s.plain, 0.5)) ns p99 \(p(s.plain, 0.99)) ns; band crossing (Hurst) p50 \(p(s.crossing, 0.5)) ns p99 \(p(s.crossing, 0.99)) ns; Engle–Granger p50 \(p(s.test, 0.5)) ns (\(s.test.count) tests); a regime (Hurst over 100) alone p50 \(regime) ns")
            Output.line("signals \(signals), reverts \(reverts), crossings \(counts.crossings) (gated: correlation \(counts.lowCorrelation), cointegration \(counts.notCointegrated), trending \(counts.trending))")
        }
        Output.flush()
    }

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    /// The median cost of one Hurst estimate over 100 increments (a sample added, then H), timed
    /// 10,000 times in a row over the first pair's log prices.
    static func regimeCost(_ stream: [(Int, Double, Double)], _ clock: ContinuousClock) -> UInt64 {
        var r = RegimeDetector(window: 100)
        let values = stream.lazy.filter { $0.0 == 0 }.prefix(10_101).map { log($0.1) }
        var v: [UInt64] = []
        for (i, value) in values.enumerated() {
            r.add(value)
            guard i >= 101 else { continue }
            let t0 = clock.now
            _ = r.hurst()
            v.append(nanoseconds(clock.now - t0))
        }
        v.sort()
        return v.isEmpty ? 0 : v[v.count / 2]
    }

    /// The median cost of timing an empty update the way the loop times a real one.
    static func loopOverhead(_ n: Int, _ clock: ContinuousClock) -> UInt64 {
        var v: [UInt64] = []
        v.reserveCapacity(min(n, 100_000))
        for _ in 0..<min(n, 100_000) {
            let t0 = clock.now
            v.append(nanoseconds(clock.now - t0))
        }
        v.sort()
        return v[v.count / 2]
    }

    /// Seeded prices per pair: 3 in 5 cointegrated (log A = c + β·log B + AR(0.3) noise), the rest independent walks.
    struct Market {
        var random: SplitMix
        var logA: [Double], logB: [Double], noise: [Double], beta: [Double]
        var turn = 0

        init(pairs: Int, seed: UInt64) {
            random = SplitMix(seed: seed)
            logA = Array(repeating: 2, count: pairs)
            logB = Array(repeating: 1, count: pairs)
            noise = Array(repeating: 0, count: pairs)
            beta = (0..<pairs).map { 0.5 + Double($0 % 7) * 0.25 }
        }

        mutating func next() -> (Int, Double, Double) {
            let i = turn % logA.count
            turn += 1
            logB[i] += 0.01 * random.normal()
            noise[i] = 0.3 * noise[i] + 0.004 * random.normal()
            logA[i] = i % 5 < 3 ? 0.2 + beta[i] * logB[i] + noise[i] : logA[i] + 0.01 * random.normal()
            return (i, exp(logA[i]), exp(logB[i]))
        }
    }
}
