import AMMMath
import EVMPrimitives
import Foundation

/// The statistical-arbitrage pairs of one chain and how each is priced and traded, from the
/// chain's watched pools: every price is read from pool prices (the PriceMatrix's, or a book's
/// at a past block), so the detector, the backfill and the position manager see one series.
///
/// A pair's two tokens are priced in one numeraire: the first stablecoin not in the pair, or the
/// wrapped native token when both are stablecoins (a stablecoin priced in itself would be a
/// constant, with no correlation to measure). A token's route to the numeraire is, in order: its
/// direct pools; the pair's other token's route and the pools between the two (so the spread of a
/// pair with a direct pool is that pool's price); the wrapped native token's pools. Each leg is
/// the median of its pools' prices (one stale or manipulated venue does not move it). A pair is
/// traded through its direct pools (Uniswap V2 and V3: what the executor swaps).
public struct StatArbUniverse: Sendable {
    public struct Token: Sendable, Equatable {
        public var symbol: String
        public var address: Address
        public var stable: Bool
        public init(symbol: String, address: Address, stable: Bool) {
            self.symbol = symbol
            self.address = address
            self.stable = stable
        }
    }

    /// The median of `pools`' prices as the PriceMatrix keeps them (the larger address's token per
    /// the smaller's); inverted when the priced token is the larger address.
    public struct Leg: Sendable, Equatable {
        public var pools: [Int]
        public var invert: Bool
        public init(pools: [Int], invert: Bool) {
            self.pools = pools
            self.invert = invert
        }
    }

    public struct Pair: Sendable, Equatable {
        /// The pair's number on the chain (the detector's index, the journal's `pair`).
        public var index: Int
        public var symbols: (String, String)
        public var tokenA: Address
        public var tokenB: Address
        public var numeraire: Address
        public var routeA: [Leg]
        public var routeB: [Leg]
        /// Pools between A and B the executor can swap on.
        public var trade: [Int]

        /// "base/quote".
        public var name: String { "\(symbols.0)/\(symbols.1)" }

        public static func == (l: Pair, r: Pair) -> Bool {
            l.index == r.index && l.symbols == r.symbols && l.tokenA == r.tokenA && l.tokenB == r.tokenB && l.numeraire == r.numeraire
                && l.routeA == r.routeA && l.routeB == r.routeB && l.trade == r.trade
        }
    }

    public private(set) var pairs: [Pair] = []
    /// Pairs left out, and why ("USDC/USDT: no route to the numeraire for USDT").
    public private(set) var skipped: [String] = []

    /// `pairs` (base, quote symbols) over `tokens` and `pools`; `tradable` says which pools the
    /// executor can swap on.
    public init(pairs wanted: [(String, String)], tokens: [Token], wrappedNative: Address, pools: [PoolRef], tradable: (Int) -> Bool) {
        func find(_ symbol: String) -> Token? { tokens.first { $0.symbol == symbol } }
        // USDC, then USDT, then DAI, then any other stablecoin: the deepest quote currencies first.
        let preferred = ["USDC", "USDT", "DAI"]
        let stables = tokens.filter(\.stable).sorted { (preferred.firstIndex(of: $0.symbol) ?? 3) < (preferred.firstIndex(of: $1.symbol) ?? 3) }
        func between(_ x: Address, _ y: Address) -> [Int] {
            pools.indices.filter { (pools[$0].token0 == x && pools[$0].token1 == y) || (pools[$0].token0 == y && pools[$0].token1 == x) }
        }
        func leg(_ t: Address, _ n: Address) -> Leg? {
            let ps = between(t, n)
            return ps.isEmpty ? nil : Leg(pools: ps, invert: t > n)
        }
        for (base, quote) in wanted {
            guard let a = find(base), let b = find(quote), a.address != b.address else {
                skipped.append("\(base)/\(quote): not both listed")
                continue
            }
            let numeraire: Address? = a.stable && b.stable ? wrappedNative
                : stables.first { $0.address != a.address && $0.address != b.address }?.address
                    ?? ([a.address, b.address].contains(wrappedNative) ? nil : wrappedNative)
            guard let n = numeraire, n != a.address, n != b.address else {
                skipped.append("\(base)/\(quote): no numeraire outside the pair")
                continue
            }
            func route(_ t: Address, other: Address) -> [Leg]? {
                if let direct = leg(t, n) { return [direct] }
                if let o = leg(other, n), let cross = leg(t, other) { return [cross, o] }
                if wrappedNative != t, wrappedNative != n, let w = leg(t, wrappedNative), let wn = leg(wrappedNative, n) { return [w, wn] }
                return nil
            }
            guard let ra = route(a.address, other: b.address), let rb = route(b.address, other: a.address) else {
                skipped.append("\(base)/\(quote): no route to the numeraire")
                continue
            }
            let trade = between(a.address, b.address).filter(tradable)
            guard !trade.isEmpty else {
                skipped.append("\(base)/\(quote): no pool between them to trade on")
                continue
            }
            pairs.append(Pair(index: pairs.count, symbols: (base, quote), tokenA: a.address, tokenB: b.address, numeraire: n,
                              routeA: ra, routeB: rb, trade: trade))
        }
    }

    /// Every pool a pair's prices read.
    public var pricedPools: [Int] { Array(Set(pairs.flatMap { ($0.routeA + $0.routeB).flatMap(\.pools) })).sorted() }

    /// A and B in the numeraire (raw units), from `price(pool)` (the PriceMatrix's orientation);
    /// nil when a leg has no positive finite price.
    public static func prices(_ pair: Pair, price: (Int) -> Double?) -> (a: Double, b: Double)? {
        guard let a = value(pair.routeA, price), let b = value(pair.routeB, price) else { return nil }
        return (a, b)
    }

    static func value(_ route: [Leg], _ price: (Int) -> Double?) -> Double? {
        var v = 1.0
        for leg in route {
            var xs = leg.pools.compactMap(price).filter { $0 > 0 && $0.isFinite }
            guard !xs.isEmpty else { return nil }
            xs.sort()
            let m = xs.count % 2 == 1 ? xs[xs.count / 2] : (xs[xs.count / 2 - 1] + xs[xs.count / 2]) / 2
            v *= leg.invert ? 1 / m : m
        }
        return v.isFinite && v > 0 ? v : nil
    }
}

extension StatArbUniverse {
    /// How big an entry is: as much as its own price impact allows.
    public struct Sizing: Sendable {
        /// The share of the expected reversion the entry swap's price impact may take.
        public var impactShare = 0.25
        /// The most of a token one entry sells (raw units); absent: only the impact limits it.
        public var maxIn: [Address: UInt256] = [:]
        public init() {}
    }

    /// An entry's swap: the pool, what it sells and buys, and what the bought amount would fetch
    /// back after a full reversion (the round trip's fees and both impacts included).
    public struct Entry: Sendable, Equatable {
        public var pool: Int
        public var sold: Address
        public var bought: Address
        public var amountIn: UInt256
        public var amountOut: UInt256
        public var expectedBack: UInt256
    }

    /// The entry of `pair` on the side `longA` (sell B for A) for a spread `reversion` (log units)
    /// from its mean, on `pools` (a book's, by index; `token0` of each): the trade pool that takes
    /// the most before its price moves by `impactShare` of the reversion, at that size (within
    /// `maxIn`). nil when no pool takes a unit.
    public static func size<Pools: RandomAccessCollection<Pool>>(_ pair: Pair, longA: Bool, reversion: Double, pools: Pools, token0: (Int) -> Address,
                                                             sizing: Sizing) -> Entry? where Pools.Index == Int {
        let sold = longA ? pair.tokenB : pair.tokenA, bought = longA ? pair.tokenA : pair.tokenB
        let limit = sizing.impactShare * reversion
        var best: (Int, UInt256)? = nil
        for i in pair.trade where i < pools.count {
            let amount = largest(pools[i], zeroForOne: token0(i) == sold, impact: limit)
            if amount > (best?.1 ?? .zero) { best = (i, amount) }
        }
        guard let (i, sized) = best else { return nil }
        let amount = sizing.maxIn[sold].map { min(sized, $0) } ?? sized
        let zeroForOne = token0(i) == sold
        guard !amount.isZero, let out = try? pools[i].amountOut(amount, zeroForOne: zeroForOne), !out.isZero,
              let after = try? pools[i].applying(amountIn: amount, zeroForOne: zeroForOne),
              let back = try? after.amountOut(out, zeroForOne: !zeroForOne) else { return nil }
        let expected = back.doubleValue * exp(reversion)
        return Entry(pool: i, sold: sold, bought: bought, amountIn: amount, amountOut: out,
                     expectedBack: expected < 1e70 ? wholeUnits(expected) : back)
    }

    /// The largest input whose swap moves `pool`'s price by at most `impact` (log units): doubling, then halving.
    static func largest(_ pool: Pool, zeroForOne: Bool, impact: Double) -> UInt256 {
        let before = pool.spotPrice
        guard before > 0, impact > 0 else { return .zero }
        func fits(_ a: UInt256) -> Bool {
            guard let after = try? pool.applying(amountIn: a, zeroForOne: zeroForOne), after.spotPrice > 0 else { return false }
            return abs(log(after.spotPrice / before)) <= impact
        }
        // Amounts too small to buy a unit do not move the price, but do not swap either: from the first that does.
        var high = UInt256.one
        while (try? pool.applying(amountIn: high, zeroForOne: zeroForOne)) == nil {
            guard high < UInt256.one << 128 else { return .zero }
            high = high << 1
        }
        var low = UInt256.zero
        while fits(high) {
            low = high
            guard high < UInt256.one << 200 else { return low }
            high = high << 1
        }
        while high - low > .one {
            let mid = low + (high - low) >> 1
            if fits(mid) { low = mid } else { high = mid }
        }
        return low
    }

    /// `x` (≥ 0, below 2^233) as an integer, rounded down.
    static func wholeUnits(_ x: Double) -> UInt256 {
        guard x >= 1 else { return .zero }
        let e = Int(x.exponent), m = UInt64(x.significandBitPattern) | (1 << 52)
        return e >= 52 ? UInt256(m) << (e - 52) : UInt256(m >> UInt64(52 - e))
    }
}
