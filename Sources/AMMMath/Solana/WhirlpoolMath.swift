import EVMPrimitives

/// Orca Whirlpool's fixed-point math, as the program computes it: sqrt prices in Q64.64 (`u128`),
/// token amounts in `u64`, fee rates in millionths. Amounts that the program would refuse come back
/// as errors with the program's reason; an amount too large for `u64` at a step's target is
/// `exceedsU64`, which the step treats as "not a max swap", as the program does.
///
/// Facts (formulas, constants, rounding directions) from the program's published source
/// (orca-so/whirlpools, `programs/whirlpool/src/math`); checked against an outside implementation
/// in `python/tests/test_solana_venues.py`.
public enum WhirlpoolMath {
    public static let minTick: Int32 = -443_636
    public static let maxTick: Int32 = 443_636
    public static let minSqrtPrice: UInt128 = 4_295_048_016
    public static let maxSqrtPrice: UInt128 = 79_226_673_515_401_279_992_447_579_055
    /// Fee rates are millionths of the input.
    public static let feeRateDenominator: UInt64 = 1_000_000

    /// A token amount, or the fact that it does not fit in `u64`.
    public enum Delta: Equatable, Sendable {
        case valid(UInt64)
        case exceedsU64
    }

    // MARK: tick ↔ sqrt price

    /// `sqrt(1.0001^tick)` in Q64.64, by the program's products of per-bit factors.
    public static func sqrtPrice(tick: Int32) -> UInt128 {
        tick >= 0 ? positiveTickSqrtPrice(UInt32(tick)) : negativeTickSqrtPrice(UInt32(-Int64(tick)))
    }

    private static let positiveFactors: [UInt128] = [
        79_236_085_330_515_764_027_303_304_731, 79_244_008_939_048_815_603_706_035_061,
        79_259_858_533_276_714_757_314_932_305, 79_291_567_232_598_584_799_939_703_904,
        79_355_022_692_464_371_645_785_046_466, 79_482_085_999_252_804_386_437_311_141,
        79_736_823_300_114_093_921_829_183_326, 80_248_749_790_819_932_309_965_073_892,
        81_282_483_887_344_747_381_513_967_011, 83_390_072_131_320_151_908_154_831_281,
        87_770_609_709_833_776_024_991_924_138, 97_234_110_755_111_693_312_479_820_773,
        119_332_217_159_966_728_226_237_229_890, 179_736_315_981_702_064_433_883_588_727,
        407_748_233_172_238_350_107_850_275_304, 2_098_478_828_474_011_932_436_660_412_517,
        55_581_415_166_113_811_149_459_800_483_533, 38_992_368_544_603_139_932_233_054_999_993_551,
    ]

    private static let negativeFactors: [UInt128] = [
        18_444_899_583_751_176_498, 18_443_055_278_223_354_162, 18_439_367_220_385_604_838,
        18_431_993_317_065_449_817, 18_417_254_355_718_160_513, 18_387_811_781_193_591_352,
        18_329_067_761_203_520_168, 18_212_142_134_806_087_854, 17_980_523_815_641_551_639,
        17_526_086_738_831_147_013, 16_651_378_430_235_024_244, 15_030_750_278_693_429_944,
        12_247_334_978_882_834_399, 8_131_365_268_884_726_200, 3_584_323_654_723_342_297,
        696_457_651_847_595_233, 26_294_789_957_452_057, 37_481_735_321_082,
    ]

    /// Positive ticks in Q96 (the factors' scale), shifted down to Q64 at the end.
    private static func positiveTickSqrtPrice(_ tick: UInt32) -> UInt128 {
        var ratio: UInt128 = tick & 1 != 0 ? 79_232_123_823_359_799_118_286_999_567 : 79_228_162_514_264_337_593_543_950_336
        for (bit, factor) in positiveFactors.enumerated() where tick & (2 << UInt32(bit)) != 0 {
            let (high, low) = ratio.multipliedFullWidth(by: factor)
            ratio = high << 32 | low >> 96
        }
        return ratio >> 32
    }

    private static func negativeTickSqrtPrice(_ tick: UInt32) -> UInt128 {
        var ratio: UInt128 = tick & 1 != 0 ? 18_445_821_805_675_392_311 : 18_446_744_073_709_551_616
        for (bit, factor) in negativeFactors.enumerated() where tick & (2 << UInt32(bit)) != 0 {
            ratio = (ratio * factor) >> 64
        }
        return ratio
    }

    /// The greatest tick whose sqrt price is at most `sqrtPrice`: the program's log₂ estimate to
    /// 14 bits, then the one candidate it cannot tell apart checked by `sqrtPrice(tick:)`.
    public static func tick(sqrtPrice: UInt128) -> Int32 {
        let (low, high) = tickCandidates(sqrtPrice: sqrtPrice, bits: 14)
        if low == high { return low }
        return self.sqrtPrice(tick: high) <= sqrtPrice ? high : low
    }

    /// The two ticks a Q64.64 sqrt price lies between by the log₂ estimate Orca's and Raydium's
    /// programs share (the fraction refined to `bits` bits, then the change of base to √1.0001
    /// with their error margins): equal when the estimate decides, else the caller checks `high`.
    static func tickCandidates(sqrtPrice: UInt128, bits: Int) -> (low: Int32, high: Int32) {
        let msb = 127 - sqrtPrice.leadingZeroBitCount
        let log2IntegerX32 = Int128(msb - 64) << 32
        var bit: Int128 = 0x8000_0000_0000_0000
        var fractionX64: Int128 = 0
        var r: UInt128 = msb >= 64 ? sqrtPrice >> (msb - 63) : sqrtPrice << (63 - msb)
        for _ in 0..<bits where bit > 0 {
            r = r &* r
            let above = r >> 127
            r >>= 63 + above
            fractionX64 += bit * Int128(above)
            bit >>= 1
        }
        let logbX64 = (log2IntegerX32 + (fractionX64 >> 32)) * 59_543_866_431_248
        return (Int32(truncatingIfNeeded: (logbX64 - 184_467_440_737_095_516) >> 64),
                Int32(truncatingIfNeeded: (logbX64 + 15_793_534_762_490_258_745) >> 64))
    }

    // MARK: amounts between prices

    /// Token A between two prices: `L·(upper − lower)·2^64 / (upper·lower)`.
    public static func deltaA(_ p0: UInt128, _ p1: UInt128, liquidity: UInt128, roundUp: Bool) throws(AMMError) -> Delta {
        let (lower, upper) = p0 < p1 ? (p0, p1) : (p1, p0)
        let product = wide(liquidity, upper - lower)
        // The program shifts the 256-bit product a word left and refuses it when that overflows.
        guard product.w3 == 0 else { throw AMMError(.overflow, "liquidity × price range passes 192 bits") }
        let numerator = product << 64
        let denominator = wide(upper, lower)
        guard !denominator.isZero else { throw AMMError(.invalidState, "a zero sqrt price") }
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        let result = roundUp && !r.isZero ? q &+ .one : q
        guard result.w1 | result.w2 | result.w3 == 0 else { return .exceedsU64 }
        return .valid(result.w0)
    }

    /// Token B between two prices: `L·(upper − lower) / 2^64`.
    public static func deltaB(_ p0: UInt128, _ p1: UInt128, liquidity: UInt128, roundUp: Bool) -> Delta {
        let (lower, upper) = p0 < p1 ? (p0, p1) : (p1, p0)
        let diff = upper - lower
        if liquidity == 0 || diff == 0 { return .valid(0) }
        let (p, overflow) = liquidity.multipliedReportingOverflow(by: diff)
        guard !overflow else { return .exceedsU64 }
        let result = UInt64(truncatingIfNeeded: p >> 64)
        let round = roundUp && UInt64(truncatingIfNeeded: p) != 0
        if round && result == .max { return .exceedsU64 }
        return .valid(round ? result + 1 : result)
    }

    /// The price after token A goes in (`input`) or comes out, rounded up.
    static func nextSqrtPriceFromA(_ price: UInt128, liquidity: UInt128, amount: UInt64, input: Bool) throws(AMMError) -> UInt128 {
        if amount == 0 { return price }
        let product = wide(price, UInt128(amount))
        let lp = wide(liquidity, price)
        guard lp.w3 == 0 else { throw AMMError(.overflow, "liquidity × price passes 192 bits") }
        let numerator = lp << 64
        let shiftedLiquidity = UInt256(limbs: 0, UInt64(truncatingIfNeeded: liquidity), UInt64(truncatingIfNeeded: liquidity >> 64), 0)
        if !input && shiftedLiquidity <= product { throw AMMError(.insufficientLiquidity, "the output takes all of token A") }
        let denominator = input ? shiftedLiquidity + product : shiftedLiquidity - product
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        let rounded = r.isZero ? q : q + .one
        guard rounded.w2 | rounded.w3 == 0 else { throw AMMError(.overflow, "the next price passes 128 bits") }
        let next = UInt128(rounded.w1) << 64 | UInt128(rounded.w0)
        guard next >= minSqrtPrice else { throw AMMError(.insufficientLiquidity, "the price would pass its minimum") }
        guard next <= maxSqrtPrice else { throw AMMError(.insufficientLiquidity, "the price would pass its maximum") }
        return next
    }

    /// The price after token B goes in (`input`, rounded down) or comes out (rounded up).
    static func nextSqrtPriceFromB(_ price: UInt128, liquidity: UInt128, amount: UInt64, input: Bool) throws(AMMError) -> UInt128 {
        guard liquidity != 0 else { throw AMMError(.insufficientLiquidity, "no liquidity") }
        let shifted = UInt128(amount) << 64
        let (q, r) = shifted.quotientAndRemainder(dividingBy: liquidity)
        let delta = !input && r != 0 ? q + 1 : q
        if input {
            let (sum, overflow) = price.addingReportingOverflow(delta)
            guard !overflow else { throw AMMError(.overflow, "the next price passes 128 bits") }
            return sum
        }
        guard price >= delta else { throw AMMError(.insufficientLiquidity, "the price would go below zero") }
        return price - delta
    }

    // MARK: one step

    /// One step of a swap toward `target`, with the fee taken from the input.
    public struct Step: Equatable, Sendable {
        public var amountIn: UInt64
        public var amountOut: UInt64
        public var nextSqrtPrice: UInt128
        public var fee: UInt64
    }

    /// The program's `compute_swap` for an exact input (`exactInput`) or an exact output.
    public static func step(remaining: UInt64, feeRate: UInt32, liquidity: UInt128, current: UInt128, target: UInt128,
                            exactInput: Bool, aToB: Bool) throws(AMMError) -> Step {
        let fixedIsA = aToB == exactInput
        func fixed(_ to: UInt128) throws(AMMError) -> Delta {
            fixedIsA ? try deltaA(current, to, liquidity: liquidity, roundUp: exactInput)
                     : deltaB(current, to, liquidity: liquidity, roundUp: exactInput)
        }
        let initial = try fixed(target)
        let feeDenominator = UInt128(feeRateDenominator)
        var amountCalc = remaining
        if exactInput {
            amountCalc = UInt64(UInt128(remaining) * (feeDenominator - UInt128(feeRate)) / feeDenominator)
        }
        let next: UInt128
        if case .valid(let v) = initial, v <= amountCalc {
            next = target
        } else {
            next = fixedIsA ? try nextSqrtPriceFromA(current, liquidity: liquidity, amount: amountCalc, input: exactInput)
                            : try nextSqrtPriceFromB(current, liquidity: liquidity, amount: amountCalc, input: exactInput)
        }
        let isMax = next == target
        let unfixedDelta = fixedIsA ? deltaB(current, next, liquidity: liquidity, roundUp: !exactInput)
                                    : try deltaA(current, next, liquidity: liquidity, roundUp: !exactInput)
        guard case .valid(let unfixed) = unfixedDelta else { throw AMMError(.overflow, "a step's amount passes u64") }
        let fixedAmount: UInt64
        switch (isMax, initial) {
        case (true, .valid(let v)):
            fixedAmount = v
        default:
            guard case .valid(let v) = try fixed(next) else { throw AMMError(.overflow, "a step's amount passes u64") }
            fixedAmount = v
        }
        var (amountIn, amountOut) = exactInput ? (fixedAmount, unfixed) : (unfixed, fixedAmount)
        if !exactInput && amountOut > remaining { amountOut = remaining }
        let fee: UInt64
        if exactInput && !isMax {
            fee = remaining - amountIn
        } else {
            let f = UInt128(amountIn) * UInt128(feeRate)
            let d = feeDenominator - UInt128(feeRate)
            let (q, r) = f.quotientAndRemainder(dividingBy: d)
            let rounded = r == 0 ? q : q + 1
            guard rounded <= UInt128(UInt64.max) else { throw AMMError(.overflow, "a step's fee passes u64") }
            fee = UInt64(rounded)
        }
        return Step(amountIn: amountIn, amountOut: amountOut, nextSqrtPrice: next, fee: fee)
    }

    @inline(__always)
    public static func wide(_ a: UInt128, _ b: UInt128) -> UInt256 {
        let (high, low) = a.multipliedFullWidth(by: b)
        return UInt256(limbs: UInt64(truncatingIfNeeded: low), UInt64(truncatingIfNeeded: low >> 64),
                       UInt64(truncatingIfNeeded: high), UInt64(truncatingIfNeeded: high >> 64))
    }
}

extension UInt128 {
    /// About this value as a Double (estimates and screening only), from its two 64-bit halves:
    /// the standard library's generic conversion costs about 100 times as much.
    @inlinable
    public var approximateDouble: Double {
        Double(UInt64(truncatingIfNeeded: self >> 64)) * 18_446_744_073_709_551_616.0 + Double(UInt64(truncatingIfNeeded: self))
    }
}
