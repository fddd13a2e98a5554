import AMMMath
import EVMPrimitives
import MarketState
import Opportunities
import SolanaPrimitives

/// The same asset priced on two chains: buy it with a quote token on one chain, bridge it, sell
/// it for the quote token on the other. Synchronous and deterministic like `CycleDetector`: it
/// keeps each chain's latest state (given by the caller) and evaluates the routes touching a
/// chain that changed.
///
/// The buy may come from any of the source chain's pools (it lands within a block); the sale is
/// priced on the destination's deepest pool for the pair, where the chain's price is: a gap on a
/// shallower pool there is closed by that chain's own arbitrage long before the asset arrives
/// (sold into it, the lab's cross-chain trades realized about half of what was detected).
///
/// The trade of `x` quote units is `sell_B(bridge(buy_A(x)))`, every step exact: the pools'
/// integer math, the bridge's decimals and its proportional fee on what it delivers, rounded down. From it come the bridge's fixed
/// fee, gas on both chains (each converted into the quote token at that chain's deepest
/// native/quote pool, rounded up) and a latency-risk charge of `riskPipsPerSqrtSecond ·
/// √latency` of the input (the price may move while the asset is in flight). The input is the
/// integer maximum of gross output − input − risk: from the local models' optimum, bracketed and
/// searched on the concave exact profit (`Optimizer.maximize`); a pair of pools unchanged since it was last sized is not sized again. Prices older than `maxPriceAge` are not traded on (the
/// original system's hard 30 s limit).
public struct CrossChainDetector: Sendable {
    /// A token or pool on either kind of chain: an EVM address (20 bytes) or a Solana key (32).
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public let bytes: [UInt8]
        public init(_ address: Address) { bytes = address.bytes }
        public init(solana key: [UInt8]) {
            precondition(key.count == 32, "a Solana key is 32 bytes")
            bytes = key
        }
        public var isSolana: Bool { bytes.count == 32 }
        public var address: Address? { bytes.count == 20 ? try? Address(bytes: bytes) : nil }
        public var description: String { address?.description ?? Base58.encode(bytes) }
    }

    /// One pool of a chain, as the detector sees it: its state, key, tokens and venue number.
    public struct Listing: Sendable {
        public var pool: Pool
        public var key: Key
        public var token0: Key
        public var token1: Key
        public var venue: UInt32
        public init(pool: Pool, key: Key, token0: Key, token1: Key, venue: UInt32) {
            (self.pool, self.key, self.token0, self.token1, self.venue) = (pool, key, token0, token1, venue)
        }
    }

    /// A bridge route for one asset, with the quote token it is bought and sold against.
    public struct Route: Sendable {
        public var fromChain: UInt64
        public var toChain: UInt64
        /// The bridged asset on each chain.
        public var asset: (from: Key, to: Key)
        /// The quote token on each chain (the same money: USDC and USDC).
        public var quote: (from: Key, to: Key)
        public var quoteDecimals: UInt8
        /// Dollars per whole quote token (1 for a stablecoin).
        public var quoteUSD: Double
        /// Proportional bridge fee in pips (1e-6) of the amount bridged.
        public var feePips: UInt32
        /// Fixed bridge cost (relayer gas, messaging) in micro-dollars.
        public var fixedFeeMicroUSD: Int64
        public var latencySeconds: Int
        /// How the bridge carries the asset's decimals: it delivers ⌊amount / 10^down⌋ · 10^up, the
        /// rest left behind. Wormhole carries at most 8 decimals: WETH (18) from an EVM chain to
        /// Solana's (8) is (10, 0), back (0, 10); SOL (9) to its 9-decimal wrapper is (1, 1).
        public var assetScale: (down: Int, up: Int) = (0, 0)

        public init(fromChain: UInt64, toChain: UInt64, asset: (from: Key, to: Key), quote: (from: Key, to: Key),
                    quoteDecimals: UInt8, quoteUSD: Double = 1, feePips: UInt32, fixedFeeMicroUSD: Int64, latencySeconds: Int) {
            self.fromChain = fromChain
            self.toChain = toChain
            self.asset = asset
            self.quote = quote
            self.quoteDecimals = quoteDecimals
            self.quoteUSD = quoteUSD
            self.feePips = feePips
            self.fixedFeeMicroUSD = fixedFeeMicroUSD
            self.latencySeconds = latencySeconds
        }

        /// A route between two EVM chains.
        public init(fromChain: UInt64, toChain: UInt64, asset: (from: Address, to: Address), quote: (from: Address, to: Address),
                    quoteDecimals: UInt8, quoteUSD: Double = 1, feePips: UInt32, fixedFeeMicroUSD: Int64, latencySeconds: Int) {
            self.init(fromChain: fromChain, toChain: toChain, asset: (Key(asset.from), Key(asset.to)), quote: (Key(quote.from), Key(quote.to)),
                      quoteDecimals: quoteDecimals, quoteUSD: quoteUSD, feePips: feePips, fixedFeeMicroUSD: fixedFeeMicroUSD, latencySeconds: latencySeconds)
        }
    }

    public struct Configuration: Sendable {
        public var routes: [Route]
        /// Wrapped native token of each chain (gas is converted through it).
        public var wrappedNative: [UInt64: Key]
        public var minNetProfitBps = 20
        public var maxPriceAgeNanoseconds: UInt64 = 30_000_000_000
        /// Latency risk: this many pips of the input per √second in flight.
        public var riskPipsPerSqrtSecond = 200
        /// Gas of each leg (a swap from the executor's balance).
        public var gasPerLeg: UInt64 = 150_000
        public var ttlNanoseconds: UInt64 = 30_000_000_000
        public var dedupWindowNanoseconds: UInt64 = 30_000_000_000
        public var republishBps = 1_000

        public init(routes: [Route], wrappedNative: [UInt64: Key]) {
            self.routes = routes
            self.wrappedNative = wrappedNative
        }

        public init(routes: [Route], wrappedNative: [UInt64: Address]) {
            self.init(routes: routes, wrappedNative: wrappedNative.mapValues(Key.init))
        }
    }

    public struct Counters: Equatable, Sendable {
        public var evaluated = 0
        public var stale = 0
        public var unprofitable = 0
        public var belowMinimum = 0
        public var duplicates = 0
        public var published = 0
        /// Evaluations whose pools had not changed since they were last sized (not sized again).
        public var reused = 0
        public init() {}
    }

    struct ChainState: Sendable {
        var listings: [Listing]
        /// One leg's cost in the chain's native raw units (wei; lamports), and whether it is wei.
        var legCost: UInt256
        var evm: Bool
        var block: UInt64
        var at: UInt64
    }

    /// A route's buy and sell pools, and what they were last sized at.
    struct SizingKey: Hashable {
        var route: Int
        var buy: Key
        var sell: Key
    }

    struct Sizing {
        var input: UInt256
        var bought: UInt256
        var sold: UInt256
        /// Gross output − input − risk.
        var value: Int256
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var sized: [SizingKey: (buy: Pool, sell: Pool, sizing: Sizing?)] = [:]
    private var chains: [UInt64: ChainState] = [:]
    private var lastPublished: [[Key]: (net: Int256, at: UInt64)] = [:]

    public init(configuration: Configuration) { self.configuration = configuration }

    /// An EVM chain's state as of `at` (ns since the epoch): its live pools, and gas at `gasPrice`.
    public mutating func update(chain: UInt64, book: PoolBook, refs: [PoolRef?], gasPrice: UInt256, block: UInt64, at: UInt64) {
        var listings: [Listing] = []
        listings.reserveCapacity(refs.count)
        for (i, r) in refs.enumerated() {
            guard let r, i < book.count, !book.stale.contains(i) else { continue }
            listings.append(Listing(pool: book.pools[i], key: Key(r.address), token0: Key(r.token0), token1: Key(r.token1), venue: r.venue))
        }
        chains[chain] = ChainState(listings: listings, legCost: gasPrice &* UInt256(configuration.gasPerLeg), evm: true, block: block, at: at)
    }

    /// A Solana state as of `at`: its pools (32-byte keys), a leg's cost in lamports (fee, priority
    /// and tip), sized on `slot`.
    public mutating func update(solana chain: UInt64, listings: [Listing], legLamports: UInt64, slot: UInt64, at: UInt64) {
        chains[chain] = ChainState(listings: listings, legCost: UInt256(legLamports), evm: false, block: slot, at: at)
    }

    /// Evaluates every route touching `chain`, appending what passes to `out`.
    public mutating func process(changed chain: UInt64, now: UInt64, into out: inout [Opportunity]) {
        for (id, route) in configuration.routes.enumerated() where route.fromChain == chain || route.toChain == chain {
            guard let a = chains[route.fromChain], let b = chains[route.toChain] else { continue }
            guard now &- a.at <= configuration.maxPriceAgeNanoseconds, now &- b.at <= configuration.maxPriceAgeNanoseconds else {
                counters.stale += 1
                continue
            }
            // The sale is priced on the destination's deepest pool for the pair: a gap on a
            // shallower one is the chain's own arbitrage, closed within a block or two, long
            // before the asset arrives; the deepest pool is where the chain's price is.
            guard let sell = deepest(b, pools(b, route.asset.to, route.quote.to)) else { continue }
            for buy in pools(a, route.quote.from, route.asset.from) {
                evaluate(id, route, a, buy, b, sell, now: now, into: &out)
            }
        }
    }

    /// Live pools of `state` trading `tokenIn` for `tokenOut`: (index, zeroForOne).
    private func pools(_ state: ChainState, _ tokenIn: Key, _ tokenOut: Key) -> [(Int, Bool)] {
        state.listings.indices.compactMap { i in
            let l = state.listings[i]
            if l.token0 == tokenIn && l.token1 == tokenOut { return (i, true) }
            if l.token1 == tokenIn && l.token0 == tokenOut { return (i, false) }
            return nil
        }
    }

    /// Of `candidates`, the pool holding the most of its output token at its current price (its
    /// local depth: virtual reserves for a concentrated-liquidity pool).
    private func deepest(_ state: ChainState, _ candidates: [(Int, Bool)]) -> (Int, Bool)? {
        candidates.max { state.listings[$0.0].pool.local(zeroForOne: $0.1).reserveOut < state.listings[$1.0].pool.local(zeroForOne: $1.1).reserveOut }
    }

    private mutating func evaluate(_ id: Int, _ route: Route, _ a: ChainState, _ buy: (Int, Bool), _ b: ChainState, _ sell: (Int, Bool), now: UInt64,
                                   into out: inout [Opportunity]) {
        counters.evaluated += 1
        let listingA = a.listings[buy.0], listingB = b.listings[sell.0]
        let poolA = listingA.pool, poolB = listingB.pool
        let riskPips = UInt64((Double(configuration.riskPipsPerSqrtSecond) * Double(route.latencySeconds).squareRoot()).rounded(.up))
        let fee = UInt256(UInt64(route.feePips))
        /// (bought, bridged, sold) for `x`, or nil when a pool cannot take it.
        func trade(_ x: UInt256) -> (UInt256, UInt256, UInt256)? {
            guard let bought = try? poolA.amountOut(x, zeroForOne: buy.1) else { return nil }
            // The bridge carries what its decimals allow, and keeps its fee from what it delivers,
            // rounded down (as Across and Stargate compute it, and the lab's bridge on its fill):
            // d − ⌊d·fee/1e6⌋ of the delivered d, in the destination's units.
            let delivered = Self.scaled(bought, route.assetScale)
            let bridged = delivered - (UInt256.mulDiv(delivered, fee, 1_000_000) ?? delivered)
            guard !bridged.isZero, let sold = try? poolB.amountOut(bridged, zeroForOne: sell.1) else { return nil }
            return (bought, bridged, sold)
        }
        /// Gross output − input − risk, for `x` that sold for `sold`.
        func value(_ x: UInt256, sold: UInt256) -> Int256 {
            let risk = UInt256.mulDivRoundingUp(x, UInt256(riskPips), 1_000_000) ?? .max
            return Int256(bitPattern: sold) &- Int256(bitPattern: x) &- Int256(bitPattern: risk)
        }
        func objective(_ x: UInt256) -> Int256? { trade(x).map { value(x, sold: $0.2) } }
        // The most the buy pool can sensibly take: its input-side depth.
        let depth = poolA.local(zeroForOne: buy.1).reserveIn
        guard depth >= 2 else { return }
        // Screen: the marginal rate of the whole trade at zero must beat 1 + the minimum margin.
        let ra = poolA.local(zeroForOne: buy.1), rb = poolB.local(zeroForOne: sell.1)
        let units = pow10(UInt8(clamping: route.assetScale.up)) / pow10(UInt8(clamping: route.assetScale.down))
        let keep = (1 - Double(route.feePips) / 1e6) * (1 - Double(riskPips) / 1e6) * units
        let rate = ra.gamma * ra.reserveOut / ra.reserveIn * rb.gamma * rb.reserveOut / rb.reserveIn * keep
        guard rate > 1 + Double(configuration.minNetProfitBps) / 10_000 else {
            counters.unprofitable += 1
            return
        }
        // The pools as they were sized last: the same pools in the same state size the same.
        let key = SizingKey(route: id, buy: listingA.key, sell: listingB.key)
        let sizing: Sizing?
        if let last = sized[key], last.buy == poolA, last.sell == poolB {
            sizing = last.sizing
            counters.reused += 1
        } else {
            // From the local models' optimum (two constant-product maps and the bridge's rate
            // composed into one, x·A/(B + C·x), whose profit peaks at (√(A·B/(1+risk)) − B)/C):
            // bracketed, then searched on the exact trade.
            let a1 = ra.gamma * ra.reserveOut * (1 - Double(route.feePips) / 1e6) * units, a2 = rb.gamma * rb.reserveOut
            let A = a1 * a2, B = ra.reserveIn * rb.reserveIn, C = rb.reserveIn * ra.gamma + rb.gamma * a1
            let guess = ((A * B / (1 + Double(riskPips) / 1e6)).squareRoot() - B) / C
            let cap = Optimizer.integer(depth, cap: UInt256.one << 200)
            var found = Optimizer.maximize(from: Optimizer.integer(guess.isFinite ? max(guess, 1) : 1, cap: cap), cap: cap) { objective($0) ?? Int256.min }
            if route.assetScale != (0, 0), let x = found {
                found = Self.firstOfBestStep(from: x, cap: cap, sold: { trade($0)?.2 }, value: value)
            }
            sizing = found.flatMap { x in trade(x).map { Sizing(input: x, bought: $0.0, sold: $0.2, value: value(x, sold: $0.2)) } }
            sized[key] = (poolA, poolB, sizing)
        }
        guard let sizing, sizing.value > .zero else {
            counters.unprofitable += 1
            return
        }
        let best = sizing.input, bought = sizing.bought, sold = sizing.sold
        // Costs in quote units: gas on both chains, the fixed bridge fee, the latency risk.
        let quotePerUSD = pow10(route.quoteDecimals) / route.quoteUSD
        let fixed = UInt256(UInt64(max(0, (Double(route.fixedFeeMicroUSD) / 1e6 * quotePerUSD).rounded(.up))))
        guard let gasA = gasInQuote(a, route.fromChain, route.quote.from), let gasB = gasInQuote(b, route.toChain, route.quote.to) else {
            counters.unprofitable += 1
            return
        }
        let risk = UInt256.mulDivRoundingUp(best, UInt256(riskPips), 1_000_000) ?? .max
        let gross = Int256(bitPattern: sold) &- Int256(bitPattern: best)
        let net = gross &- Int256(bitPattern: gasA.quote) &- Int256(bitPattern: gasB.quote) &- Int256(bitPattern: fixed) &- Int256(bitPattern: risk)
        let minimum = UInt256.mulDiv(best, UInt256(UInt64(configuration.minNetProfitBps)), 10_000) ?? .max
        guard net > .zero, net.magnitude >= minimum else {
            counters.belowMinimum += 1
            return
        }
        let pair = [key.buy, key.sell]
        if let last = lastPublished[pair], now >= last.at, now - last.at < configuration.dedupWindowNanoseconds,
           abs(net.doubleValue - last.net.doubleValue) <= abs(last.net.doubleValue) * Double(configuration.republishBps) / 10_000 {
            counters.duplicates += 1
            return
        }
        lastPublished[pair] = (net, now)
        counters.published += 1
        // Each side a hop on its EVM chain, or the Solana leg (32-byte keys) of a side on Solana.
        var hops: [Opportunity.Hop] = [], legs: [Opportunity.Solana.Leg] = []
        for (chain, listing, tokenIn, tokenOut, amount) in [(route.fromChain, listingA, route.quote.from, route.asset.from, bought),
                                                            (route.toChain, listingB, route.asset.to, route.quote.to, sold)] {
            if let pool = listing.key.address, let i = tokenIn.address, let o = tokenOut.address {
                hops.append(Opportunity.Hop(chainID: chain, pool: pool, tokenIn: i, tokenOut: o, venue: listing.venue, amountOut: amount))
            } else {
                legs.append(Opportunity.Solana.Leg(pool: listing.key.bytes, mintIn: tokenIn.bytes, mintOut: tokenOut.bytes, amountOut: amount.w0))
            }
        }
        let usdPerRaw = route.quoteUSD / pow10(route.quoteDecimals)
        // The block sized on: an EVM side's (the later of two); a Solana–Solana route is not one.
        let block = [a, b].filter(\.evm).map(\.block).max() ?? max(a.block, b.block)
        var id = Opportunity.makeID(kind: .crossChain, blockNumber: block, path: hops, amountIn: best)
        if !legs.isEmpty { id = Array(Keccak256.hash(id + legs.flatMap { $0.pool + $0.mintIn }).prefix(16)) }
        out.append(Opportunity(
            id: id, kind: .crossChain,
            chains: [route.fromChain, route.toChain], path: hops, amountIn: best, grossProfit: gross, netProfit: net,
            grossProfitMicroUSD: microUSD(gross.doubleValue, usdPerRaw), netProfitMicroUSD: microUSD(net.doubleValue, usdPerRaw),
            gasUnits: 2 * configuration.gasPerLeg, gasCostWei: (a.evm ? gasA.native : .zero) &+ (b.evm ? gasB.native : .zero), flashSource: .none,
            blockNumber: block, timestamps: .init(eventReceived: min(a.at, b.at), stateApplied: max(a.at, b.at), detected: now),
            expiresAt: now &+ configuration.ttlNanoseconds,
            // The trade is exposed for the bridge's latency: trust falls with it.
            confidence: max(0.3, 0.9 - 0.002 * Double(route.latencySeconds)), solana: legs.isEmpty ? nil : Opportunity.Solana(legs: legs)))
    }

    /// A bridge that drops decimals makes the exact profit a staircase: what is sold moves in
    /// steps of one unit of the bridge's carrying precision, and within a step each further input
    /// unit only costs. The best input is the first of its step, and the best step is found by
    /// climbing from `x` (the search's answer) to the next or previous step while that pays more
    /// (at most 64 steps), then the best of `window` steps each way around it. `sold` is
    /// nondecreasing in the input (nil: cannot be taken).
    static func firstOfBestStep(from x: UInt256, cap: UInt256, sold: (UInt256) -> UInt256?, value: (UInt256, UInt256) -> Int256) -> UInt256 {
        /// The least input in [1, x] selling what x sells.
        func first(_ x: UInt256) -> UInt256 {
            guard let s = sold(x) else { return x }
            var d = UInt256.one
            while d < x, let t = sold(x - d), t == s { d <<= 1 }
            var (lo, hi) = (d < x ? x - d : .zero, x)  // sold(lo) < s (or lo = 0), sold(hi) = s
            while hi - lo > .one {
                let mid = lo + (hi - lo) / 2
                if let t = sold(mid), t == s { hi = mid } else { lo = mid }
            }
            return hi
        }
        /// The least input above x selling more than x sells, if one is within `cap`.
        func next(_ x: UInt256) -> UInt256? {
            guard let s = sold(x) else { return nil }
            var d = UInt256.one
            while x + d <= cap, let t = sold(x + d), t == s { d <<= 1 }
            guard x + d <= cap || x < cap else { return nil }
            var (lo, hi) = (x, Swift.min(x + d, cap))  // sold(lo) = s, sold(hi) > s (or not takeable)
            guard let top = sold(hi), top > s else { return nil }
            while hi - lo > .one {
                let mid = lo + (hi - lo) / 2
                if let t = sold(mid), t > s { hi = mid } else { lo = mid }
            }
            return hi
        }
        func worth(_ x: UInt256) -> Int256 { sold(x).map { value(x, $0) } ?? Int256.min }
        var best = first(x), top = worth(best)
        // Uphill first, then every step within `window` of there each way: the steps' roundings
        // make neighbours differ by a few units either way, so the first that pays less is no
        // sign that none further does.
        for _ in 0..<64 {
            guard let n = next(best), case let v = worth(n), v > top else { break }
            (best, top) = (n, v)
        }
        for _ in 0..<64 {
            guard best > .one, case let p = first(best - 1), case let v = worth(p), v > top else { break }
            (best, top) = (p, v)
        }
        let center = best
        var at = center
        for _ in 0..<window {
            guard let n = next(at) else { break }
            at = n
            if case let v = worth(n), v > top { (best, top) = (n, v) }
        }
        at = center
        for _ in 0..<window {
            guard at > .one else { break }
            at = first(at - 1)
            if case let v = worth(at), v > top { (best, top) = (at, v) }
        }
        return best
    }

    /// Steps searched each way around the climb's top (`firstOfBestStep`).
    static let window = 128

    /// ⌊amount / 10^down⌋ · 10^up (saturating).
    static func scaled(_ amount: UInt256, _ scale: (down: Int, up: Int)) -> UInt256 {
        func ten(_ n: Int) -> UInt256 { (0..<min(max(n, 0), 77)).reduce(UInt256.one) { x, _ in x &* 10 } }
        let kept = scale.down > 0 ? amount / ten(scale.down) : amount
        guard scale.up > 0 else { return kept }
        let (up, overflow) = kept.multipliedReportingOverflow(by: ten(scale.up))
        return overflow ? .max : up
    }

    /// One leg's cost in native raw units and in quote units, converted at the chain's deepest
    /// native/quote pool.
    private func gasInQuote(_ s: ChainState, _ chain: UInt64, _ quote: Key) -> (native: UInt256, quote: UInt256)? {
        let cost = s.legCost
        if cost.isZero { return (cost, .zero) }
        guard let native = configuration.wrappedNative[chain] else { return nil }
        if native == quote { return (cost, cost) }
        // Quote units per native unit at the deepest pool between them (depth: its native reserve).
        var best: (depth: Double, price: (UInt256, UInt256))? = nil
        for (i, _) in pools(s, native, quote) {
            let l = s.listings[i]
            guard let price = l.pool.rawPrice() else { continue }
            let depth = l.pool.local(zeroForOne: l.token0 == native).reserveIn
            // rawPrice is token1 per token0: the quote per native is that or its inverse.
            let perNative = l.token0 == native ? price : (price.denominator, price.numerator)
            if best == nil || depth > best!.depth { best = (depth, perNative) }
        }
        guard let b = best, b.price.0 > .zero, b.price.1 > .zero, let q = UInt256.mulDivRoundingUp(cost, b.price.0, b.price.1) else { return nil }
        return (cost, q)
    }
}

func pow10(_ n: UInt8) -> Double {
    var x = 1.0
    for _ in 0..<n { x *= 10 }
    return x
}
