import EVMPrimitives

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The input that maximises a cycle's profit, exact under on-chain rounding.
///
/// 1. An estimate: every hop is, locally, `out = a·x / (b + c·x)` (a V2 pair, or a V3 pool's
///    virtual reserves in its current range), and such maps compose into one of the same form, so
///    the continuous optimum is closed-form: `x* = (√(A·B) − B) / C`. For pure V2 cycles that is the
///    answer up to rounding. With V3 hops, Newton's method repeats it on the maps of the state
///    after the trade (the range each V3 hop ended in) until it settles, one iteration per range
///    crossed; Curve and Solidly hops take a bracketed secant search on the exact marginal rate.
/// 2. Rounding: near the optimum profit is flat, and what decides the last wei is the coarsest
///    amount along the path (a 6-decimal token between 18-decimal ones). For that hop boundary the
///    optimiser tries the amount ± a few units, buys each with the least input that delivers it
///    (exact-output quotes backwards), and keeps the best exact profit; a final climb on the input
///    (every neighbour within 16 wei, then powers of two) makes it a local optimum of the integer
///    profit. Quotes go through a `PathQuoter`, so V3 hops near the answer cost one step each.
public enum Optimizer {
    public struct Sizing: Equatable, Sendable {
        /// `[amountIn, out₁, …, outₙ]`.
        public var amounts: [UInt256]
        public var amountIn: UInt256 { amounts[0] }
        public var amountOut: UInt256 { amounts[amounts.count - 1] }
        /// `amountOut − amountIn − flash fee` (> 0): before gas and L1 fees.
        public var grossProfit: UInt256
    }

    /// The profit-maximising input for `path` (a cycle), at most `maxIn`, after the flash-loan fee
    /// on the input (`grossProfit` then is what is left after repaying it); nil when no input is
    /// profitable.
    public static func optimize(_ path: Path, maxIn: UInt256? = nil, flashFee: FlashFee = .none) -> Sizing? {
        guard !path.hops.isEmpty else { return nil }
        let cap = maxIn ?? (UInt256.one << 200)
        let constantProduct = path.hops.allSatisfy {
            switch $0.pool {
            case .uniswapV2: true
            case .solidly(let p): !p.stable
            default: false
            }
        }
        guard constantProduct else { return searched(path, cap: cap, flashFee: flashFee) }
        // Constant-product cycles (V2 and Solidly volatile pairs): the closed form, certified
        // (V2CycleOptimum), or within a few wei
        // of the optimum (proven, and a millionth of the profit at most); otherwise the better of
        // its best and the search's.
        switch V2CycleOptimum.optimize(path, cap: cap, fee: flashFee) {
        case .optimum(let sizing): return sizing
        case .bounded(let sizing, let gap) where gap <= V2CycleOptimum.acceptedGap && gap * 1_000_000 <= sizing.grossProfit:
            return sizing
        case .bounded(let sizing, _): return better(sizing, searched(path, cap: cap, flashFee: flashFee))
        case .uncertain(let found): return better(searched(path, cap: cap, flashFee: flashFee), found)
        case .unprofitable: return nil
        }
    }

    /// The more profitable of two answers (the first on a tie).
    static func better(_ a: Sizing?, _ b: Sizing?) -> Sizing? {
        guard let a, let b else { return a ?? b }
        return b.grossProfit > a.grossProfit ? b : a
    }

    /// The search: the closed-form estimate, refined by Newton's method (V2 and V3 hops) or a
    /// secant search, then the exact integer neighbourhood (`refine`).
    static func searched(_ path: Path, cap: UInt256, flashFee: FlashFee) -> Sizing? {
        let allV2 = path.hops.allSatisfy { if case .uniswapV2 = $0.pool { true } else { false } }
        let maps = path.hops.map { hop in
            let (rIn, rOut, g) = hop.pool.local(zeroForOne: hop.zeroForOne)
            return PathQuoter.LocalMap(reserveIn: rIn, reserveOut: rOut, gamma: g)
        }
        guard maps.allSatisfy({ $0.reserveIn > 0 && $0.reserveOut > 0 }) else { return nil }
        let (A, B, C) = compose(maps)
        // The marginal rate at 0 is A/B; the fee makes each unit cost 1 + r: never profitable below.
        let r = flashFee.rate
        guard A > B * (1 + r), C > 0 else { return nil }
        var estimate = ((A * B / (1 + r)).squareRoot() - B) / C
        let quoter = PathQuoter(path)
        let modelled = path.hops.allSatisfy {
            switch $0.pool {
            case .uniswapV2, .uniswapV3: true
            case .curve, .solidly, .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix: false
            }
        }
        var trusted = allV2
        if !allV2, modelled, let e = newton(quoter, start: estimate, cap: cap, rate: r) {
            estimate = e
            trusted = true
        } else if !allV2 {
            // Finite differences must move every amount along the path by many units, or rounding
            // of a coarse intermediate token swamps the rate.
            var rate = 1.0, minRate = 1.0
            for m in maps.dropLast() {
                rate *= m.gamma * m.reserveOut / m.reserveIn
                minRate = Swift.min(minRate, rate)
            }
            let minDelta = Swift.max(1, Swift.min(1e6 / minRate, Swift.max(estimate, 1) * 1e-4))
            estimate = secant(quoter, start: estimate, cap: cap, minDelta: minDelta, target: log(1 + r))
        }
        return refine(quoter, around: estimate, cap: cap, trusted: trusted, settled: trusted && !allV2, fee: flashFee)
    }

    /// The composition of the hops' maps `x ↦ γ·rOut·x / (rIn + γ·x)`: A, B, C of
    /// `x ↦ A·x / (B + C·x)`. With f = a·x / (b + c·x), f∘F = a·A·x / (b·B + (b·C + c·A)·x).
    static func compose(_ maps: [PathQuoter.LocalMap]) -> (A: Double, B: Double, C: Double) {
        var (A, B, C) = (1.0, 1.0, 0.0)
        for m in maps {
            let (a, b, c) = (m.gamma * m.reserveOut, m.reserveIn, m.gamma)
            (A, B, C) = (a * A, b * B, b * C + c * A)
            // Keep the numbers in range: the map is unchanged by a common factor.
            let scale = Swift.max(A, B)
            (A, B, C) = (A / scale, B / scale, C / scale)
        }
        return (A, B, C)
    }

    /// Newton's method on exact local models: after the trade at x each V2 or V3 hop is, near x, a
    /// constant-product curve (V3: the range the price ended in), their composition is
    /// `x ↦ A·δ / (B + C·δ)`, and its optimum is the step. Within one V3 range the model is the
    /// hop's own curve, so the iteration lands on the continuous optimum once it reaches the right
    /// range; ticks crossed on the way cost one iteration each. Nil when a hop is neither V2 nor V3
    /// or it does not settle (the caller then searches).
    static func newton(_ quoter: PathQuoter, start: Double, cap: UInt256, rate r: Double) -> Double? {
        var x = Swift.max(start, 1)
        var lastGood: Double? = nil
        var maps: [PathQuoter.LocalMap] = []
        for _ in 0..<32 {
            let xi = integer(x, cap: cap)
            let xd = xi.doubleValue
            guard quoter.amountOut(xi, maps: &maps) != nil else {
                // Beyond what the path can take: back towards the last input it took.
                guard let good = lastGood, xd - good > 1 else { return nil }
                x = (good + xd) / 2
                continue
            }
            lastGood = xd
            let (A, B, C) = compose(maps)
            guard A > 0, B > 0, C > 0 else { return nil }
            let d = ((A * B / (1 + r)).squareRoot() - B) / C
            // Bounded moves while the model is far from its range.
            let next = Swift.min(Swift.max(xd + d, xd / 16), xd * 16, cap.doubleValue)
            if abs(next - xd) <= Swift.max(1, xd * 1e-12) { return next }
            if next < 1 { return nil }
            x = next
        }
        return nil
    }

    /// Exact profit at `x` (nil when the path cannot take `x`). Only the output is computed: the
    /// search evaluates many inputs and allocates nothing per one.
    @inline(__always)
    static func profit(_ quoter: PathQuoter, _ x: UInt256, fee: FlashFee) -> (profit: Int256, input: UInt256)? {
        guard !x.isZero, let f = fee.fee(on: x), let out = quoter.amountOut(x) else { return nil }
        return (Int256(bitPattern: out) &- Int256(bitPattern: x) &- Int256(bitPattern: f), x)
    }

    /// `d` as an integer (at least 1, at most `cap`), exact for doubles up to 2^200.
    public static func integer(_ d: Double, cap: UInt256) -> UInt256 {
        guard d.isFinite, d >= 1 else { return .one }
        if d >= cap.doubleValue { return cap }
        // Doubles up to 2^200 convert exactly by their bits.
        let e = d.exponent
        let m = UInt64(d.significand * 9_007_199_254_740_992.0)  // 53-bit mantissa
        return e >= 53 ? UInt256(m) << (Int(e) - 53) : UInt256(m) >> (53 - Int(e))
    }

    /// ln of the exact marginal rate at `x` (finite difference over δ ≈ x·1e-9), or nil if `x` is
    /// beyond what the path can take.
    static func logRate(_ quoter: PathQuoter, _ x: Double, cap: UInt256, minDelta: Double) -> Double? {
        let xi = integer(x, cap: cap)
        let delta = integer(Swift.max(x * 1e-9, minDelta), cap: cap)
        guard let hi = xi.checkedAdd(delta), hi <= cap,
              let o1 = quoter.amountOut(xi), let o2 = quoter.amountOut(hi), o2 > o1
        else { return nil }
        return log((o2 - o1).doubleValue / delta.doubleValue)
    }

    /// Where the marginal rate crosses 1: bracket from the estimate, then Illinois (regula falsi).
    static func secant(_ quoter: PathQuoter, start: Double, cap: UInt256, minDelta: Double, target: Double) -> Double {
        var lo = 0.0, hi = Swift.max(start, minDelta)
        var fLo = 1.0  // only the sign matters at 0: the rate exceeds 1 there
        var fHi: Double
        var expansions = 0
        // Expand until the rate at hi is below 1 (or the path cannot take hi).
        while true {
            guard let f = logRate(quoter, hi, cap: cap, minDelta: minDelta).map({ $0 - target }) else { fHi = -1; break }
            if f < 0 { fHi = f; break }
            lo = hi; fLo = f
            hi *= 4
            expansions += 1
            if expansions > 60 || hi >= cap.doubleValue { fHi = -1; hi = Swift.min(hi, cap.doubleValue); break }
        }
        var side = 0
        for _ in 0..<60 {
            if hi - lo <= Swift.max(1, lo * 1e-12) { break }
            var x = (fLo * hi - fHi * lo) / (fLo - fHi)
            if !(x > lo && x < hi) || fLo == 1.0 && lo == 0 { x = lo == 0 ? hi / 2 : (lo + hi) / 2 }
            guard let f = logRate(quoter, x, cap: cap, minDelta: minDelta).map({ $0 - target }) else { hi = x; fHi = -1; continue }
            if f > 0 {
                lo = x; fLo = f
                if side == 1 { fHi /= 2 }
                side = 1
            } else {
                hi = x; fHi = f
                if side == -1 { fLo /= 2 }
                side = -1
            }
        }
        return (lo + hi) / 2
    }

    /// The integer maximum of a concave `value` on [1, `cap`] (an input that cannot be taken
    /// scores Int256.min): bracketed geometrically from `start` (by factors of 4), then
    /// golden-section search in the bracket. Nil when no input that can be taken was found.
    public static func maximize(from start: UInt256, cap: UInt256, _ value: (UInt256) -> Int256) -> UInt256? {
        var mid = Swift.max(start, UInt256(16))
        var fm = value(mid)
        if fm == Int256.min {
            // Too small for every hop to pay out, or more than the path can take: look both ways.
            var up = mid, down = mid
            while fm == Int256.min && (up <= cap >> 2 || down > 16) {
                if up <= cap >> 2 { up <<= 2; let f = value(up); if f > fm { (mid, fm) = (up, f) } }
                if fm == Int256.min && down > 16 { down >>= 2; let f = value(down); if f > fm { (mid, fm) = (down, f) } }
            }
            if fm == Int256.min { return nil }
        }
        while mid <= cap >> 2, value(mid << 2) > fm { mid <<= 2; fm = value(mid) }
        while mid > 16, value(mid >> 2) > fm { mid >>= 2; fm = value(mid) }
        return golden(lo: Swift.max(mid >> 2, .one), hi: Swift.min(cap, mid << 2), value)
    }

    /// Golden-section search for the integer maximum of `value` on [lo, hi] (an input the path
    /// cannot take scores Int256.min), then a scan of the last few: for when the estimate is not
    /// trustworthy.
    static func golden(lo: UInt256, hi: UInt256, _ value: (UInt256) -> Int256) -> UInt256 {
        // 0.381966… (2 − φ) of n, in integers.
        func part(_ n: UInt256) -> UInt256 {
            let m = UInt256(1_000_000)
            return n / m * 381_966 + (n % m) * 381_966 / m
        }
        var (a, b) = (lo, hi)
        var c = a + part(b - a), d = b - part(b - a)
        var fc = value(c), fd = value(d)
        while b - a > 8 {
            if fc >= fd {
                b = d
                d = c; fd = fc
                c = a + part(b - a); fc = value(c)
            } else {
                a = c
                c = d; fc = fd
                d = b - part(b - a); fd = value(d)
            }
            if c >= d {  // integer rounding collapsed the pair: re-place both
                c = a + part(b - a); d = b - part(b - a)
                fc = value(c); fd = value(d)
            }
        }
        var best = a, top = value(a)
        var x = a + 1
        while x <= b {
            let v = value(x)
            if v > top { (best, top) = (x, v) }
            x += 1
        }
        return best
    }

    /// The exact integer optimum near the estimate (see the type's notes).
    /// `settled`: the estimate is a Newton fixed point on exact local models, so the ±1% check
    /// is left out.
    static func refine(_ quoter: PathQuoter, around estimate: Double, cap: UInt256, trusted: Bool, settled: Bool, fee: FlashFee) -> Sizing? {
        let path = quoter.path
        func value(_ x: UInt256) -> Int256 { x <= cap ? (profit(quoter, x, fee: fee)?.profit ?? Int256.min) : Int256.min }
        func searched(from start: UInt256) -> UInt256? { maximize(from: start, cap: cap, value) }
        var x0 = integer(estimate, cap: cap)
        // Search unless the estimate already sits at the maximum.
        let step = Swift.max(x0 / 100, .one)
        let here = value(x0)
        if here <= .zero || !settled && (value(x0 + step) > here || (x0 > step && value(x0 - step) > here)) {
            guard let x = searched(from: x0) else { return nil }
            x0 = x
        }
        var best: (profit: Int256, input: UInt256)? = profit(quoter, x0, fee: fee)
        // Profits already computed (Int256.min: the path cannot take the input): the climb's
        // windows overlap from one round to the next.
        var known = RecentProfits()
        let cheap = path.hops.allSatisfy { if case .uniswapV2 = $0.pool { true } else { false } }
        func consider(_ x: UInt256, strictly: Bool = false) {
            guard x <= cap else { return }
            let p: Int256
            if cheap {
                p = profit(quoter, x, fee: fee)?.profit ?? Int256.min
            } else if let k = known[x] {
                p = k
            } else {
                p = profit(quoter, x, fee: fee)?.profit ?? Int256.min
                known.insert(x, p)
            }
            guard p != Int256.min else { return }
            if best == nil || p > best!.profit || (!strictly && p == best!.profit && x < best!.input) { best = (p, x) }
        }
        guard let start = best, let startAmounts = quoter.amounts(start.input) else { return nil }
        // The coarsest amount along the path (most input per unit) decides the last wei: search
        // it directly, buying each candidate with the least input that delivers it.
        var coarsest = 0
        var unit = 1.0
        for j in 1...path.hops.count where !startAmounts[j].isZero {
            let u = startAmounts[0].doubleValue / startAmounts[j].doubleValue
            if u > unit { (unit, coarsest) = (u, j) }
        }
        // A unit worth less than two input units rounds no worse than the input itself: the climb
        // below settles it.
        if coarsest > 0 && unit >= 2 {
            // Within ±1% of the estimate (checked above), searched in the coarse unit.
            let v0 = startAmounts[coarsest]
            func byUnit(_ v: UInt256) -> Int256 {
                guard let x = try? path.leastInput(delivering: v, at: coarsest) else { return Int256.min }
                return value(x)
            }
            let w = Swift.min(v0 / 100, Swift.max(256, v0 >> 20)) + 4
            // A unit of under 16 input units: the climb's ±16 window reaches past the plateaus on
            // either side of every input it stands on, so only a wider unit is searched here.
            let v = trusted || unit < 16 ? v0 : golden(lo: v0 > w ? v0 - w : .one, hi: v0 + w, byUnit)
            // Buy the best unit count and its neighbours with the least input that delivers them.
            var u = v > 4 ? v - 4 : .one
            while u <= v + 4 {
                if let x = try? path.leastInput(delivering: u, at: coarsest) { consider(x) }
                u += 1
            }
        }
        // Climb on the input while it strictly improves (a tie does not move it, so the answer is a
        // point whose neighbours were all checked).
        var improved = true
        var rounds = 0, total = 0
        var researched = false
        // Bounded: on a ramp (a book level's constant margin over millions of lots) each round
        // gains a little and moves at most 4,096 units; the search has placed it already.
        while improved && total < Self.maxClimbRounds {
            total += 1
            improved = false
            let x = best!.input
            let before = best!.profit
            // Every neighbour within 16 wei (rounding makes the top of the curve a ragged plateau),
            // then powers of two further out.
            for d in 1...16 {
                let step = UInt256(UInt64(d))
                consider(x + step, strictly: true)
                if x > step { consider(x - step, strictly: true) }
            }
            var step = UInt256(32)
            while best!.profit == before && step <= UInt256(1 << 12) {
                consider(x + step, strictly: true)
                if x > step { consider(x - step, strictly: true) }
                step <<= 1
            }
            improved = best!.profit > before
            rounds += 1
            if improved && rounds == 48 && !researched, let x = searched(from: best!.input) {
                // Still rising after 48 rounds: the estimate was not at the maximum. Search once
                // from here, then climb on from the better of the two.
                researched = true
                rounds = 0
                consider(x)
            }
        }
        guard let b = best, b.profit > .zero else { return nil }
        guard let amounts = quoter.amounts(b.input) else { return nil }
        return Sizing(amounts: amounts, grossProfit: b.profit.magnitude)
    }
}

extension Optimizer {
    /// Rounds the final climb may take (a round checks ±16 units and powers of two to ±4,096).
    public static let maxClimbRounds = 256
}

/// A direct-mapped cache of the last profits computed, keyed by input: the climb's windows
/// overlap, and a hash table costs more than a V2 quote.
struct RecentProfits {
    private var keys = [UInt256](repeating: .zero, count: 256)
    private var values = [Int256](repeating: .zero, count: 256)

    subscript(x: UInt256) -> Int256? {
        let i = Int(truncatingIfNeeded: x.w0 & 255)
        return keys[i] == x && !x.isZero ? values[i] : nil
    }

    mutating func insert(_ x: UInt256, _ p: Int256) {
        let i = Int(truncatingIfNeeded: x.w0 & 255)
        keys[i] = x
        values[i] = p
    }
}
