import AMMMath
import EVMPrimitives
import Testing

/// Raydium CLMM's math. No implementation of it outside the program is available here, so: the
/// program's own published values (its tick bounds and its unit tests' rounding cases), Uniswap's
/// tick math (checked against the real Uniswap bytecode on the devnet) as the reference for every
/// tick's price, and invariants a correct quote must keep (monotone, nothing created, a round
/// trip at zero fee loses at most rounding, the liquidity of every crossed tick, refusals where
/// the state we hold cannot say).
struct RaydiumCLMMMathTests {
    typealias SplitMix = SolanaVenueMathTests.SplitMix

    @Test func tickMathMeetsThePublishedValuesAndUniswapsPrices() throws {
        // raydium-clmm tick_math.rs: the bounds, and its round-down cases around ±28861.
        #expect(RaydiumCLMMMath.sqrtPrice(tick: RaydiumCLMMMath.minTick) == RaydiumCLMMMath.minSqrtPrice)
        #expect(RaydiumCLMMMath.sqrtPrice(tick: RaydiumCLMMMath.maxTick) == RaydiumCLMMMath.maxSqrtPrice)
        #expect(RaydiumCLMMMath.sqrtPrice(tick: RaydiumCLMMMath.maxTick + 1) == nil)
        #expect(RaydiumCLMMMath.tick(sqrtPrice: RaydiumCLMMMath.minSqrtPrice) == RaydiumCLMMMath.minTick)
        #expect(RaydiumCLMMMath.tick(sqrtPrice: RaydiumCLMMMath.maxSqrtPrice - 1) == RaydiumCLMMMath.maxTick - 1)
        #expect(RaydiumCLMMMath.tick(sqrtPrice: RaydiumCLMMMath.maxSqrtPrice) == nil)
        #expect(RaydiumCLMMMath.sqrtPrice(tick: 0) == UInt128(1) << 64)
        for t: Int32 in [-28_861, 28_861] {
            let p = try #require(RaydiumCLMMMath.sqrtPrice(tick: t))
            let above = try #require(RaydiumCLMMMath.sqrtPrice(tick: t + 1))
            #expect(RaydiumCLMMMath.tick(sqrtPrice: p) == t && RaydiumCLMMMath.tick(sqrtPrice: p + 1) == t)
            #expect(RaydiumCLMMMath.tick(sqrtPrice: above - 1) == t && RaydiumCLMMMath.tick(sqrtPrice: p - 1) == t - 1)
        }
        var rng = SplitMix(state: 7)
        for _ in 0..<2_000 {
            let t = Int32(Int64(rng.below(887_272)) - 443_636)
            let p = try #require(RaydiumCLMMMath.sqrtPrice(tick: t))
            #expect(RaydiumCLMMMath.tick(sqrtPrice: p) == t)
            let next = try #require(RaydiumCLMMMath.sqrtPrice(tick: t + 1))
            #expect(next > p && RaydiumCLMMMath.tick(sqrtPrice: next - 1) == t)
            // The same real number √1.0001^t as Uniswap's Q64.96 gives, as closely as the
            // program's factors allow: they carry 45 to 53 significant bits (2^-34 of the price
            // after up to 19 of them), and a positive tick's price is 2^128 over a ratio that has
            // only as many bits as it is large.
            let uniswap = try TickMath.sqrtRatio(atTick: t) >> 32
            let ours = UInt256(limbs: UInt64(truncatingIfNeeded: p), UInt64(truncatingIfNeeded: p >> 64), 0, 0)
            let gap = ours > uniswap ? ours - uniswap : uniswap - ours
            let bound = (ours >> 34) + (t > 0 ? (ours * ours * UInt256(64)) >> 128 : .zero) + UInt256(64)
            #expect(gap <= bound, "tick \(t): \(p) against Uniswap's \(uniswap)")
        }
    }

    /// Liquidity `l` from tick −6000 to 6000 (tick spacing 10, arrays of 600 ticks) and `l / 2`
    /// more from −1200 to 1200, limit orders at `limitOrdersAt`; the arrays holding those ticks
    /// marked initialized in the bitmap (held unless left out of `holding`), the array at 0
    /// marked though it holds nothing, those in between empty and unmarked.
    func pool(liquidity l: UInt128, feeRate: UInt32, feeOn: RaydiumCLMMPool.FeeOn = .input, tick: Int32 = 5,
              limitOrdersAt: Int32? = nil, holding: Set<Int32>? = nil) throws -> RaydiumCLMMPool {
        let spacing: UInt16 = 10, width: Int32 = 600
        var arrays: [Int32: [RaydiumCLMMPool.Tick]] = [:]
        var bitmap = [UInt64](repeating: 0, count: 16)
        func put(_ tick: Int32, net: Int128, orders: Bool = false) {
            let start = RaydiumCLMMPool.arrayStart(tick, tickSpacing: spacing)
            var slot = arrays[start, default: Array(repeating: .empty, count: 60)][Int((tick - start) / 10)]
            slot.liquidityNet += net
            slot.liquidityGross += net.magnitude
            slot.limitOrders = slot.limitOrders || orders
            arrays[start, default: Array(repeating: .empty, count: 60)][Int((tick - start) / 10)] = slot
            let bit = Int(start / width + 512)
            bitmap[bit / 64] |= 1 << UInt64(bit % 64)
        }
        put(-6_000, net: Int128(l))
        put(6_000, net: -Int128(l))
        put(-1_200, net: Int128(l / 2))
        put(1_200, net: -Int128(l / 2))
        if let at = limitOrdersAt { put(at, net: 0, orders: true) }
        let zero = Int(0 / width + 512)
        bitmap[zero / 64] |= 1 << UInt64(zero % 64)
        arrays[0] = arrays[0] ?? Array(repeating: .empty, count: 60)
        let price = try #require(RaydiumCLMMMath.sqrtPrice(tick: tick)) + 777
        return try RaydiumCLMMPool(sqrtPrice: price, tickCurrent: tick, liquidity: l + l / 2, tickSpacing: spacing, feeRate: feeRate, feeOn: feeOn,
                                   bitmap: bitmap, tickArrays: arrays.filter { holding?.contains($0.key) ?? true })
    }

    @Test(arguments: [RaydiumCLMMPool.FeeOn.input, .token0, .token1])
    func aSwapPaysMoreForMoreAndARoundTripCreatesNothing(_ feeOn: RaydiumCLMMPool.FeeOn) throws {
        let p = try pool(liquidity: 1 << 64, feeRate: 2_500, feeOn: feeOn)
        for zeroForOne in [true, false] {
            var previous: UInt64 = 0
            for amount in stride(from: UInt64(1_000), through: 3_000_000_000_000_000_000, by: 149_999_999_999_917_111) {
                let s = try p.swap(amount: amount, zeroForOne: zeroForOne)
                #expect(s.amountOut >= previous && (zeroForOne ? s.sqrtPrice < p.sqrtPrice : s.sqrtPrice > p.sqrtPrice))
                #expect(s.amountOut == (try p.amountOut(amount: amount, zeroForOne: zeroForOne)))
                previous = s.amountOut
                let back = try p.applying(s).swap(amount: s.amountOut, zeroForOne: !zeroForOne)
                #expect(back.amountOut < amount)
            }
        }
    }

    @Test func atZeroFeeARoundTripLosesOnlyRoundingAndCrossesEveryTickItPasses() throws {
        let l: UInt128 = 1 << 64
        let p = try pool(liquidity: l, feeRate: 0)
        var rng = SplitMix(state: 11)
        var crossed = 0
        for _ in 0..<500 {
            let zeroForOne = rng.below(2) == 0
            let amount = 1 + rng.below(4_000_000_000_000_000_000)
            let s = try p.swap(amount: amount, zeroForOne: zeroForOne)
            let back = try p.applying(s).swap(amount: s.amountOut, zeroForOne: !zeroForOne)
            // Each step rounds toward the pool: an amount by a unit, the price by a unit of
            // Q64.64, worth L / 2^64 of token 1 (and about as much token 0 near price 1) — a
            // few steps each way.
            let bound = UInt64(8 * (l >> 64) + 8)
            #expect(back.amountOut <= amount && amount - back.amountOut <= bound, "\(amount) came back as \(back.amountOut)")
            // Past ±1200 only the wide range's liquidity is left.
            if s.tickCurrent < -1_200 || s.tickCurrent >= 1_200 {
                #expect(s.liquidity == l)
                crossed += 1
            } else {
                #expect(s.liquidity == l + l / 2)
            }
        }
        #expect(crossed > 50)
    }

    @Test func theFeeComesOutOfTheOutputWhenThePoolCollectsItInTheOtherToken() throws {
        let onInput = try pool(liquidity: 1 << 64, feeRate: 10_000)
        let onToken1 = try pool(liquidity: 1 << 64, feeRate: 10_000, feeOn: .token1)
        let onToken0 = try pool(liquidity: 1 << 64, feeRate: 10_000, feeOn: .token0)
        let noFee = try pool(liquidity: 1 << 64, feeRate: 0)
        let amount: UInt64 = 2_000_000_000
        // Token 0 in: a token-1 pool takes 1% of the gross output, rounded up.
        let gross = try noFee.swap(amount: amount, zeroForOne: true)
        let fromOutput = try onToken1.swap(amount: amount, zeroForOne: true)
        #expect(fromOutput.fee == (gross.amountOut * 10_000 + 999_999) / 1_000_000 && fromOutput.amountOut == gross.amountOut - fromOutput.fee)
        #expect(fromOutput.sqrtPrice == gross.sqrtPrice, "the whole input moves the price")
        // A token-0 pool takes it from the token-0 input, as a from-input pool does.
        #expect(try onToken0.swap(amount: amount, zeroForOne: true) == (try onInput.swap(amount: amount, zeroForOne: true)))
        // Token 1 into a token-0 pool: the fee comes out of the token-0 output.
        let grossUp = try noFee.swap(amount: amount, zeroForOne: false)
        let fromOutputUp = try onToken0.swap(amount: amount, zeroForOne: false)
        #expect(fromOutputUp.fee == (grossUp.amountOut * 10_000 + 999_999) / 1_000_000 && fromOutputUp.amountOut == grossUp.amountOut - fromOutputUp.fee)
        #expect(try onInput.swap(amount: amount, zeroForOne: true).sqrtPrice > gross.sqrtPrice, "a fee from the input moves the price less")
    }

    @Test func whatTheHeldStateCannotSayIsRefused() throws {
        // The array at 6000 marked but not held: a swap up is quoted while its next initialized
        // tick is 1200 (the step's target, in an array we hold), refused once past it (as the
        // program, it needs the next tick's array to know where the step ends).
        let missing = try pool(liquidity: 1 << 64, feeRate: 2_500, holding: [-6_000, -1_200, 0, 1_200])
        #expect(try missing.swap(amount: 1_000_000, zeroForOne: false).amountOut > 0)
        #expect(throws: AMMError.self) { try missing.swap(amount: 4_000_000_000_000_000_000, zeroForOne: false) }
        #expect(throws: AMMError.self) { try pool(liquidity: 1 << 64, feeRate: 2_500, holding: [-6_000, -1_200, 0]).swap(amount: 1_000, zeroForOne: false) }
        // Limit orders at tick −300: a swap down reaching it is refused, one stopping short is quoted.
        let orders = try pool(liquidity: 1 << 64, feeRate: 2_500, limitOrdersAt: -300)
        #expect(throws: AMMError.self) { try orders.swap(amount: 3_000_000_000_000_000_000, zeroForOne: true) }
        let short = try orders.swap(amount: 1_000_000, zeroForOne: true)
        #expect(short == (try pool(liquidity: 1 << 64, feeRate: 2_500).swap(amount: 1_000_000, zeroForOne: true)))
        // Arrays left unmarked are skipped without being held (down to −6000 from 0 passes eight of
        // them); past the bitmap's last initialized array the swap is refused.
        #expect(try missing.swap(amount: 4_000_000_000_000_000_000, zeroForOne: true).tickCurrent < -1_200)
        #expect(throws: AMMError.self) { try missing.swap(amount: .max, zeroForOne: true) }
    }
}
