import EVMPrimitives

/// The exact integer optimum of a cycle of constant-product hops (Uniswap V2 and its forks, and
/// Solidly's volatile pairs), found from the closed form and certified, or left to the search
/// when it cannot be certified.
///
/// Each V2 hop is `⌊g·a·rOut / (D·rIn + g·a)⌋` (D = 1e6, g = D − fee), a floor of the Möbius map
/// `m(a) = g·rOut·a / (D·rIn + g·a)`. A Solidly volatile hop takes its fee first, rounded down, so
/// it is `⌊A·rOut / (rIn + A)⌋` with `A = a − ⌊a·fee/D⌋ = ⌈a·g/D⌉`: the same map at an input up to
/// one unit past `a·g/D`, so it can pay more than `m(a)`, by at most the map's steepest slope
/// `rOut/rIn`; the bound below adds that, carried through the hops after it. The maps compose
/// into one, `x ↦ A·x / (B + C·x)`, whose
/// profit `A·x/(B+C·x) − (1+r)·x` is concave with its maximum at `x* = B·σ / (C·(√(1+σ) + 1))`,
/// `1 + σ = A / (B·(1+r))` (r: the flash fee's rate).
///
/// The integer profit never exceeds the continuous one (plus what the flash fee's rounding can
/// give back), so `U = ⌊max of the continuous profit⌋` bounds every input's profit. The search
/// runs in the amount at the coarsest position of the path (the most input units per unit: a
/// 6-decimal token between 18-decimal ones); each candidate amount `t` is bought with the least
/// input that delivers it, which is where every maximum of the integer profit lies. The first
/// candidate whose exact profit reaches `U` is the optimum, certified. Otherwise candidates are
/// scanned outwards on both sides until the continuous profit there (an upper bound, computed in
/// 64-bit fixed point with its rounding accounted for) falls below the best found plus one wei,
/// beyond the point where the continuous maximum can lie: then the best found is the optimum too.
/// When the plateau where the bound exceeds the best found is wider than the scan (long paths of
/// fine amounts: each hop's floor takes its fraction of a unit, and the losses add up), the answer
/// is `bounded`: its profit is within the proven gap of the optimum. A scan that does not close
/// within its bound is `uncertain` and the caller searches.
enum V2CycleOptimum {
    enum Outcome {
        /// The optimum, certified.
        case optimum(Optimizer.Sizing)
        /// No more than `gap` below the optimum, proven (the continuous bound); the plateau where
        /// more could lie is wider than the scan.
        case bounded(Optimizer.Sizing, gap: UInt256)
        /// No input has a positive profit.
        case unprofitable
        /// Not certified within the scan's bound: the best input it found, if one pays (the caller
        /// searches, and keeps the better of the two).
        case uncertain(Optimizer.Sizing?)
    }

    /// A hop's reserves and fee factor, and its continuous map's coefficients in fixed point.
    struct Hop {
        var rIn: UInt256
        var rOut: UInt256
        var feePips: UInt32
        /// D − fee.
        var g: UInt256
        /// g·rOut·S and D·rIn·S, and rOut·S (S = 2^64).
        var alphaS: UInt256
        var deltaS: UInt256
        var rOutS: UInt256
        var dIn: UInt256

        /// `getAmountOut`'s operands in 128 bits (rIn·D and rOut), when both fit, for `out`.
        let dIn128: UInt128?
        let rOut128: UInt128
        let rIn128: UInt128

        /// A Solidly volatile pair's hop: its fee is taken first and rounded down, so it can pay
        /// more than its continuous map (see the type's notes).
        let feeRoundsDown: Bool

        /// What a hop needs of its pool: the pair's reserves (token0's, token1's), its fee on this
        /// direction, and whether it is a Solidly pair; nil for any other pool, or reserves outside
        /// the fixed-point range (a V2 pair's uint112; a Solidly pair's reserves are uint256).
        static func pair(_ pool: Pool, zeroForOne: Bool) -> (r0: UInt256, r1: UInt256, fee: UInt32, solidly: Bool)? {
            let pair: (UInt256, UInt256, UInt32, Bool)
            switch pool {
            case .uniswapV2(let p): pair = (p.reserve0, p.reserve1, zeroForOne ? p.fee0Pips : p.fee1Pips, false)
            case .solidly(let p) where !p.stable: pair = (p.reserve0, p.reserve1, p.feePips, true)
            default: return nil
            }
            let (r0, r1, _, _) = pair
            guard !r0.isZero, !r1.isZero, r0 <= UniswapV2Math.maxReserve, r1 <= UniswapV2Math.maxReserve else { return nil }
            return pair
        }

        /// The hop from `pair(_:zeroForOne:)`'s answer.
        init(_ pair: (r0: UInt256, r1: UInt256, fee: UInt32, solidly: Bool), zeroForOne: Bool) {
            let (r0, r1, feePips) = (pair.r0, pair.r1, pair.fee)
            feeRoundsDown = pair.solidly
            self.feePips = feePips
            (rIn, rOut) = zeroForOne ? (r0, r1) : (r1, r0)
            g = UInt256(UInt64(1_000_000 - feePips))
            dIn = rIn.wrappingProduct(byLimb: 1_000_000)
            rIn128 = UInt128(rIn.w1) << 64 | UInt128(rIn.w0)
            rOut128 = UInt128(rOut.w1) << 64 | UInt128(rOut.w0)
            // The 128-bit quote is V2's formula.
            dIn128 = !feeRoundsDown && dIn.w2 | dIn.w3 == 0 ? UInt128(dIn.w1) << 64 | UInt128(dIn.w0) : nil
            let alpha = rOut.wrappingProduct(byLimb: g.w0)
            // Shifts by a whole limb.
            alphaS = UInt256(limbs: 0, alpha.w0, alpha.w1, alpha.w2)
            deltaS = UInt256(limbs: 0, dIn.w0, dIn.w1, dIn.w2)
            rOutS = UInt256(limbs: 0, rOut.w0, rOut.w1, rOut.w2)
            let gd = Double(1_000_000 - feePips) / 1e6
            map = (gd * rOut.doubleValue, rIn.doubleValue, gd)
        }

        /// The pair's exact output (nil where the pair reverts: zero output, balance past uint112):
        /// `V2Pool.amountOut`, with the reserve's side, its product by D and the range checks on
        /// the reserves done once per hop instead of once per quote. Read through the pointer: a
        /// method on the hop would copy all of it out of the buffer first, on every quote.
        @inline(__always)
        static func out(_ hop: UnsafePointer<Hop>, _ a: UInt256) -> UInt256? {
            if let dIn128 = hop.pointee.dIn128, a.w2 | a.w3 == 0, a.w1 >> 48 == 0 {
                let a128 = UInt128(a.w1) << 64 | UInt128(a.w0)
                // The balance after stays within uint112, as the pair requires.
                guard (a128 &+ hop.pointee.rIn128) >> 112 == 0 else { return nil }
                let (inWithFee, o1) = a128.multipliedReportingOverflow(by: UInt128(hop.pointee.g.w0))
                let (den, o2) = dIn128.addingReportingOverflow(inWithFee)
                if !o1 && !o2 {
                    // out < rOut < 2^128: the numerator's high half is below the denominator.
                    let num = UInt256.multiplyFullWidth(inWithFee, hop.pointee.rOut128)
                    let q = UInt256.divide128(wideHigh: num.high, low: num.low, by: den).q
                    return q == 0 ? nil : UInt256(limbs: UInt64(truncatingIfNeeded: q), UInt64(truncatingIfNeeded: q >> 64), 0, 0)
                }
            }
            return hop.pointee.quoted(a)
        }

        /// The pair's own quote (the pools' code), for what the 128-bit path does not take.
        @inline(never)
        func quoted(_ a: UInt256) -> UInt256? {
            feeRoundsDown
                ? try? SolidlyPool.volatileAmountOut(amountIn: a, reserveIn: rIn, reserveOut: rOut, feePips: feePips)
                : try? UniswapV2Math.pairAmountOut(amountIn: a, reserveIn: rIn, reserveOut: rOut, feePips: feePips)
        }


        /// The least input the pair pays at least `y` for: ⌈y·D·rIn / (g·(rOut − y))⌉ on a V2
        /// pair; on a Solidly pair the least `A = ⌈y·rIn / (rOut − y)⌉` after the fee, bought with
        /// the least `a` whose `⌈a·g/D⌉` reaches it, `⌊(A − 1)·D/g⌋ + 1`.
        @inline(__always)
        func least(delivering y: UInt256) -> UInt256? {
            guard !y.isZero, y < rOut else { return nil }
            if feeRoundsDown {
                let left = rOut &- y
                let after = (y &* rIn &+ left &- .one) / left
                return (after &- .one).wrappingProduct(byLimb: 1_000_000) / g &+ .one
            }
            let num = y &* dIn
            let den = (rOut &- y).wrappingProduct(byLimb: g.w0)
            return (num &+ den &- .one) / den
        }

        /// ⌊m(a)·S⌋ from `aS` = a·S: the continuous map in fixed point, rounded down.
        @inline(__always)
        func forwardS(_ aS: UInt256) -> UInt256? {
            UInt256.mulDiv(alphaS, aS, deltaS &+ aS.wrappingProduct(byLimb: g.w0))
        }

        /// ⌊m⁻¹(y)·S⌋ from `yS`: the continuous input for an output, rounded down.
        @inline(__always)
        func inverseS(_ yS: UInt256) -> UInt256? {
            guard yS < rOutS else { return nil }
            let a = UInt256.mulDiv(deltaS, yS, (rOutS &- yS).wrappingProduct(byLimb: g.w0))
            return a.flatMap { $0 >> 176 == .zero ? $0 : nil }
        }

        /// (a, b, c) of the map `a·x / (b + c·x)` in doubles, for estimates.
        let map: (a: Double, b: Double, c: Double)
    }

    /// The largest proven gap taken without a search (in the input token's smallest unit).
    static let acceptedGap = UInt256(16)

    /// Candidates tried on each side beyond the first three when the plateau is too wide to scan.
    static let wideCandidates = 12

    /// Candidates scanned on each side of the estimate before the answer is left uncertain.
    static let scanBound = 48

    static func optimize(_ path: Path, cap: UInt256, fee: FlashFee) -> Outcome {
        let n = path.hops.count
        guard n >= 1, n <= 8 else { return .uncertain(nil) }
        // Hops and amounts are plain values: the buffers need no deinitialisation.
        return withUnsafeTemporaryAllocation(of: Hop.self, capacity: n) { buffer -> Outcome in
            var solidly = false
            for i in 0..<n {
                let zeroForOne = path.hops[i].zeroForOne
                guard let pair = Hop.pair(path.hops[i].pool, zeroForOne: zeroForOne) else { return .uncertain(nil) }
                solidly = solidly || pair.solidly
                buffer.initializeElement(at: i, to: Hop(pair, zeroForOne: zeroForOne))
            }
            return withUnsafeTemporaryAllocation(of: UInt256.self, capacity: 2 * (n + 1)) { amounts -> Outcome in
                var search = Search(hops: UnsafeBufferPointer(buffer), solidly: solidly, amounts: amounts, cap: cap, fee: fee)
                return search.run()
            }
        }
    }
}
