import EVMPrimitives

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension V2CycleOptimum {
    /// One cycle's certified search (see `V2CycleOptimum`). Values in fixed point carry S = 2^64.
    struct Search {
        let hops: UnsafeBufferPointer<Hop>
        /// Some hop is a Solidly pair's.
        let solidly: Bool
        /// Two rows of `[input, out₁, …, outₙ]`: the best candidate's and the one being visited.
        let amounts: UnsafeMutableBufferPointer<UInt256>
        /// The row holding the best candidate's amounts.
        var bestRow = 0
        let cap: UInt256
        let fee: FlashFee
        /// The coarsest position: candidates are amounts entering hop `k` (0: the input).
        var k = 0
        /// The flash fee as `num/den`, and what its rounding can give back, in fixed point.
        let feeNum: UInt256, feeDen: UInt256, feeSlackS: UInt256
        /// What the fixed-point forward maps can lose below the continuous tail, in fixed point.
        var tailSlackS = UInt256.zero
        var best: (profit: Int256, input: UInt256)? = nil

        init(hops: UnsafeBufferPointer<Hop>, solidly: Bool, amounts: UnsafeMutableBufferPointer<UInt256>, cap: UInt256, fee: FlashFee) {
            self.hops = hops
            self.solidly = solidly
            self.amounts = amounts
            self.cap = cap
            self.fee = fee
            switch fee {
            case .none: (feeNum, feeDen, feeSlackS) = (.zero, .one, .zero)
            // Half up, ⌊(amount·bps + 5000) / 10⁴⌋: at least amount·rate − 4999/10⁴.
            case .aave(let bps): (feeNum, feeDen, feeSlackS) = (UInt256(UInt64(bps)), UInt256(10_000), (UInt256(4999) << 64) / UInt256(10_000) + .one)
            // Floored: at least amount·rate − 1.
            case .wadFraction(let f): (feeNum, feeDen, feeSlackS) = (f, FlashFee.wad, UInt256.one << 64)
            // Rounded up: at least amount·rate.
            case .pips(let p): (feeNum, feeDen, feeSlackS) = (UInt256(UInt64(p)), UInt256(1_000_000), .zero)
            }
        }

        /// The composition of hops `range` as `x ↦ A·x / (B + C·x)`, scaled to stay in range.
        func compose(_ range: Range<Int>) -> (A: Double, B: Double, C: Double) {
            var (A, B, C) = (1.0, 1.0, 0.0)
            for i in range {
                let (a, b, c) = hops[i].map
                (A, B, C) = (a * A, b * B, b * C + c * A)
                let scale = Swift.max(A, B)
                (A, B, C) = (A / scale, B / scale, C / scale)
            }
            return (A, B, C)
        }

        mutating func run() -> Outcome {
            let n = hops.count
            let r = fee.rate
            let (A, B, C) = compose(0..<n)
            let sigma = A / (B * (1 + r)) - 1
            guard sigma.isFinite, C > 0 else { return .uncertain(nil) }
            if sigma < -1e-12 { return .unprofitable }
            guard sigma > 1e-12 else { return .uncertain(nil) }
            let xHat = B * sigma / (C * ((1 + sigma).squareRoot() + 1))
            guard xHat.isFinite, xHat < cap.doubleValue / 2 else { return .uncertain(nil) }
            // The coarsest position: the most input units per unit of the amount there (at least
            // two: a position about as fine as the input gains nothing for the inverse quotes).
            // Solidly hops keep it at the input: the bound's inverse maps assume V2's rounding.
            var a = xHat, unit = 1.0
            for j in 0..<n {
                if j > 0, !solidly, a >= 1, xHat / a >= 2, xHat / a > unit { (k, unit) = (j, xHat / a) }
                let (ma, mb, mc) = hops[j].map
                a = ma * a / (mb + mc * a)
            }
            let head = compose(0..<k), tail = compose(k..<n)
            let tHat = k == 0 ? xHat : head.A * xHat / (head.B + head.C * xHat)
            // The continuous profit's curvature in t, for how far its maximum can lie from t̂.
            // (Cubes multiplied out: `pow` is a libm call, and the margin below allows 4× for error.)
            let tailDen = tail.B + tail.C * tHat
            var kappa = 2 * tail.A * tail.B * tail.C / (tailDen * tailDen * tailDen)
            if k > 0 {
                let headDen = head.A - head.C * tHat
                kappa += (1 + r) * 2 * head.A * head.B * head.C / (headDen * headDen * headDen)
            }
            let eps = 0x1p-52 * 16 * Double(n)
            let reach = tHat * eps * (1 / sigma + 1) + 2
            // Each fixed-point step of the tail loses under one unit, magnified by the maps after it.
            // A Solidly hop can pay up to rOut/rIn whole units over its map, magnified likewise.
            var slack = 1.0, gain = 1.0, over = 0.0
            for i in stride(from: n - 1, through: k, by: -1) {
                slack += gain
                if solidly, (hops.baseAddress! + i).pointee.feeRoundsDown {
                    over += gain * (hops.baseAddress! + i).pointee.rOut.doubleValue / (hops.baseAddress! + i).pointee.rIn.doubleValue
                }
                let (ma, mb, _) = hops[i].map
                gain *= ma / mb
            }
            // In fixed point, with room for the doubles' rounding (an overestimate only widens the bound).
            let overS = over == 0 ? 0 : (over * 1.000_001 + 1) * 0x1p64
            let margin = 4 * kappa * (reach + 1) * (reach + 1) * 0x1p64 + 4
            guard kappa.isFinite, kappa >= 0, reach.isFinite, margin < 0x1p180, slack < 0x1p100, overS < 0x1p180 else { return .uncertain(nil) }
            tailSlackS = Optimizer.integer(2 * slack + 4 + overS, cap: .max)
            let t0 = Optimizer.integer(tHat.rounded(), cap: UInt256.one << 112)
            guard let top = bound(t0) else { return .uncertain(nil) }
            let ceiling = (top &+ Int256(bitPattern: Optimizer.integer(margin, cap: .max))) >> 64
            if ceiling <= .zero { return .unprofitable }
            let scan = certify(from: t0, tHat: tHat, reach: reach, kappa: kappa, ceiling: ceiling)
            guard best.map({ $0.profit > .zero }) == true || scan != .closed else { return .unprofitable }
            guard let sizing = found() else { return .uncertain(nil) }
            switch scan {
            case .closed: return .optimum(sizing)
            case .wide: return .bounded(sizing, gap: (ceiling &- best!.profit).magnitude)
            case .open: return .uncertain(sizing)
            }
        }

        /// The best input found, as a sizing (nil when none pays).
        func found() -> Optimizer.Sizing? {
            guard let b = best, b.profit > .zero else { return nil }
            let width = hops.count + 1
            return Optimizer.Sizing(amounts: Array(amounts[(bestRow * width)..<(bestRow * width + width)]), grossProfit: b.profit.magnitude)
        }

        enum Scan { case closed, wide, open }

        /// Candidates from `t0` outwards: `closed` when one reaches `ceiling` or both sides closed
        /// (the best found is the maximum); `wide` when the candidates nearest the estimate fall
        /// short of the ceiling and the plateau where the bound still exceeds them is wider than
        /// the scan (the best is within `ceiling − best` of the maximum); `open` when the scan's
        /// bound is reached first.
        mutating func certify(from t0: UInt256, tHat: Double, reach: Double, kappa: Double, ceiling: Int256) -> Scan {
            visit(t0)
            if let b = best, b.profit >= ceiling { return .closed }
            for d in 1...3 {
                let step = UInt256(UInt64(d))
                visit(t0 + step)
                if t0 > step { visit(t0 - step) }
                if let b = best, b.profit >= ceiling { return .closed }
            }
            // How far the bound stays above the best found: the scan has to pass that on both sides.
            let short = (ceiling &- (best?.profit ?? .zero)).doubleValue
            let width = (2 * Swift.max(short, 1) / Swift.max(kappa, .leastNormalMagnitude)).squareRoot() + reach + Double(k) + 2
            if best != nil, !(width <= Double(V2CycleOptimum.scanBound)) {
                // Too wide to close. A shortfall of a unit or two is left as it is (a few more
                // candidates cost more than it is worth); a larger one tries a few more.
                guard short > 2 else { return .wide }
                for d in 4..<(4 + V2CycleOptimum.wideCandidates) {
                    let step = UInt256(UInt64(d))
                    visit(t0 + step)
                    if t0 > step { visit(t0 - step) }
                    if let b = best, b.profit >= ceiling { return .closed }
                }
                return .wide
            }
            // Beyond t̂ ± reach the continuous profit falls away from its maximum on both sides.
            let shift = UInt256(UInt64(k == 0 ? 0 : k + 1))
            var right = t0 + 4, left: UInt256? = t0 > 4 ? t0 - 4 : nil
            var rightOpen = true
            for _ in 0..<V2CycleOptimum.scanBound {
                let floor = (best?.profit ?? .zero) &+ Int256(1)
                let needed = Int256(bitPattern: floor.bitPattern << 64)
                if rightOpen {
                    visit(right)
                    if right.doubleValue >= tHat + reach, (bound(right) ?? Int256.min) < needed { rightOpen = false }
                    right += 1
                }
                if let l = left {
                    visit(l)
                    let u = l + shift
                    if u.doubleValue <= tHat - reach, (bound(u) ?? Int256.min) < needed { left = nil } else { left = l > 1 ? l - 1 : nil }
                }
                if let b = best, b.profit >= ceiling { return .closed }
                if !rightOpen && left == nil { return .closed }
            }
            return .open
        }

        /// The exact profit of buying `t` at position k with the least input that delivers it.
        mutating func visit(_ t: UInt256) {
            var x = t
            var j = k
            while j > 0 {
                j -= 1
                guard let y = hops[j].least(delivering: x) else { return }
                x = y
            }
            guard !x.isZero, x <= cap, let f = fee.fee(on: x) else { return }
            // The amounts go into the row the best does not hold, which becomes the best's if it is.
            let width = hops.count + 1
            let row = amounts.baseAddress! + (1 - bestRow) * width
            row[0] = x
            var v = x
            for i in 0..<hops.count {
                guard let o = Hop.out(hops.baseAddress! + i, v) else { return }
                v = o
                row[i + 1] = v
            }
            let p = Int256(bitPattern: v) &- Int256(bitPattern: x) &- Int256(bitPattern: f)
            if let b = best, p < b.profit || (p == b.profit && x >= b.input) { return }
            best = (p, x)
            bestRow = 1 - bestRow
        }

        /// An upper bound, in fixed point, of the continuous profit at `t` (nil where a map is not
        /// defined: more than the pairs hold).
        func bound(_ t: UInt256) -> Int256? {
            let tS = t << 64
            var y = tS
            for i in k..<hops.count {
                guard let o = hops[i].forwardS(y) else { return nil }
                y = o
            }
            var x = tS
            var j = k
            while j > 0 {
                j -= 1
                guard let v = hops[j].inverseS(x) else { return nil }
                x = v
            }
            guard let feeS = UInt256.mulDiv(x, feeNum, feeDen) else { return nil }
            return Int256(bitPattern: y &+ tailSlackS &+ feeSlackS) &- Int256(bitPattern: x) &- Int256(bitPattern: feeS)
        }
    }
}
