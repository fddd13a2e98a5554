import AMMMath
import EVMPrimitives
import Testing

/// The optimiser, generalised to the Solana venues, sizes their cycles at the integer optimum:
/// no input on a 400-point grid or near the answer does better.
struct SolanaCycleSizingTests {
    func profit(_ path: Path, _ x: UInt256) -> Int256? {
        guard let out = try? path.amountOut(x) else { return nil }
        return Int256(bitPattern: out) &- Int256(bitPattern: x)
    }

    func checkOptimum(_ path: Path, maxIn: UInt256) throws {
        let sizing = try #require(Optimizer.optimize(path, maxIn: maxIn))
        let best = try #require(profit(path, sizing.amountIn))
        #expect(best > .zero)
        #expect(try path.amounts(sizing.amountIn) == sizing.amounts)
        for k in 1...400 {
            let x = maxIn * UInt256(UInt64(k)) / 400
            if let p = profit(path, x) { #expect(p <= best, "input \(x) earns \(p) > \(best) at \(sizing.amountIn)") }
        }
        for d in 1...16 {
            for x in [sizing.amountIn + UInt256(UInt64(d)), sizing.amountIn - UInt256(UInt64(d))] {
                if let p = profit(path, x) { #expect(p <= best) }
            }
        }
    }

    /// SOL is token0 of the Raydium pool (coin) and token A of the Whirlpool.
    func whirlpool(price: Double, liquidity: UInt128) throws -> WhirlpoolPool {
        let sqrt = UInt128((price.squareRoot() * 18_446_744_073_709_551_616.0).rounded())
        let tick = WhirlpoolMath.tick(sqrtPrice: sqrt)
        let spacing: UInt16 = 8, width = WhirlpoolPool.ticksPerArray * 8
        let start = WhirlpoolPool.arrayStart(tick, tickSpacing: spacing)
        var arrays: [Int32: [WhirlpoolPool.Tick]] = [:]
        for k: Int32 in -3...3 { arrays[start + k * width] = Array(repeating: .empty, count: 88) }
        arrays[start - 3 * width]![0] = .init(initialized: true, liquidityNet: Int128(liquidity))
        arrays[start + 3 * width]![87] = .init(initialized: true, liquidityNet: -Int128(liquidity))
        return try WhirlpoolPool(sqrtPrice: sqrt, tickCurrent: tick, liquidity: liquidity, tickSpacing: spacing, feeRate: 3_000, tickArrays: arrays)
    }

    @Test func aRaydiumWhirlpoolCycleIsSizedAtItsIntegerOptimum() throws {
        // 1 SOL (1e9 lamports) = 150 USDC (1.5e8 units) on Raydium, 152 on the Whirlpool.
        let raydium = try RaydiumAMMPool(coinReserve: 20_000 * 1_000_000_000, pcReserve: 3_000_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        let orca = try whirlpool(price: 0.152, liquidity: 40_000_000_000_000)
        // Buy SOL cheap on Raydium with USDC, sell it on the Whirlpool: start and end in USDC.
        let path = Path([.init(pool: .raydiumAMM(raydium), zeroForOne: false), .init(pool: .whirlpool(orca), zeroForOne: true)])
        try checkOptimum(path, maxIn: 100_000 * 1_000_000)
    }

    /// Y per X rising 0.1% a bin around 0.152 (USDC units per lamport), active bin 10.
    func dlmm() throws -> DLMMPool {
        var bins: [Int32: DLMMPool.Bin] = [:]
        for id: Int32 in -69...139 {
            let price = 0.152 * pow1001(Int(id) - 10)
            bins[id] = .init(amountX: id > 10 ? 300_000_000_000 : (id == 10 ? 150_000_000_000 : 0),
                             amountY: id < 10 ? 45_000_000_000 : (id == 10 ? 22_000_000_000 : 0),
                             price: UInt128((price * 18_446_744_073_709_551_616.0).rounded()))
        }
        let parameters = DLMMPool.StaticParameters(baseFactor: 10_000, filterPeriod: 30, decayPeriod: 600, reductionFactor: 5_000,
                                                   variableFeeControl: 7_500, maxVolatilityAccumulator: 150_000, protocolShare: 0,
                                                   baseFeePowerFactor: 0, collectFeeMode: 0)
        return try DLMMPool(activeID: 10, binStep: 10, parameters: parameters,
                                variables: .init(volatilityAccumulator: 0, volatilityReference: 0, indexReference: 10, lastUpdateTimestamp: 0),
                                bins: bins, heldArrays: [-1, 0, 1])
    }

    @Test func aDLMMRaydiumCycleIsSizedAtItsIntegerOptimum() throws {
        let pool = try dlmm()
        let raydium = try RaydiumAMMPool(coinReserve: 20_000 * 1_000_000_000, pcReserve: 3_000_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        // USDC → SOL on Raydium (150), SOL → USDC on the pair (152 and up a bin every 0.1%).
        let path = Path([.init(pool: .raydiumAMM(raydium), zeroForOne: false), .init(pool: .meteoraDLMM(pool, timestamp: 1_000), zeroForOne: true)])
        try checkOptimum(path, maxIn: 50_000 * 1_000_000)
    }

    /// Sizing buys amounts by the least input that delivers them, searched from the local model's
    /// guess: on every venue, in both directions, the answer pays the amount and one unit less
    /// does not (checked by exact-input quotes, not by the search).
    @Test func theLeastInputForAnOutputIsExactOnEveryVenue() throws {
        let raydium = try RaydiumAMMPool(coinReserve: 20_000 * 1_000_000_000, pcReserve: 3_000_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        let pools: [Pool] = [.raydiumAMM(raydium), .whirlpool(try whirlpool(price: 0.152, liquidity: 40_000_000_000_000)),
                             .meteoraDLMM(try dlmm(), timestamp: 1_000)]
        var seed: UInt64 = 0x5eed_1ea5
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var checked = 0
        for pool in pools {
            for zeroForOne in [true, false] {
                // Outputs from one unit to about a tenth of what a large input buys.
                guard let big = try? pool.amountOut(UInt256(zeroForOne ? 5_000_000_000_000 : 500_000_000_000), zeroForOne: zeroForOne) else {
                    Issue.record("\(pool) \(zeroForOne) cannot quote a large input"); continue
                }
                for k in 0..<150 {
                    let v = k < 10 ? UInt256(UInt64(k + 1)) : UInt256(1 + next() % max(big.w0 / 10, 1))
                    let x = try pool.amountIn(v, zeroForOne: zeroForOne)
                    #expect(try pool.amountOut(x, zeroForOne: zeroForOne) >= v)
                    if x > .one, let less = try? pool.amountOut(x - .one, zeroForOne: zeroForOne) {
                        #expect(less < v, "\(x) - 1 already pays \(v) on \(pool)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == 900)
    }

    func pow1001(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(n) { r *= 1.001 }
        return n >= 0 ? r : 1 / r
    }
}
