import AMMMath
import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import Testing

/// Random 2- and 3-hop cycles over V2 pairs and real V3 pool states (from the oracle fixtures):
/// no sampled alternative input beats the optimiser's answer, and where it finds nothing no
/// sampled input is profitable.
@Suite struct OptimizerTests {
    static let v3Pools: [V3Pool] = {
        guard let vectors = try? Fixtures.vectors("amm/uniswapV3.json") else { return [] }
        return vectors.compactMap { v -> V3Pool? in
            guard let json = v["pool"], case .uniswapV3(let p)? = try? Pool(json: json), p.liquidity > UInt256(1_000_000) else { return nil }
            return p
        }
    }()

    /// A V2 pair whose price (output per input, fee included) is `rate`·`skew` for an input reserve near `depth`.
    static func pair(rate: Double, skew: Double, depth: Double, fee: UInt32) -> V2Pool? {
        let rIn = depth
        let rOut = depth * rate * skew / (1 - Double(fee) / 1e6)
        guard rIn >= 1e4, rOut >= 1e4, rIn < 5e33, rOut < 5e33 else { return nil }
        return try? V2Pool(reserve0: big(rIn) + 7, reserve1: big(rOut) + 3, feePips: fee)
    }

    static func rate(_ hop: Path.Hop) -> Double {
        switch hop.pool {
        case .uniswapV2(let p):
            let (i, o) = hop.zeroForOne ? (p.reserve0, p.reserve1) : (p.reserve1, p.reserve0)
            return o.doubleValue / i.doubleValue * (1 - Double(hop.zeroForOne ? p.fee0Pips : p.fee1Pips) / 1e6)
        case .uniswapV3(let p):
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            return (hop.zeroForOne ? s * s : 1 / (s * s)) * (1 - Double(p.feePips) / 1e6)
        case .curve, .solidly, .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix:
            return 1  // not drawn by these cycles
        }
    }

    func randomCycle(_ rng: inout SeededGenerator, hops: Int) -> Path? {
        var path: [Path.Hop] = []
        var product = 1.0
        for i in 0..<hops {
            let last = i == hops - 1
            if !last, Bool.random(using: &rng), !Self.v3Pools.isEmpty {
                let hop = Path.Hop(pool: .uniswapV3(Self.v3Pools.randomElement(using: &rng)!), zeroForOne: Bool.random(using: &rng))
                path.append(hop)
                product *= Self.rate(hop)
            } else {
                // The closing hop (and V2 middles) priced so the cycle is off by up to ±15%.
                let target = last ? 1 / product * Double.random(in: 0.85...1.15, using: &rng) : Double.random(in: 1e-4...1e4, using: &rng)
                let depth = pow10(Double.random(in: 8...26, using: &rng))
                let fee = [UInt32(3000), 2500, 500, 10000].randomElement(using: &rng)!
                guard let p = Self.pair(rate: target, skew: 1, depth: depth, fee: fee) else { return nil }
                let zeroForOne = Bool.random(using: &rng)
                let pool = zeroForOne ? p : try! V2Pool(reserve0: p.reserve1, reserve1: p.reserve0, feePips: fee)
                let hop = Path.Hop(pool: .uniswapV2(pool), zeroForOne: zeroForOne)
                path.append(hop)
                product *= Self.rate(hop)
            }
        }
        return Path(path)
    }

    func pow10(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e) { r *= 10 }
        return r * (1 + (e - e.rounded(.down)) * 9)
    }

    func profit(_ path: Path, _ x: UInt256) -> Int256? { cycleProfit(path, x) }

    @Test(arguments: [2, 3])
    func noSampledInputBeatsTheOptimum(hops: Int) throws {
        try #require(Self.v3Pools.count > 50)
        var rng = SeededGenerator(seed: UInt64(1000 + hops))
        var found = 0, none = 0, cycles = 0
        while cycles < 150 {
            guard let path = randomCycle(&rng, hops: hops) else { continue }
            cycles += 1
            // A coarse grid: 3 points per decade from 1 wei to 10^30.
            var grid: [UInt256] = []
            var g = UInt256.one
            while g < UInt256(10).power(30) { grid += [g, g * 2, g * 5]; g *= 10 }
            if let best = Optimizer.optimize(path) {
                found += 1
                let x = best.amountIn
                let p = try #require(profit(path, x))
                #expect(p == Int256(bitPattern: best.grossProfit))
                #expect(try path.amounts(x) == best.amounts)
                var alternatives = [x + 1, x - 1, x + x / 100, x - x / 100, x + x / 10, x - x / 10] + grid
                alternatives += (2...16).map { x + UInt256(UInt64($0)) } + (2...16).map { x - UInt256(UInt64($0)) }
                for alt in alternatives where alt != x {
                    if let q = profit(path, alt) { #expect(q <= p, "cycle \(cycles): input \(alt) makes \(q) > \(p) at \(x)") }
                }
            } else {
                none += 1
                for alt in grid {
                    if let q = profit(path, alt) { #expect(q <= .zero, "cycle \(cycles): nothing found, but \(alt) makes \(q)") }
                }
            }
        }
        // Both outcomes occur: the test exercises profitable and unprofitable cycles.
        #expect(found > 30 && none > 10)
    }

    /// The quoter the search uses equals `Path.amountOut` (each hop quoted afresh) for inputs that
    /// wander up and down over random cycles, failures included.
    /// Detection's screen reads `marginalRates()`: for every kind, γ·out/in of `local` each way,
    /// to the bit, and (V2 and V3) within 1e-12 of the rate written out here from the reserves or
    /// √P; an empty side rates 0.
    @Test func marginalRatesAreTheLocalRateEachWay() throws {
        var rng = SeededGenerator(seed: 41)
        var pools: [Pool] = Self.v3Pools.map { .uniswapV3($0) }
        for _ in 0..<200 {
            let r0 = big(pow10(Double.random(in: 4...30, using: &rng))), r1 = big(pow10(Double.random(in: 4...30, using: &rng)))
            pools.append(.uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: [UInt32(3000), 500, 10000].randomElement(using: &rng)!)))
        }
        pools.append(.uniswapV2(try V2Pool(reserve0: 0, reserve1: 0)))
        pools.append(.curve(try CurvePool(balances: (1_000_000_000_000_000_000_000_000, 1_000_000_000_000), decimals: (18, 6), amplification: 200, fee: 4_000_000)))
        pools.append(.solidly(try SolidlyPool(reserve0: 1_000_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, stable: true, decimals: (18, 6), feePips: 500)))
        pools.append(.solidly(try SolidlyPool(reserve0: 5_000_000_000_000_000_000, reserve1: 9_000_000_000, stable: false, decimals: (18, 6), feePips: 2000)))
        #expect(pools.count > 210)
        for (i, pool) in pools.enumerated() {
            let rates = pool.marginalRates()
            for (zeroForOne, rate) in [(true, rates.zeroForOne), (false, rates.oneForZero)] {
                let l = pool.local(zeroForOne: zeroForOne)
                let expected = l.reserveIn > 0 ? l.gamma * l.reserveOut / l.reserveIn : 0
                #expect(rate.bitPattern == expected.bitPattern, "pool \(i) zeroForOne \(zeroForOne): \(rate) vs \(expected)")
                switch pool {
                case .uniswapV2(let p) where p.reserve0.isZero:
                    #expect(rate == 0)
                case .uniswapV2, .uniswapV3:
                    let written = Self.rate(Path.Hop(pool: pool, zeroForOne: zeroForOne))
                    #expect(abs(rate - written) <= 1e-12 * written, "pool \(i): \(rate) vs \(written)")
                default:
                    #expect(rate > 0)
                }
            }
        }
    }

    @Test func pathQuoterEqualsFreshQuotes() throws {
        var rng = SeededGenerator(seed: 2026)
        var compared = 0, taken = 0
        while compared < 1000 {
            guard let path = randomCycle(&rng, hops: 3) else { continue }
            let quoter = PathQuoter(path)
            var x = big(pow10(Double.random(in: 3...24, using: &rng)))
            for _ in 0..<20 {
                let move = UInt256(UInt64.random(in: 1...1_000_000, using: &rng))
                x = Bool.random(using: &rng) || x <= move ? x + move : x - move
                let fresh = try? path.amountOut(x)
                #expect(quoter.amountOut(x) == fresh, "input \(x)")
                compared += 1
                if fresh != nil { taken += 1 }
            }
        }
        #expect(taken > compared / 3 && taken < compared)
    }

    /// A V2 two-pool cycle against a brute-force scan of every input in a window around the
    /// continuous optimum: the optimiser's profit is the maximum of the integer function there.
    @Test func exactOptimumOfAV2CycleByExhaustiveScan() throws {
        let a = try V2Pool(reserve0: 1_000_000_000_000, reserve1: 2_000_000_000_000_000_000_000_000, feePips: 3000)  // 1e12 USDC-wei : 2e27
        let b = try V2Pool(reserve0: 1_900_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, feePips: 3000)
        let path = Path([.init(pool: .uniswapV2(a), zeroForOne: true), .init(pool: .uniswapV2(b), zeroForOne: true)])
        let best = try #require(Optimizer.optimize(path))
        let x = best.amountIn
        var top = Int256.zero
        var i = x - 1500
        while i <= x + 1500 {
            if let q = profit(path, i), q > top { top = q }
            i += 1
        }
        #expect(Int256(bitPattern: best.grossProfit) == top)
    }
}

/// An integer near `d` (d ≥ 1), from its binary exponent and 53-bit mantissa.
func big(_ d: Double) -> UInt256 {
    let m = UInt256(UInt64(d.significand * 4_503_599_627_370_496.0))  // 2^52
    let e = Int(d.exponent) - 52
    return e >= 0 ? m << e : m >> -e
}

extension UInt256 {
    func power(_ n: Int) -> UInt256 { (0..<n).reduce(UInt256.one) { r, _ in r * self } }
}
