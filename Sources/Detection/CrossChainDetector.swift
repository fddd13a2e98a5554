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
/// integer maximum of gross output − input − risk: from the local models' optimum, bracketed and
/// searched on the concave exact profit (`Optimizer.maximize`); a pair of pools unchanged since it was last sized is not sized again. Prices older than `maxPriceAge` are not traded on (the
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
        /// Evaluations whose pools had not changed since they were last sized (not sized again).
        public var reused = 0
        public init() {}
    }

    struct ChainState: Sendable {
        var book: PoolBook
        var refs: [PoolRef?]
        var gasPrice: UInt256
        var block: UInt64
        var at: UInt64
    }

    /// A route's buy and sell pools, and what they were last sized at.
    struct SizingKey: Hashable {
        var route: Int
        var buy: Address
        var sell: Address
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
    private var lastPublished: [[Address]: (net: Int256, at: UInt64)] = [:]

    public init(configuration: Configuration) { self.configuration = configuration }

    /// The chain's state as of `at` (ns since the epoch).
    public mutating func update(chain: UInt64, book: PoolBook, refs: [PoolRef?], gasPrice: UInt256, block: UInt64, at: UInt64) {
        chains[chain] = ChainState(book: book, refs: refs, gasPrice: gasPrice, block: block, at: at)
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

    private mutating func evaluate(_ id: Int, _ route: Route, _ a: ChainState, _ buy: (Int, Bool), _ b: ChainState, _ sell: (Int, Bool), now: UInt64,
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
        let keep = (1 - Double(route.feePips) / 1e6) * (1 - Double(riskPips) / 1e6)
        let rate = ra.gamma * ra.reserveOut / ra.reserveIn * rb.gamma * rb.reserveOut / rb.reserveIn * keep
        guard rate > 1 + Double(configuration.minNetProfitBps) / 10_000 else {
            counters.unprofitable += 1
            return
        }
        // The pools as they were sized last: the same pools in the same state size the same.
        let key = SizingKey(route: id, buy: a.refs[buy.0]!.address, sell: b.refs[sell.0]!.address)
        let sizing: Sizing?
        if let last = sized[key], last.buy == poolA, last.sell == poolB {
            sizing = last.sizing
            counters.reused += 1
        } else {
            // From the local models' optimum (two constant-product maps and the bridge's rate
            // composed into one, x·A/(B + C·x), whose profit peaks at (√(A·B/(1+risk)) − B)/C):
            // bracketed, then searched on the exact trade.
            let a1 = ra.gamma * ra.reserveOut * (1 - Double(route.feePips) / 1e6), a2 = rb.gamma * rb.reserveOut
            let A = a1 * a2, B = ra.reserveIn * rb.reserveIn, C = rb.reserveIn * ra.gamma + rb.gamma * a1
            let guess = ((A * B / (1 + Double(riskPips) / 1e6)).squareRoot() - B) / C
            let cap = Optimizer.integer(depth, cap: UInt256.one << 200)
            let found = Optimizer.maximize(from: Optimizer.integer(guess.isFinite ? max(guess, 1) : 1, cap: cap), cap: cap) { objective($0) ?? Int256.min }
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
        let hops = [
            Opportunity.Hop(chainID: route.fromChain, pool: key.buy, tokenIn: route.quote.from, tokenOut: route.asset.from,
                            venue: a.refs[buy.0]!.venue, amountOut: bought),
            Opportunity.Hop(chainID: route.toChain, pool: key.sell, tokenIn: route.asset.to, tokenOut: route.quote.to,
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
