import AMMMath
import Benchmark
import EVMPrimitives

/// Pool math on the hot path. Targets (issues #6, #27): V2 quote ≤ 20 ns, V3 quote crossing 10
/// initialised ticks ≤ 2 µs, optimum of a mixed 3-hop cycle ≤ 50 µs, of a 2-hop V2 cycle ≤ 1 µs
/// and of a 5-hop one ≤ 2 µs.
let benchmarks: @Sendable () -> Void = {
    let fast = Benchmark.Configuration(metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .kilo, maxDuration: .seconds(3))
    let slow = Benchmark.Configuration(metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .one, maxDuration: .seconds(3))

    // A WETH/USDC-like pair: 5,000 WETH against 10M USDC.
    let pair = try! V2Pool(reserve0: 5_000_000_000_000_000_000_000, reserve1: 10_000_000_000_000, feePips: 3000)
    let oneEth: UInt256 = 1_000_000_000_000_000_000
    // 1,024 inputs from 1 to ~2 ETH, so that no quote can be hoisted out of the loop; the results are
    // folded together and handed to blackHole once per batch (its generic call costs more than a quote).
    let inputs = (0..<1024).map { oneEth + UInt256(UInt64($0)) * 1_000_000_000_000_000 }
    Benchmark("V2 quote", configuration: fast) { benchmark in
        var folded = UInt256.zero
        for i in benchmark.scaledIterations {
            folded ^= (try? pair.amountOut(amountIn: inputs[i & 1023], zeroForOne: true)) ?? .zero
        }
        blackHole(folded)
    }

    // A V3 pool at tick 0 with twenty nested positions: initialised ticks every 60 on both sides.
    let ticks = (1...20).flatMap { k -> [V3Pool.Tick] in
        [V3Pool.Tick(index: Int32(-60 * k), liquidityNet: Int256(100_000_000_000_000_000_000)),
         V3Pool.Tick(index: Int32(60 * k), liquidityNet: Int256(0) &- Int256(100_000_000_000_000_000_000))]
    }
    let v3 = try! V3Pool(sqrtPriceX96: UInt256.one << 96, tick: 0, liquidity: 2_000_000_000_000_000_000_000, feePips: 3000, tickSpacing: 60, ticks: ticks)
    for crossed in [0, 1, 10] {
        // The input that takes the price to the middle of the range after `crossed` ticks.
        let limit = try! TickMath.sqrtRatio(atTick: Int32(-60 * crossed - 30))
        let amount = try! v3.swap(zeroForOne: true, amount: UInt256.one << 200, sqrtPriceLimitX96: limit).amountIn
        precondition(try! v3.swap(zeroForOne: true, amount: amount).ticksCrossed == crossed)
        Benchmark("V3 quote crossing \(crossed) initialised ticks", configuration: fast) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try? v3.swap(zeroForOne: true, amount: identity(amount)))
            }
        }
    }

    // Two pairs 2% apart: USDC → WETH (cheap) → USDC.
    let other = try! V2Pool(reserve0: 4_900_000_000_000_000_000_000, reserve1: 10_000_000_000_000, feePips: 3000)
    let twoHop = Path([.init(pool: .uniswapV2(pair), zeroForOne: false), .init(pool: .uniswapV2(other), zeroForOne: true)])
    precondition(Optimizer.optimize(twoHop) != nil)
    Benchmark("optimum, 2-hop V2 cycle", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Optimizer.optimize(identity(twoHop))) }
    }

    // Five 18-decimal pairs around a loop priced 2% off: the closed form's longest common case.
    let fiveHop = Path((0..<5).map { i -> Path.Hop in
        let depth = UInt256(UInt64(1_000 + 300 * i)) * oneEth
        let closing = i == 4 ? UInt256(102) : UInt256(100)
        return .init(pool: .uniswapV2(try! V2Pool(reserve0: depth, reserve1: depth * closing / 100, feePips: 3000)), zeroForOne: true)
    })
    precondition(Optimizer.optimize(fiveHop) != nil)
    Benchmark("optimum, 5-hop V2 cycle", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Optimizer.optimize(identity(fiveHop))) }
    }

    // V3 (token0 → token1 at ~1) → V2 (token1 → token2 at ~2) → V2 (token2 → token0 at ~0.52).
    let middle = try! V2Pool(reserve0: 1_000_000_000_000_000_000_000_000, reserve1: 2_000_000_000_000_000_000_000_000, feePips: 3000)
    let closing = try! V2Pool(reserve0: 2_000_000_000_000_000_000_000_000, reserve1: 1_040_000_000_000_000_000_000_000, feePips: 3000)
    let threeHop = Path([.init(pool: .uniswapV3(v3), zeroForOne: true), .init(pool: .uniswapV2(middle), zeroForOne: true),
                         .init(pool: .uniswapV2(closing), zeroForOne: true)])
    precondition(Optimizer.optimize(threeHop) != nil)
    Benchmark("optimum, 3-hop mixed cycle (V3, V2, V2)", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Optimizer.optimize(identity(threeHop))) }
    }
}
