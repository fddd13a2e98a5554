import AMMMath
import EVMPrimitives
import MarketState
import Opportunities

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
/// integer math and the bridge's proportional fee rounded down. From it come the bridge's fixed
/// fee, gas on both chains (each converted into the quote token at that chain's deepest
/// native/quote pool, rounded up) and a latency-risk charge of `riskPipsPerSqrtSecond ·
/// √latency` of the input (the price may move while the asset is in flight). The input is the
/// integer maximum of gross output − input − risk, found by ternary search on the concave
/// profit and a final scan of neighbours. Prices older than `maxPriceAge` are not traded on (the
/// original system's hard 30 s limit).
public struct CrossChainDetector: Sendable {
    /// A bridge route for one asset, with the quote token it is bought and sold against.
    public struct Route: Sendable {
        public var fromChain: UInt64
        public var toChain: UInt64
        /// The bridged asset on each chain.
        public var asset: (from: Address, to: Address)
        /// The quote token on each chain (the same money: USDC and USDC).
        public var quote: (from: Address, to: Address)
        public var quoteDecimals: UInt8
        /// Dollars per whole quote token (1 for a stablecoin).
        public var quoteUSD: Double
        /// Proportional bridge fee in pips (1e-6) of the amount bridged.
        public var feePips: UInt32
        /// Fixed bridge cost (relayer gas, messaging) in micro-dollars.
        public var fixedFeeMicroUSD: Int64
        public var latencySeconds: Int

        public init(fromChain: UInt64, toChain: UInt64, asset: (from: Address, to: Address), quote: (from: Address, to: Address),
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
    }

    public struct Configuration: Sendable {
        public var routes: [Route]
        /// Wrapped native token of each chain (gas is converted through it).
        public var wrappedNative: [UInt64: Address]
        public var minNetProfitBps = 20
        public var maxPriceAgeNanoseconds: UInt64 = 30_000_000_000
        /// Latency risk: this many pips of the input per √second in flight.
        public var riskPipsPerSqrtSecond = 200
        /// Gas of each leg (a swap from the executor's balance).
        public var gasPerLeg: UInt64 = 150_000
        public var ttlNanoseconds: UInt64 = 30_000_000_000
        public var dedupWindowNanoseconds: UInt64 = 30_000_000_000
        public var republishBps = 1_000

        public init(routes: [Route], wrappedNative: [UInt64: Address]) {
            self.routes = routes
            self.wrappedNative = wrappedNative
        }
    }

    public struct Counters: Equatable, Sendable {
        public var evaluated = 0
        public var stale = 0
        public var unprofitable = 0
        public var belowMinimum = 0
        public var duplicates = 0
        public var published = 0
        public init() {}
    }

    struct ChainState: Sendable {
        var book: PoolBook
        var refs: [PoolRef?]
        var gasPrice: UInt256
        var block: UInt64
        var at: UInt64
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var chains: [UInt64: ChainState] = [:]
    private var lastPublished: [[Address]: (net: Int256, at: UInt64)] = [:]

    public init(configuration: Configuration) { self.configuration = configuration }

    /// The chain's state as of `at` (ns since the epoch).
    public mutating func update(chain: UInt64, book: PoolBook, refs: [PoolRef?], gasPrice: UInt256, block: UInt64, at: UInt64) {
        chains[chain] = ChainState(book: book, refs: refs, gasPrice: gasPrice, block: block, at: at)
    }

    /// Evaluates every route touching `chain`, appending what passes to `out`.
    public mutating func process(changed chain: UInt64, now: UInt64, into out: inout [Opportunity]) {
        for route in configuration.routes where route.fromChain == chain || route.toChain == chain {
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
                evaluate(route, a, buy, b, sell, now: now, into: &out)
            }
        }
    }

    /// Live pools of `state` trading `tokenIn` for `tokenOut`: (index, zeroForOne).
    private func pools(_ state: ChainState, _ tokenIn: Address, _ tokenOut: Address) -> [(Int, Bool)] {
        state.refs.indices.compactMap { i in
            guard let r = state.refs[i], i < state.book.count, !state.book.stale.contains(i) else { return nil }
            if r.token0 == tokenIn && r.token1 == tokenOut { return (i, true) }
            if r.token1 == tokenIn && r.token0 == tokenOut { return (i, false) }
            return nil
        }
    }

    /// Of `candidates`, the pool holding the most of its output token at its current price (its
    /// local depth: virtual reserves for a concentrated-liquidity pool).
    private func deepest(_ state: ChainState, _ candidates: [(Int, Bool)]) -> (Int, Bool)? {
        candidates.max { state.book.pools[$0.0].local(zeroForOne: $0.1).reserveOut < state.book.pools[$1.0].local(zeroForOne: $1.1).reserveOut }
    }

    private mutating func evaluate(_ route: Route, _ a: ChainState, _ buy: (Int, Bool), _ b: ChainState, _ sell: (Int, Bool), now: UInt64,
                                   into out: inout [Opportunity]) {
        counters.evaluated += 1
        let poolA = a.book.pools[buy.0], poolB = b.book.pools[sell.0]
        let riskPips = UInt64((Double(configuration.riskPipsPerSqrtSecond) * Double(route.latencySeconds).squareRoot()).rounded(.up))
        let fee = UInt256(UInt64(route.feePips))
        /// (bought, bridged, sold) for `x`, or nil when a pool cannot take it.
        func trade(_ x: UInt256) -> (UInt256, UInt256, UInt256)? {
            guard let bought = try? poolA.amountOut(x, zeroForOne: buy.1) else { return nil }
            // The bridge keeps its fee rounded down (as Across and Stargate compute it): bought − ⌊bought·fee/1e6⌋.
            let bridged = bought - (UInt256.mulDiv(bought, fee, 1_000_000) ?? bought)
            guard !bridged.isZero, let sold = try? poolB.amountOut(bridged, zeroForOne: sell.1) else { return nil }
            return (bought, bridged, sold)
        }
        func objective(_ x: UInt256) -> Int256? {
            guard let (_, _, sold) = trade(x) else { return nil }
            let risk = UInt256.mulDivRoundingUp(x, UInt256(riskPips), 1_000_000) ?? .max
            return Int256(bitPattern: sold) &- Int256(bitPattern: x) &- Int256(bitPattern: risk)
        }
        // The most the buy pool can sensibly take: its input-side depth.
        let depth = poolA.local(zeroForOne: buy.1).reserveIn
        guard depth >= 2 else { return }
        // Screen: the marginal rate of the whole trade at zero must beat 1 + the minimum margin.
        let ra = poolA.local(zeroForOne: buy.1), rb = poolB.local(zeroForOne: sell.1)
        let rate = ra.gamma * ra.reserveOut / ra.reserveIn * rb.gamma * rb.reserveOut / rb.reserveIn
            * (1 - Double(route.feePips) / 1e6) * (1 - Double(riskPips) / 1e6)
        guard rate > 1 + Double(configuration.minNetProfitBps) / 10_000 else {
            counters.unprofitable += 1
            return
        }
        var lo = UInt256.one, hi = Optimizer.integer(depth, cap: UInt256.one << 200)
        while hi - lo > 64 {
            let third = (hi - lo) / 3
            let m1 = lo + third, m2 = hi - third
            let f1 = objective(m1), f2 = objective(m2)
            if f2 == nil || (f1 != nil && f1! >= f2!) { hi = m2 } else { lo = m1 }
        }
        var best = lo, bestValue = objective(lo) ?? Int256(-1)
        var x = lo
        while x <= hi + 64 {
            if let v = objective(x), v > bestValue { (best, bestValue) = (x, v) }
            x = x + 1
        }
        guard bestValue > .zero, let (bought, _, sold) = trade(best) else {
            counters.unprofitable += 1
            return
        }
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
        let key = [a.refs[buy.0]!.address, b.refs[sell.0]!.address]
        if let last = lastPublished[key], now >= last.at, now - last.at < configuration.dedupWindowNanoseconds,
           abs(net.doubleValue - last.net.doubleValue) <= abs(last.net.doubleValue) * Double(configuration.republishBps) / 10_000 {
            counters.duplicates += 1
            return
        }
        lastPublished[key] = (net, now)
        counters.published += 1
        let hops = [
            Opportunity.Hop(chainID: route.fromChain, pool: key[0], tokenIn: route.quote.from, tokenOut: route.asset.from,
                            venue: a.refs[buy.0]!.venue, amountOut: bought),
            Opportunity.Hop(chainID: route.toChain, pool: key[1], tokenIn: route.asset.to, tokenOut: route.quote.to,
                            venue: b.refs[sell.0]!.venue, amountOut: sold),
        ]
        let usdPerRaw = route.quoteUSD / pow10(route.quoteDecimals)
        let block = max(a.block, b.block)
        out.append(Opportunity(
            id: Opportunity.makeID(kind: .crossChain, blockNumber: block, path: hops, amountIn: best), kind: .crossChain,
            chains: [route.fromChain, route.toChain], path: hops, amountIn: best, grossProfit: gross, netProfit: net,
            grossProfitMicroUSD: microUSD(gross.doubleValue, usdPerRaw), netProfitMicroUSD: microUSD(net.doubleValue, usdPerRaw),
            gasUnits: 2 * configuration.gasPerLeg, gasCostWei: gasA.wei &+ gasB.wei, flashSource: .none, blockNumber: block,
            timestamps: .init(eventReceived: min(a.at, b.at), stateApplied: max(a.at, b.at), detected: now),
            expiresAt: now &+ configuration.ttlNanoseconds,
            // The trade is exposed for the bridge's latency: trust falls with it.
            confidence: max(0.3, 0.9 - 0.002 * Double(route.latencySeconds))))
    }

    /// One leg's gas in wei and in quote units, converted at the chain's deepest native/quote pool.
    private func gasInQuote(_ s: ChainState, _ chain: UInt64, _ quote: Address) -> (wei: UInt256, quote: UInt256)? {
        let wei = s.gasPrice &* UInt256(configuration.gasPerLeg)
        if wei.isZero { return (wei, .zero) }
        guard let native = configuration.wrappedNative[chain] else { return nil }
        if native == quote { return (wei, wei) }
        guard let price = deepestPrice(of: native, pools: pools(s, native, quote).map(\.0), book: s.book, refs: s.refs),
              let q = UInt256.mulDivRoundingUp(wei, price.numerator, price.denominator) else { return nil }
        return (wei, q)
    }
}

func pow10(_ n: UInt8) -> Double {
    var x = 1.0
    for _ in 0..<n { x *= 10 }
    return x
}
