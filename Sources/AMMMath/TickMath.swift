import EVMPrimitives

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uniswap V3's tick ↔ sqrt-price conversions, bit-exact: `sqrtRatio(atTick:)` uses the
/// published Q128 constants (protocol-facts §2); `tick(atSqrtRatio:)` is defined as the greatest
/// tick whose sqrt ratio is ≤ the input, found from a floating estimate and corrected exactly.
public enum TickMath {
    public static let minTick: Int32 = -887_272
    public static let maxTick: Int32 = 887_272
    @inlinable public static var minSqrtRatio: UInt256 { UInt256(4_295_128_739) }
    /// 1461446703485210103287273052203988822378723970342.
    @inlinable public static var maxSqrtRatio: UInt256 { UInt256(limbs: 0x5d95_1d52_6398_8d26, 0xefd1_fc6a_5064_8849, 0xfffd_8963, 0) }

    /// 2^128 / sqrt(1.0001)^(2^i) for i = 0…19, as the contract rounds them.
    @usableFromInline static let factors: [UInt128] = [
        0xfffcb933bd6fad37aa2d162d1a594001, 0xfff97272373d413259a46990580e213a, 0xfff2e50f5f656932ef12357cf3c7fdcc,
        0xffe5caca7e10e4e61c3624eaa0941cd0, 0xffcb9843d60f6159c9db58835c926644, 0xff973b41fa98c081472e6896dfb254c0,
        0xff2ea16466c96a3843ec78b326b52861, 0xfe5dee046a99a2a811c461f1969c3053, 0xfcbe86c7900a88aedcffc83b479aa3a4,
        0xf987a7253ac413176f2b074cf7815e54, 0xf3392b0822b70005940c7a398e4b70f3, 0xe7159475a2c29b7443b29c7fa6e889d9,
        0xd097f3bdfd2022b8845ad8f792aa5825, 0xa9f746462d870fdf8a65dc1f90e061e5, 0x70d869a156d2a1b890bb3df62baf32f7,
        0x31be135f97d08fd981231505542fcfa6, 0x9aa508b5b7a84e1c677de54f3e99bc9, 0x5d6af8dedb81196699c329225ee604,
        0x2216e584f5fa1ea926041bedfe98, 0x48a170391f7dc42444e8fa2,
    ]

    /// sqrt(1.0001^tick) · 2^96, rounded up, as `TickMath.getSqrtRatioAtTick`.
    public static func sqrtRatio(atTick tick: Int32) throws(AMMError) -> UInt256 {
        guard tick >= minTick, tick <= maxTick else { throw AMMError(.invalidState, "tick \(tick) outside ±887272") }
        return sqrtRatioUnchecked(tick)
    }

    /// Every factor is below 2^128, so `(ratio · factor) >> 128` is the high half of a 128×128-bit
    /// product; the starting ratio 2^128 (an even tick) is represented by taking the first factor.
    @inlinable
    static func sqrtRatioUnchecked(_ tick: Int32) -> UInt256 {
        let abs = UInt32(tick.magnitude)
        var ratio: UInt128 = 0
        var started = false
        var bits = abs
        var i = 0
        let factors = Self.factors  // one lazy-global access, not one per bit
        while bits != 0 {
            if bits & 1 != 0 {
                if started {
                    ratio = UInt256.multiplyFullWidth(ratio, factors[i]).high
                } else {
                    ratio = factors[i]
                    started = true
                }
            }
            bits >>= 1
            i += 1
        }
        var wide: UInt256
        if !started {
            wide = UInt256.one << 128
        } else {
            wide = UInt256(limbs: UInt64(truncatingIfNeeded: ratio), UInt64(truncatingIfNeeded: ratio >> 64), 0, 0)
        }
        if tick > 0 { wide = UInt256.max / wide }
        // ceil(ratio / 2^32): Q128.128 to Q64.96.
        let roundUp: UInt256 = wide.w0 & 0xffff_ffff == 0 ? .zero : .one
        return (wide >> 32) + roundUp
    }

    /// The greatest tick whose sqrt ratio is ≤ `sqrtPriceX96`, as `TickMath.getTickAtSqrtRatio`
    /// (which requires MIN_SQRT_RATIO ≤ price < MAX_SQRT_RATIO).
    public static func tick(atSqrtRatio sqrtPriceX96: UInt256) throws(AMMError) -> Int32 {
        guard sqrtPriceX96 >= minSqrtRatio, sqrtPriceX96 < maxSqrtRatio else {
            throw AMMError(.invalidState, "sqrt price \(sqrtPriceX96) outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
        }
        return tickUnchecked(sqrtPriceX96)
    }

    static func tickUnchecked(_ sqrtPriceX96: UInt256) -> Int32 {
        // log_{1.0001}(p²) from the double value; exact correction below.
        let ln = log(sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0)
        var t = Int32((2 * ln / 0.000099995000333308335).rounded(.down))
        t = Swift.min(Swift.max(t, minTick), maxTick)
        while t > minTick && sqrtRatioUnchecked(t) > sqrtPriceX96 { t -= 1 }
        while t < maxTick && sqrtRatioUnchecked(t + 1) <= sqrtPriceX96 { t += 1 }
        return t
    }
}
