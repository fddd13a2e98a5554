import AMMMath
import EVMPrimitives
import MarketState
import Opportunities

/// One chain's cross-DEX, triangular and multi-leg detector. Synchronous and deterministic: it
/// takes the pools that changed, the `PoolBook` they changed in, and the time, and returns
/// opportunities; nothing here does I/O or reads a clock.
///
/// For each cycle through a changed pool (from the `CycleIndex`):
/// 1. screen: the product of the hops' marginal rates (cached per pool, refreshed when the pool
///    changes) must beat 1 + flash fee + the minimum margin. Profit per unit input never exceeds
///    that product − 1, so nothing that could pass is screened out. For all-V2 cycles the margin
///    at the optimum is exactly √product − 1 (the composed map is hyperbolic), a tighter screen;
/// 2. size with `Optimizer.optimize` (the exact integer optimum, after the flash fee), capped by
///    the asset's maximum loan;
/// 3. cost: gas (`gasUnits` for the hop count at the current gas price, converted into the asset
///    at the price of its deepest pool with the wrapped native token, rounded against us) and the
///    flash fee;
/// 4. filter: net ≥ the chain's minimum (a share of the input, and optionally dollars), gross
///    under the plausibility cap (a larger "profit" is almost always broken state), every pool
///    at least `minPoolLiquidityUSD` deep where its tokens are priced;
/// 5. deduplicate: a cycle published within `dedupWindow` is not published again unless its net
///    profit moved by more than `republishBps`, and never twice for one block and input.
public struct CycleDetector: Sendable {
    /// A token a cycle may start and end in: what a flash loan can lend.
    public struct Asset: Sendable {
        public var address: Address
        public var decimals: UInt8
        /// For dollar figures and liquidity checks; nil when unknown (no dollar figures).
        public var usdPerToken: Double?
        public var flashSource: Opportunity.FlashSource
        public var flashFee: FlashFee
        /// The largest amount the source lends (or the capital at hand); nil: no cap.
        public var maxIn: UInt256?

        public init(address: Address, decimals: UInt8, usdPerToken: Double? = nil, flashSource: Opportunity.FlashSource = .none,
                    flashFee: FlashFee = .none, maxIn: UInt256? = nil) {
            self.address = address
            self.decimals = decimals
            self.usdPerToken = usdPerToken
            self.flashSource = flashSource
            self.flashFee = flashFee
            self.maxIn = maxIn
        }
    }

    public struct Configuration: Sendable {
        public var chainID: UInt64
        /// The chain's wrapped native token: gas is paid in its unwrapped form.
        public var wrappedNative: Address
        /// Start assets in order of preference.
        public var assets: [Asset]
        /// Minimum net profit as a share of the input, in basis points (`defaultMinNetProfitBps`).
        public var minNetProfitBps: Int
        /// Minimum net profit in micro-dollars, for assets with a dollar price.
        public var minNetProfitMicroUSD: Int64 = 0
        /// A gross profit above this share of the input is taken for broken state and refused.
        public var maxProfitBps = 2_000
        /// Pools shallower than this (both sides, where priced) are not traded through: their
        /// prices are easy to push and their "gaps" rarely survive a real trade.
        public var minPoolLiquidityUSD: Double = 10_000
        /// Gas of a flash-loan arbitrage: `gasBase + gasPerHop · hops`.
        public var gasBase: UInt64 = 120_000
        public var gasPerHop: UInt64 = 100_000
        /// Effective gas price (base fee + tip) until `gasPrice` is set from the chain.
        public var gasPrice: UInt256 = 1_000_000_000
        /// How long a published opportunity stays executable.
        public var ttlNanoseconds: UInt64 = 60_000_000_000
        public var dedupWindowNanoseconds: UInt64 = 5_000_000_000
        public var republishBps = 1_000
        /// Cycles sized per changed pool, widest gaps first; the rest are counted as deferred.
        public var maxSizedPerUpdate = 8
        public var index = CycleIndex.Options()

        public init(chainID: UInt64, wrappedNative: Address, assets: [Asset], minNetProfitBps: Int) {
            self.chainID = chainID
            self.wrappedNative = wrappedNative
            self.assets = assets
            self.minNetProfitBps = minNetProfitBps
        }

        /// The original system's minimum net profit per chain (§4): Ethereum 0.5%, BSC 0.3%,
        /// Solana 0.1%, every other chain 0.2%.
        public static func defaultMinNetProfitBps(chain: String) -> Int {
            switch chain {
            case "ethereum": 50
            case "bsc": 30
            case "solana": 10
            default: 20
            }
        }
    }

    /// What happened to the cycles looked at; each refusal has its own count.
    public struct Counters: Equatable, Sendable {
        public var updates = 0
        public var cyclesEvaluated = 0
        public var screenedOut = 0
        /// Passed the screen but not sized: beyond `maxSizedPerUpdate` for that update.
        public var deferred = 0
        public var unprofitable = 0
        public var belowMinimum = 0
        public var implausible = 0
        public var illiquid = 0
        public var duplicates = 0
        public var published = 0
        public init() {}
    }

    public private(set) var configuration: Configuration
    public private(set) var index: CycleIndex
    public private(set) var counters = Counters()
    /// The current effective gas price in wei.
    public var gasPrice: UInt256

    private var refs: [PoolRef?]
    /// Marginal rate of each pool in each direction (0 when stale or unknown).
    private var rates: [(zeroForOne: Double, oneForZero: Double)]
    private var assetIndex: [Address: Int]
    /// Per start asset: the marginal-rate product a cycle must beat (1 + flash fee + minimum).
    private var screens: [Double]
    private var usdPerRaw: [Address: Double]
    /// The wrapped native token has no configured dollar price: it is taken from its deepest
    /// pool with a priced asset.
    private let derivesNativeUSD: Bool
    /// Pools pairing each asset with the wrapped native token, for converting gas.
    private var nativePools: [Address: [Int]]
    private var lastPublished: [Int32: (block: UInt64, amountIn: UInt256, net: Int256, at: UInt64)] = [:]
    /// Cycles already evaluated in this call (stamp = call number), without allocating a set.
    private var stamps: [UInt32]
    private var stamp: UInt32 = 0
    /// Cycles that passed the screen in this call, with their marginal-rate product.
    private var candidates: [(product: Double, cycle: Int32)] = []

    public init(configuration: Configuration, pools: [PoolRef?]) {
        self.configuration = configuration
        gasPrice = configuration.gasPrice
        refs = []
        rates = []
        assetIndex = Dictionary(configuration.assets.enumerated().map { ($1.address, $0) }, uniquingKeysWith: { a, _ in a })
        usdPerRaw = [:]
        for a in configuration.assets {
            if let usd = a.usdPerToken { usdPerRaw[a.address] = usd / pow10(a.decimals) }
        }
        derivesNativeUSD = usdPerRaw[configuration.wrappedNative] == nil
        screens = configuration.assets.map { 1 + $0.flashFee.rate + Double(configuration.minNetProfitBps) / 10_000 }
        nativePools = [:]
        index = CycleIndex(pools: [], startAssets: [], options: configuration.index)
        stamps = []
        setPools(pools)
    }

    /// Replaces the pool list (after pools were added) and rebuilds the cycle index. Rates are
    /// unknown until the next `process` or `refresh`.
    public mutating func setPools(_ pools: [PoolRef?]) {
        refs = pools
        rates = Array(repeating: (0, 0), count: pools.count)
        index = CycleIndex(pools: pools, startAssets: configuration.assets.map(\.address), options: configuration.index)
        stamps = Array(repeating: 0, count: index.cycles.count)
        nativePools = [:]
        let native = configuration.wrappedNative
        for (i, ref) in pools.enumerated() {
            guard let ref else { continue }
            if ref.token0 == native, assetIndex[ref.token1] != nil { nativePools[ref.token1, default: []].append(i) }
            if ref.token1 == native, assetIndex[ref.token0] != nil { nativePools[ref.token0, default: []].append(i) }
        }
        lastPublished = [:]
    }

    /// Sets a token's dollar price (for figures and liquidity checks only).
    public mutating func setUSDPrice(_ usdPerToken: Double, of token: Address, decimals: UInt8) {
        usdPerRaw[token] = usdPerToken / pow10(decimals)
    }

    /// Re-reads every pool's marginal rate from `book` (after a resync or a new pool list).
    public mutating func refresh(_ book: PoolBook) {
        for i in refs.indices { updateRate(i, book) }
    }

    /// Evaluates the cycles through the pools in `changed` on `book`'s state (one block), appending
    /// what passes to `out`. `now`: nanoseconds since the epoch, from the caller's clock.
    @inlinable
    public mutating func process(changed: some Sequence<Int>, book: PoolBook, block: UInt64, timestamps: Opportunity.Timestamps,
                                 now: UInt64, into out: inout [Opportunity]) {
        // Inlinable so the sequence is specialised at the call site (no generic metadata per event).
        beginPass(book)
        for p in changed { touch(p, book) }
        afterTouch(book)
        var pass = Pass(taking: &self)
        for p in changed { evaluateCycles(through: p, pass: &pass, book: book, block: block, timestamps: timestamps, now: now, into: &out) }
        pass.putBack(into: &self)
    }

    /// What screening reads for one `process`, bound once instead of once per changed pool: the
    /// index's flat arrays, the rates and screens, and (moved out of `self`, so that writing them
    /// checks no uniqueness through `self`) the stamps and the candidates.
    @usableFromInline
    struct Pass {
        let screenStart: [Int32], screenRecords: [Int32]
        let rates: [(zeroForOne: Double, oneForZero: Double)], screens: [Double]
        var stamps: [UInt32]
        var candidates: [(product: Double, cycle: Int32)]
        let stamp: UInt32

        @usableFromInline
        init(taking d: inout CycleDetector) {
            (screenStart, screenRecords, rates, screens, stamp) = (d.index.screenStart, d.index.screenRecords, d.rates, d.screens, d.stamp)
            stamps = d.stamps
            candidates = d.candidates
            // What screening reads unchecked stays within these (the index's records name its own
            // cycles and the pools it was built from).
            precondition(stamps.count == d.index.cycles.count && rates.count == d.refs.count)
            d.stamps = []
            d.candidates = []
        }

        @usableFromInline
        func putBack(into d: inout CycleDetector) {
            d.stamps = stamps
            d.candidates = candidates
        }
    }

    @usableFromInline
    mutating func beginPass(_ book: PoolBook) {
        stamp &+= 1
        if stamp == 0 {
            for i in stamps.indices { stamps[i] = 0 }
            stamp = 1
        }
    }

    @usableFromInline
    mutating func touch(_ p: Int, _ book: PoolBook) {
        guard p >= 0, p < refs.count else { return }
        counters.updates += 1
        updateRate(p, book)
    }

    @usableFromInline
    mutating func afterTouch(_ book: PoolBook) {
        if derivesNativeUSD { deriveNativeUSD(book) }
    }

    @usableFromInline
    mutating func evaluateCycles(through p: Int, pass: inout Pass, book: PoolBook, block: UInt64, timestamps: Opportunity.Timestamps, now: UInt64,
                                 into out: inout [Opportunity]) {
        guard p >= 0, p < refs.count else { return }
        // Screen every cycle through the pool (arrays bound once per pass, no reference counting per cycle).
        pass.candidates.removeAll(keepingCapacity: true)
        var screened = 0
        // The pool's cycle records, in one sweep (`CycleIndex.screenRecords`). Read unchecked: the
        // index was built from these pools, so every record lies within its pool's range (checked
        // once here) and names a cycle and pools within `stamps` and `rates` (checked at `Pass`).
        let range = Int(pass.screenStart[p])..<Int(pass.screenStart[p + 1])
        precondition(range.upperBound <= pass.screenRecords.count)
        pass.screenRecords.withUnsafeBufferPointer { records in
            pass.rates.withUnsafeBufferPointer { rates in
                var k = range.lowerBound
                while k < range.upperBound {
                    let c = Int(records[k]), hops = Int(records[k + 1]), asset = Int(records[k + 2])
                    let first = k + 3
                    k = first + hops
                    guard pass.stamps[c] != pass.stamp else { continue }
                    pass.stamps[c] = pass.stamp
                    var product = 1.0
                    for h in first..<k {
                        let hop = Int(records[h])
                        let r = rates[hop >> 1]
                        product *= hop & 1 != 0 ? r.zeroForOne : r.oneForZero
                    }
                    if product > pass.screens[asset] { pass.candidates.append((product, Int32(c))) } else { screened += 1 }
                }
            }
        }
        counters.cyclesEvaluated += screened + pass.candidates.count
        counters.screenedOut += screened
        guard !pass.candidates.isEmpty else { return }
        // Size the widest gaps first, at most `maxSizedPerUpdate`: they are alternatives on the same
        // move, and the work per event stays bounded.
        if pass.candidates.count > configuration.maxSizedPerUpdate {
            pass.candidates.sort { $0.product > $1.product || ($0.product == $1.product && $0.cycle < $1.cycle) }
            counters.deferred += pass.candidates.count - configuration.maxSizedPerUpdate
            pass.candidates.removeLast(pass.candidates.count - configuration.maxSizedPerUpdate)
        }
        for (product, c) in pass.candidates {
            evaluate(c, product: product, book: book, block: block, timestamps: timestamps, now: now, into: &out)
        }
    }

    private mutating func updateRate(_ p: Int, _ book: PoolBook) {
        guard p < book.count, refs[p] != nil, book.stale.isEmpty || !book.stale.contains(p) else {
            rates[p] = (0, 0)
            return
        }
        rates[p] = book.pools.marginalRates(p)
    }

    private mutating func evaluate(_ c: Int32, product: Double, book: PoolBook, block: UInt64, timestamps: Opportunity.Timestamps,
                                   now: UInt64, into out: inout [Opportunity]) {
        let ai = Int(index.startAsset[Int(c)])
        let asset = configuration.assets[ai]
        let cycle = index.cycles[Int(c)]
        // For constant-product hops the composed map is x ↦ A·x / (B + C·x), whose profit per unit
        // at the optimum is exactly √(A/B) − 1 = √product − 1: a tighter screen, before sizing.
        if cycle.pools.allSatisfy({ if case .uniswapV2 = book.pools[Int($0)] { true } else { false } }),
           product.squareRoot() <= screens[ai] {
            counters.screenedOut += 1
            return
        }
        let path = Path((0..<cycle.hops).map { Path.Hop(pool: book.pools[Int(cycle.pools[$0])], zeroForOne: cycle.zeroForOne[$0]) })
        guard let sizing = Optimizer.optimize(path, maxIn: asset.maxIn, flashFee: asset.flashFee) else {
            counters.unprofitable += 1
            return
        }
        let gasUnits = configuration.gasBase + configuration.gasPerHop * UInt64(cycle.hops)
        guard let perNative = assetPerNative(asset.address, book),
              let profit = NetProfit(amountIn: sizing.amountIn, amountOut: sizing.amountOut,
                                     costs: .init(gasUnits: gasUnits, gasPrice: gasPrice, flashFee: asset.flashFee, assetPerNative: perNative)),
              profit.net > .zero
        else {
            counters.unprofitable += 1
            return
        }
        let minimum = UInt256.mulDiv(sizing.amountIn, UInt256(UInt64(configuration.minNetProfitBps)), 10_000) ?? .max
        let usd = usdPerRaw[asset.address]
        let netMicroUSD = usd.map { microUSD(profit.net.doubleValue, $0) } ?? 0
        guard profit.net.magnitude >= minimum, usd == nil || netMicroUSD >= configuration.minNetProfitMicroUSD else {
            counters.belowMinimum += 1
            return
        }
        let cap = UInt256.mulDiv(sizing.amountIn, UInt256(UInt64(configuration.maxProfitBps)), 10_000) ?? .max
        guard profit.gross <= cap else {
            counters.implausible += 1
            return
        }
        guard liquid(cycle, book) else {
            counters.illiquid += 1
            return
        }
        if let last = lastPublished[c] {
            let sameTrade = last.block == block && last.amountIn == sizing.amountIn
            let recent = now >= last.at && now - last.at < configuration.dedupWindowNanoseconds
            if sameTrade || (recent && !moved(last.net, profit.net)) {
                counters.duplicates += 1
                return
            }
        }
        lastPublished[c] = (block, sizing.amountIn, profit.net, now)
        counters.published += 1
        out.append(opportunity(cycle, sizing: sizing, profit: profit, gasUnits: gasUnits, asset: asset, usd: usd,
                               block: block, timestamps: timestamps, now: now))
    }

    private func opportunity(_ cycle: CycleIndex.Cycle, sizing: Optimizer.Sizing, profit: NetProfit, gasUnits: UInt64, asset: Asset,
                             usd: Double?, block: UInt64, timestamps: Opportunity.Timestamps, now: UInt64) -> Opportunity {
        let chain = configuration.chainID
        let hops = (0..<cycle.hops).map { k in
            let ref = refs[Int(cycle.pools[k])]!
            return Opportunity.Hop(chainID: chain, pool: ref.address, tokenIn: cycle.tokens[k], tokenOut: cycle.tokens[k + 1],
                                   venue: ref.venue, amountOut: sizing.amounts[k + 1])
        }
        let kind: Opportunity.Kind = switch cycle.hops {
        case 2: .crossDex
        case 3: .triangular
        default: .multiLeg
        }
        var stamps = timestamps
        stamps.detected = now
        let gross = Int256(bitPattern: profit.gross)
        return Opportunity(
            id: Opportunity.makeID(kind: kind, blockNumber: block, path: hops, amountIn: sizing.amountIn),
            kind: kind, chains: [chain], path: hops, amountIn: sizing.amountIn, grossProfit: gross, netProfit: profit.net,
            grossProfitMicroUSD: usd.map { microUSD(gross.doubleValue, $0) } ?? 0,
            netProfitMicroUSD: usd.map { microUSD(profit.net.doubleValue, $0) } ?? 0,
            gasUnits: gasUnits, gasCostWei: gasPrice &* UInt256(gasUnits), flashSource: asset.flashSource, blockNumber: block,
            timestamps: stamps, expiresAt: now &+ configuration.ttlNanoseconds,
            // Longer paths and thinner margins are likelier to be gone by execution.
            confidence: Self.confidence(hops: cycle.hops))
    }

    static func confidence(hops: Int) -> Double { max(0.5, 1 - 0.05 * Double(hops - 2)) }

    private func moved(_ old: Int256, _ new: Int256) -> Bool {
        let a = old.doubleValue, b = new.doubleValue
        return abs(b - a) > abs(a) * Double(configuration.republishBps) / 10_000
    }

    private func liquid(_ cycle: CycleIndex.Cycle, _ book: PoolBook) -> Bool {
        guard configuration.minPoolLiquidityUSD > 0 else { return true }
        for k in 0..<cycle.hops {
            let p = Int(cycle.pools[k])
            guard let ref = refs[p] else { return false }
            let pool = book.pools[p]
            // Depth on each side, valued where the token has a price (one priced side: twice it).
            let (r0, r1, _) = pool.local(zeroForOne: true)
            let sides = [usdPerRaw[ref.token0].map { r0 * $0 }, usdPerRaw[ref.token1].map { r1 * $0 }].compactMap { $0 }
            guard !sides.isEmpty else { continue }
            let depth = sides.count == 2 ? sides[0] + sides[1] : 2 * sides[0]
            if depth < configuration.minPoolLiquidityUSD { return false }
        }
        return true
    }

    private mutating func deriveNativeUSD(_ book: PoolBook) {
        for a in configuration.assets where a.address != configuration.wrappedNative {
            guard let usd = usdPerRaw[a.address], let perNative = assetPerNative(a.address, book, free: false) else { continue }
            usdPerRaw[configuration.wrappedNative] = usd * perNative.numerator.doubleValue / perNative.denominator.doubleValue
            return
        }
    }

    /// Asset units per native wei, from the deepest pool pairing the asset with the wrapped native
    /// token (1/1 for the wrapped native token itself); nil when there is none.
    private func assetPerNative(_ asset: Address, _ book: PoolBook, free: Bool = true) -> (numerator: UInt256, denominator: UInt256)? {
        if asset == configuration.wrappedNative { return (.one, .one) }
        // With free gas (a test, a chain that refunds it) the price does not matter.
        if free, gasPrice.isZero { return (.one, .one) }
        return deepestPrice(of: configuration.wrappedNative, pools: (nativePools[asset] ?? []).lazy.filter { !book.stale.contains($0) },
                            book: book, refs: refs)
    }
}

/// Units of the other token per unit of `native`, as an exact fraction, at the deepest of `pools`
/// (each pairs `native` with that token); nil when none has a price. Gas is converted at it.
func deepestPrice(of native: Address, pools: some Sequence<Int>, book: PoolBook, refs: [PoolRef?]) -> (numerator: UInt256, denominator: UInt256)? {
    var best: (depth: Double, price: (UInt256, UInt256))? = nil
    for p in pools where p < book.count {
        guard let ref = refs[p], let price = book.pools[p].rawPrice() else { continue }
        // All candidates share token0, so its reserve compares their depth.
        let depth = book.pools[p].local(zeroForOne: true).reserveIn
        // rawPrice is token1 per token0: the other token per native is that or its inverse.
        let perNative = ref.token0 == native ? price : (price.denominator, price.numerator)
        if best == nil || depth > best!.depth { best = (depth, perNative) }
    }
    guard let b = best, b.price.0 > .zero, b.price.1 > .zero else { return nil }
    return b.price
}

/// Dollars of `raw` units at `usdPerRaw`, in micro-dollars, clamped to Int64 (display and ranking).
func microUSD(_ raw: Double, _ usdPerRaw: Double) -> Int64 {
    let v = raw * usdPerRaw * 1e6
    guard v.isFinite else { return 0 }
    return Int64(max(min(v, 9e18), -9e18))
}

extension Pool {
    /// token1 per token0 as an exact fraction of the pool's state (reserves, balances, or √P²);
    /// nil when empty.
    func rawPrice() -> (numerator: UInt256, denominator: UInt256)? {
        switch self {
        case .uniswapV2(let p): p.reserve0.isZero ? nil : (p.reserve1, p.reserve0)
        case .solidly(let p): p.reserve0.isZero ? nil : (p.reserve1, p.reserve0)
        case .curve(let p): p.balances.0.isZero ? nil : (p.balances.1, p.balances.0)
        case .uniswapV3(let p): UInt256.mulDiv(p.sqrtPriceX96, p.sqrtPriceX96, UInt256.one << 64).map { ($0, UInt256.one << 128) }
        case .raydiumAMM(let p): p.coinReserve == 0 ? nil : (UInt256(p.pcReserve), UInt256(p.coinReserve))
        case .whirlpool(let p): (WhirlpoolMath.wide(p.sqrtPrice, p.sqrtPrice), UInt256.one << 128)
        case .meteoraDLMM(let p, _): p.bin(p.activeID).map { (UInt256($0.price), UInt256.one << 64) }
        case .raydiumCLMM(let p): (WhirlpoolMath.wide(p.sqrtPrice, p.sqrtPrice), UInt256.one << 128)
        case .phoenix(let p):
            // The best bid's price (what selling base gets), else the best ask's.
            (p.best(buy: false) ?? p.best(buy: true)).map { o in
                let (n, d) = p.price(ticks: o.priceInTicks)
                return (UInt256(n), UInt256(d))
            }
        }
    }
}
