import EVMPrimitives

/// The input that maximises one swap's profit against an outside fair value: the DEX leg of a
/// CEX–DEX trade. The output is valued in the input token at the fair price `value = num / den`
/// (input raw units per output raw unit), floored, and the profit is that minus the input.
///
/// On one AMM pool the output is concave in the input, so the profit is unimodal but for
/// rounding, and the rounding is in the coarser token: a 6-decimal output bought with an
/// 18-decimal input moves in whole units worth 10¹² input units each. So the search runs over
/// the coarser side: over inputs when an output unit is worth less than an input unit, else over
/// outputs, each bought with the least input that pays it (an exact-output quote). A doubling
/// search brackets the optimum, a ternary search narrows it, and a scan of the plateau the
/// rounding leaves around it (±64 outputs; or the inputs within three units of the top, up to
/// 1,024 a side) settles it. Every profit is computed exactly; no input gains more than two raw
/// units of the input token above the one returned (a plateau can be millions of inputs wide,
/// and only the floors of the coarser token vary along it).
public enum FairValueSizing {
    public struct Sizing: Equatable, Sendable {
        public var amountIn: UInt256
        public var amountOut: UInt256
        /// The output valued in the input token, minus the input (> 0).
        public var profit: UInt256
    }

    /// The best input of at most `maxIn`; nil when no input gains (or the value overflows).
    public static func optimize(_ pool: Pool, zeroForOne: Bool, valueNumerator num: UInt256, valueDenominator den: UInt256,
                                maxIn: UInt256, start: UInt256 = 1_000) -> Sizing? {
        guard !num.isZero, !den.isZero, !maxIn.isZero else { return nil }
        let limit = UInt256(1) << 254
        func profit(_ x: UInt256) -> (out: UInt256, gain: Int256)? {
            guard x <= maxIn, let out = try? pool.amountOut(x, zeroForOne: zeroForOne), let v = UInt256.mulDiv(out, num, den), v < limit, x < limit else { return nil }
            return (out, Int256(bitPattern: v) &- Int256(bitPattern: x))
        }
        func gain(_ x: UInt256) -> Int256 { profit(x)?.gain ?? Int256.min }
        /// The least input that buys `o`, if the pool can pay it within `maxIn`.
        func leastIn(_ o: UInt256) -> UInt256? {
            guard let q = try? pool.quote(zeroForOne: zeroForOne, amount: o, exactOutput: true), q.amountOut == o, q.amountIn <= maxIn else { return nil }
            return q.amountIn
        }
        func outGain(_ o: UInt256) -> Int256 { leastIn(o).map(gain) ?? Int256.min }

        // Bracket on inputs: double from `start` while the profit does not fall. While the output
        // is under a million units its rounding can make the profit fall between doublings, so
        // only a fall past that counts (or a pool that can no longer take the input).
        var lo = UInt256.one
        var x = min(start, maxIn)
        var best = gain(x)
        var hi = maxIn
        while x < maxIn {
            let next = x <= maxIn >> 1 ? x << 1 : maxIn
            let p = profit(next)
            let g = p?.gain ?? Int256.min
            if best > Int256.min, p == nil || (g < best && p!.out >= 1_000_000) {
                hi = next
                break
            }
            (lo, x, best) = (x, next, g)
        }
        if hi == maxIn, profit(maxIn) == nil {
            // The pool cannot take all of it: the largest input it takes, by bisection.
            var (a, b) = (x, maxIn)
            while b - a > 1 {
                let m = a + (b - a) / 2
                if profit(m) != nil { a = m } else { b = m }
            }
            hi = a
        }

        var bestX: UInt256
        if num >= den {
            // An output unit is worth at least an input unit: search over outputs.
            guard let oHi = profit(hi)?.out ?? profit(x)?.out else { return nil }
            let oLo = profit(lo)?.out ?? .one
            let o = ternary(oLo, oHi, outGain)
            bestX = leastIn(o) ?? x
            var bestGain = gain(bestX)
            var k = o > 64 ? o - 64 : UInt256.one
            while k <= o + 64 {
                if let xi = leastIn(k) {
                    let g = gain(xi)
                    if g > bestGain || (g == bestGain && xi < bestX) { (bestX, bestGain) = (xi, g) }
                }
                k += 1
            }
        } else {
            bestX = ternary(lo, hi, gain)
            // Near the top the floors leave a plateau a few units high: find where the profit has
            // fallen three units below it on each side (doubling out), and scan all of it (at
            // most 4,096 inputs a side; past that, the plateau's middle).
            let top = gain(bestX)
            func edge(_ down: Bool) -> UInt256 {
                var d = UInt256(64)
                while d < 1024 {
                    let k = down ? (bestX > d ? bestX - d : .one) : min(bestX + d, maxIn)
                    if gain(k) < top &- 3 || k == .one || k == maxIn { return d }
                    d <<= 1
                }
                return 1024
            }
            let below = edge(true), above = edge(false)
            var bestGain = top
            var k = bestX > below ? bestX - below : UInt256.one
            let end = min(bestX + above, maxIn)
            while k <= end {
                let g = gain(k)
                if g > bestGain { (bestX, bestGain) = (k, g) }
                k += 1
            }
        }
        guard let p = profit(bestX), p.gain > .zero else { return nil }
        return Sizing(amountIn: bestX, amountOut: p.out, profit: p.gain.magnitude)
    }

    /// The argument of the maximum of a unimodal `f` on [a, b] (to within a few units).
    static func ternary(_ a0: UInt256, _ b0: UInt256, _ f: (UInt256) -> Int256) -> UInt256 {
        var (a, b) = (a0, max(a0, b0))
        while b - a > 8 {
            let third = (b - a) / 3
            let m1 = a + third, m2 = b - third
            if f(m1) < f(m2) { a = m1 + 1 } else { b = m2 }
        }
        var best = a
        var bestValue = f(a)
        var k = a + 1
        while k <= b {
            let v = f(k)
            if v > bestValue { (best, bestValue) = (k, v) }
            k += 1
        }
        return best
    }
}
