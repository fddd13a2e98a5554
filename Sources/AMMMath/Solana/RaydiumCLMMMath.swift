/// Raydium CLMM's fixed-point math as the program computes it: sqrt prices in Q64.64 (`u128`),
/// amounts in `u64`, fee rates in millionths.
///
/// Facts (constants, formulas, rounding directions) from the program's published source,
/// raydium-io/raydium-clmm `programs/amm/src/libraries` (`tick_math.rs`, `sqrt_price_math.rs`,
/// `liquidity_math.rs`, `swap_math.rs`). Its tick math differs from Orca's (Uniswap's per-bit
/// factors cut to 64 bits, positive ticks by `u128::MAX / ratio`, a 16-bit log refinement) and so
/// is its own here; the amounts between two prices, the next price from an input and the
/// fee-from-input step are the same formulas and roundings as Orca's (the source of both read
/// side by side), so they are `WhirlpoolMath`'s, which is checked against an outside
/// implementation. What the Raydium program adds, a fee taken from the output for pools
/// collecting it in one token, is here.
public enum RaydiumCLMMMath {
    public static let minTick: Int32 = -443_636
    public static let maxTick: Int32 = 443_636
    public static let minSqrtPrice: UInt128 = 4_295_048_016
    public static let maxSqrtPrice: UInt128 = 79_226_673_521_066_979_257_578_248_091
    /// Fee rates are millionths.
    public static let feeRateDenominator: UInt32 = 1_000_000

    /// `2^64 / 1.0001^(2^(i-1))` for bit i of |tick| (bit 0 is the first), as the program has them.
    static let factors: [UInt128] = [
        0xfffc_b933_bd6f_b800, 0xfff9_7272_373d_4000, 0xfff2_e50f_5f65_7000, 0xffe5_caca_7e10_f000,
        0xffcb_9843_d60f_7000, 0xff97_3b41_fa98_e800, 0xff2e_a164_66c9_b000, 0xfe5d_ee04_6a9a_3800,
        0xfcbe_86c7_900b_b000, 0xf987_a725_3ac6_5800, 0xf339_2b08_22bb_6000, 0xe715_9475_a2ca_f000,
        0xd097_f3bd_fd2f_2000, 0xa9f7_4646_2d9f_8000, 0x70d8_69a1_56f3_1c00, 0x31be_135f_97ed_3200,
        0x09aa_508b_5b85_a500, 0x005d_6af8_dedc_582c, 0x0000_2216_e584_f5fa,
    ]

    /// `sqrt(1.0001^tick)` in Q64.64; nil outside the program's tick range.
    public static func sqrtPrice(tick: Int32) -> UInt128? {
        guard (minTick...maxTick).contains(tick) else { return nil }
        let abs = tick.magnitude
        var ratio: UInt128 = abs & 1 != 0 ? factors[0] : 1 << 64
        for bit in 1..<factors.count where abs & (1 << UInt32(bit)) != 0 {
            ratio = (ratio * factors[bit]) >> 64
        }
        return tick > 0 ? UInt128.max / ratio : ratio
    }

    /// The greatest tick whose sqrt price is at most `sqrtPrice` (the program's log₂ estimate to
    /// 16 bits, then the one candidate it cannot tell apart checked); nil outside
    /// `minSqrtPrice ..< maxSqrtPrice`.
    public static func tick(sqrtPrice: UInt128) -> Int32? {
        guard sqrtPrice >= minSqrtPrice && sqrtPrice < maxSqrtPrice else { return nil }
        let (low, high) = WhirlpoolMath.tickCandidates(sqrtPrice: sqrtPrice, bits: 16)
        if low == high { return low }
        return (self.sqrtPrice(tick: high) ?? .max) <= sqrtPrice ? high : low
    }

    /// One exact-input step of `compute_swap` toward `target`: what goes in (the fee included
    /// when it is taken from the input), what comes out (net of the fee when it is taken from the
    /// output), and the price it ends at.
    public struct Step: Equatable, Sendable {
        /// Input consumed by the step, fee included.
        public var consumed: UInt64
        /// Output, net of any fee taken from it.
        public var amountOut: UInt64
        public var fee: UInt64
        public var nextSqrtPrice: UInt128
    }

    public static func step(remaining: UInt64, feeRate: UInt32, feeOnInput: Bool, liquidity: UInt128, current: UInt128, target: UInt128,
                            zeroForOne: Bool) throws(AMMError) -> Step {
        if feeOnInput {
            let s = try WhirlpoolMath.step(remaining: remaining, feeRate: feeRate, liquidity: liquidity, current: current, target: target,
                                           exactInput: true, aToB: zeroForOne)
            return Step(consumed: s.amountIn + s.fee, amountOut: s.amountOut, fee: s.fee, nextSqrtPrice: s.nextSqrtPrice)
        }
        // The fee comes out of the output: the whole remaining input drives the price.
        func amounts(_ to: UInt128) throws(AMMError) -> (in: WhirlpoolMath.Delta, out: WhirlpoolMath.Delta) {
            zeroForOne ? (try WhirlpoolMath.deltaA(current, to, liquidity: liquidity, roundUp: true),
                          WhirlpoolMath.deltaB(current, to, liquidity: liquidity, roundUp: false))
                       : (WhirlpoolMath.deltaB(current, to, liquidity: liquidity, roundUp: true),
                          try WhirlpoolMath.deltaA(current, to, liquidity: liquidity, roundUp: false))
        }
        var next = target
        var (amountIn, gross): (UInt64, UInt64)
        // Both amounts at the target must fit u64 for the target to count as reachable.
        if case let (.valid(i), .valid(o)) = try amounts(target), remaining >= i {
            (amountIn, gross) = (i, o)
        } else {
            next = zeroForOne ? try WhirlpoolMath.nextSqrtPriceFromA(current, liquidity: liquidity, amount: remaining, input: true)
                              : try WhirlpoolMath.nextSqrtPriceFromB(current, liquidity: liquidity, amount: remaining, input: true)
            guard case let (.valid(i), .valid(o)) = try amounts(next) else { throw AMMError(.overflow, "a step's amount passes u64") }
            (amountIn, gross) = (i, o)
            // Short of the target, the whole remaining input is charged (the sub-unit rest goes to the pool).
            amountIn = remaining
        }
        guard zeroForOne ? next >= target : next <= target else { throw AMMError(.invalidState, "a step passed its target") }
        let f = UInt128(gross) * UInt128(feeRate)
        let d = UInt128(feeRateDenominator)
        let fee = UInt64((f + d - 1) / d)
        return Step(consumed: amountIn, amountOut: gross - fee, fee: fee, nextSqrtPrice: next)
    }
}
