import AMMMath
import ArbiterTestKit
import EVMPrimitives
import Foundation
import Testing

/// The DEX leg against a fair value: no input does better than the one found by more than two
/// raw units of the input token (the floors' plateau), checked by exact profits around it, around
/// the continuous optimum and at random inputs, on V2 pools (where the continuous optimum is
/// closed form) and on V3 pools with several ranges.
@Suite struct FairValueSizingTests {
    static func gain(_ pool: Pool, _ zeroForOne: Bool, _ num: UInt256, _ den: UInt256, _ x: UInt256) -> Int256? {
        guard let out = try? pool.amountOut(x, zeroForOne: zeroForOne), let v = UInt256.mulDiv(out, num, den) else { return nil }
        return Int256(bitPattern: v) &- Int256(bitPattern: x)
    }

    /// No input near it, nor any of `samples` random inputs, does better.
    static func isOptimal(_ s: FairValueSizing.Sizing, _ pool: Pool, _ zeroForOne: Bool, _ num: UInt256, _ den: UInt256, maxIn: UInt256,
                          _ g: inout SeededGenerator, samples: Int = 300) -> Bool {
        guard gain(pool, zeroForOne, num, den, s.amountIn) == Int256(bitPattern: s.profit) else { return false }
        let best = Int256(bitPattern: s.profit) &+ 2
        for d in 1...300 {
            let u = UInt256(UInt64(d))
            if s.amountIn > u, let g = gain(pool, zeroForOne, num, den, s.amountIn - u), g > best { return false }
            if s.amountIn + u <= maxIn, let g = gain(pool, zeroForOne, num, den, s.amountIn + u), g > best { return false }
        }
        for _ in 0..<samples {
            let x = UInt256(UInt64.random(in: 1...UInt64(min(maxIn.doubleValue, 1.8e19)), using: &g))
            if let v = gain(pool, zeroForOne, num, den, x), v > best { return false }
        }
        return true
    }

    @Test func aV2PoolIsPushedToTheFairPriceAndNoFurther() throws {
        var g = SeededGenerator(seed: 3201)
        var found = 0
        for _ in 0..<40 {
            // USDC (6) / WETH (18) at about 2,000; the CEX 0.5…3% away, either side.
            let r0 = UInt256(UInt64.random(in: 1_000_000_000_000...9_000_000_000_000, using: &g))  // USDC
            let price = Double.random(in: 1800...2200, using: &g)
            let r1 = UInt256(UInt64(r0.doubleValue / price * 1e6)) * UInt256(1_000_000)  // WETH wei, truncated
            let pool = Pool.uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: 3000))
            let off = Double.random(in: 0.005...0.03, using: &g) * (Bool.random(using: &g) ? 1 : -1)
            let fair = r0.doubleValue / r1.doubleValue * (1 + off)  // USDC raw per WETH raw, at the CEX
            // Buying WETH (pay USDC, token0 → token1) gains when the CEX values WETH above the pool.
            let zeroForOne = off > 0
            let (num, den): (UInt256, UInt256) = zeroForOne
                ? (UInt256(UInt64(fair * 1e18)), UInt256(1_000_000_000_000_000_000))  // USDC per WETH-wei, scaled
                : (UInt256(1_000_000_000_000_000_000), UInt256(UInt64(fair * 1e18)))  // WETH per USDC, as 1/fair
            let maxIn = zeroForOne ? r0 : r1
            guard let s = FairValueSizing.optimize(pool, zeroForOne: zeroForOne, valueNumerator: num, valueDenominator: den, maxIn: maxIn) else {
                Issue.record("no sizing at \(off)")
                continue
            }
            found += 1
            #expect(Self.isOptimal(s, pool, zeroForOne, num, den, maxIn: maxIn, &g))
            // The continuous optimum of x·γ·R_out/(R_in + γx)·v − x is (√(γ·R_in·R_out·v) − R_in)/γ.
            let (rin, rout) = zeroForOne ? (r0.doubleValue, r1.doubleValue) : (r1.doubleValue, r0.doubleValue)
            let v = num.doubleValue / den.doubleValue
            let xStar = ((0.997 * rin * rout * v).squareRoot() - rin) / 0.997
            #expect(abs(s.amountIn.doubleValue - xStar) / xStar < 1e-3, "\(s.amountIn) vs \(xStar)")
            // No input within 2,000 of the continuous optimum does better.
            let star = Optimizer.integer(xStar, cap: maxIn)
            var k = star - 2_000
            while k <= star + 2_000 {
                if let v = Self.gain(pool, zeroForOne, num, den, k), v > Int256(bitPattern: s.profit) &+ 2 {
                    Issue.record("\(k) gains \(v), more than \(s.amountIn)'s \(s.profit)")
                    break
                }
                k += 1
            }
        }
        #expect(found == 40)
    }

    @Test func aPoolAtTheFairPriceLessItsFeeOffersNothing() throws {
        let pool = Pool.uniswapV2(try V2Pool(reserve0: 2_000_000_000_000, reserve1: 1_000_000_000_000_000_000_000, feePips: 3000))
        // Fair 0.2% above the pool's price: inside the 0.3% fee.
        let num = UInt256(2_004_000_000_000), den = UInt256(1_000_000_000_000_000_000_000)
        #expect(FairValueSizing.optimize(pool, zeroForOne: true, valueNumerator: num, valueDenominator: den, maxIn: 2_000_000_000_000) == nil)
    }

    @Test func aV3PoolAcrossRangesIsSizedAtItsIntegerOptimum() throws {
        var g = SeededGenerator(seed: 3202)
        for trial in 0..<12 {
            // Price ≈ 5e8 WETH-wei per USDC unit (2,000 USDC/WETH), ticks every 60, liquidity in bands.
            let tick = Int32(200_280 + Int32.random(in: 0..<60, using: &g))
            let spacing: Int32 = 60
            let base = (tick / spacing) * spacing
            var ticks: [V3Pool.Tick] = []
            var net: [Int32: Int256] = [:]
            var liquidity = UInt256.zero
            for band in 0..<6 {
                let l = UInt256(UInt64.random(in: 1_000_000_000_000_000...9_000_000_000_000_000, using: &g))
                let width = Int32(band + 1) * spacing * Int32.random(in: 1...4, using: &g)
                let lower = base - width, upper = base + width
                net[lower, default: .zero] = net[lower, default: .zero] &+ Int256(bitPattern: l)
                net[upper, default: .zero] = net[upper, default: .zero] &- Int256(bitPattern: l)
                liquidity += l
            }
            for (t, n) in net.sorted(by: { $0.key < $1.key }) { ticks.append(.init(index: t, liquidityNet: n)) }
            let sqrt = try TickMath.sqrtRatio(atTick: tick)
            let v3 = try V3Pool(sqrtPriceX96: sqrt, tick: tick, liquidity: liquidity, feePips: 500, tickSpacing: spacing, ticks: ticks)
            let pool = Pool.uniswapV3(v3)
            let spot = pool.spotPrice  // token1 raw per token0 raw
            let off = Double.random(in: 0.004...0.02, using: &g) * (trial % 2 == 0 ? 1 : -1)
            let zeroForOne = off < 0  // token1 dear on the CEX (off < 0 prices token0 lower): sell token0 for token1
            // Value of the output in input units: zeroForOne: token0 per token1 = 1/(spot·(1+off)).
            let fairToken1PerToken0 = spot * (1 + off)
            let scale = 1e30
            let (num, den): (UInt256, UInt256) = zeroForOne
                ? (UInt256(UInt64(1e18)), Optimizer.integer(fairToken1PerToken0 * 1e18, cap: UInt256(1) << 200))
                : (Optimizer.integer(fairToken1PerToken0 * scale, cap: UInt256(1) << 200), Optimizer.integer(scale, cap: UInt256(1) << 200))
            let maxIn = zeroForOne ? UInt256(UInt64(1e15)) : UInt256(UInt64(1e19)) * 100_000
            guard let s = FairValueSizing.optimize(pool, zeroForOne: zeroForOne, valueNumerator: num, valueDenominator: den, maxIn: maxIn) else {
                Issue.record("trial \(trial): no sizing")
                continue
            }
            #expect(Self.isOptimal(s, pool, zeroForOne, num, den, maxIn: maxIn, &g), "trial \(trial)")
            // After the trade, the pool's price sits at the fair price (within the fee).
            let after = try pool.applying(amountIn: s.amountIn, zeroForOne: zeroForOne).spotPrice
            #expect(abs(after / fairToken1PerToken0 - 1) < 0.0006, "trial \(trial): after \(after) vs fair \(fairToken1PerToken0)")
        }
    }
}
