import AMMMath
import EVMPrimitives
import Opportunities

/// CEX–DEX spreads on one chain (design item #32): a pool whose price is away from the CEX mid by
/// more than its fee, the trade's gas and a threshold (default 0.3%) is traded toward the mid.
/// The DEX leg is sized at the exact optimum against the mid as the fair value
/// (`FairValueSizing`: the pool pushed to the CEX price, net of its fee), the gas is valued in
/// the input token through the CEX's price of the native token, and the hedge the leg implies
/// (selling on the exchange what the pool sold cheap, or the reverse) goes with the opportunity,
/// its confidence from the book's depth near the mid and the book's age.
public struct CexDexSpreadDetector: Sendable {
    public struct Configuration: Sendable {
        /// Deviation beyond the pool's fee and the trade's gas, in basis points.
        public var thresholdBps: Double = 30
        /// Gas of the one swap.
        public var gasUnits: UInt64 = 150_000
        /// A book older than this is not used (the feed also refuses stale books).
        public var maxAgeMillis: UInt64 = 10_000
        public var ttlNanoseconds: UInt64 = 12_000_000_000
        /// The largest input, as a fraction of the pool's input-side holdings (raw units of its reserve).
        public var maxInShare = 0.5
        public init() {}
    }

    public struct Counts: Equatable, Sendable {
        public var screened = 0
        /// Pools within fee + threshold of the mid.
        public var inside = 0
        public var unsized = 0
        /// Gas could not be valued in the input token (no CEX price for the native token in it).
        public var gasUnpriced = 0
        public var belowCosts = 0
        public var stale = 0
        public var found = 0
        public init() {}
    }

    /// A pool the detector may trade: its reference and its state.
    public struct Candidate: Sendable {
        public var ref: PoolRef
        public var pool: Pool
        public init(ref: PoolRef, pool: Pool) {
            self.ref = ref
            self.pool = pool
        }
    }

    public let configuration: Configuration
    public private(set) var counts = Counts()

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// The pool's fee in pips on the side it is traded.
    static func feePips(_ pool: Pool, zeroForOne: Bool) -> UInt32 {
        switch pool {
        case .uniswapV2(let p): zeroForOne ? p.fee0Pips : p.fee1Pips
        case .uniswapV3(let p): p.feePips
        case .curve, .solidly: 3000
        case .raydiumAMM(let p): UInt32(p.swapFeeNumerator * 1_000_000 / p.swapFeeDenominator)
        case .whirlpool(let p): UInt32(p.feeRate)
        case .meteoraDLMM(let p, _): UInt32(p.feeRate / 1_000)
        case .raydiumCLMM(let p): p.feeRate
        case .phoenix(let p): UInt32(p.takerFeeBps * 100)
        }
    }

    /// The opportunities on `chainID` at `block`: every candidate whose pair has a fresh reference.
    /// `wrappedNative` and the references price the gas (`gasPrice` wei per unit).
    public mutating func detect(chainID: UInt64, block: UInt64, candidates: [Candidate], references: [CexReference], wrappedNative: Address,
                                gasPrice: UInt256, now: UInt64, timestamps: Opportunity.Timestamps) -> [Opportunity] {
        var out: [Opportunity] = []
        for c in candidates {
            guard let r = references.first(where: { ($0.base == c.ref.token0 && $0.quote == c.ref.token1) || ($0.base == c.ref.token1 && $0.quote == c.ref.token0) }) else { continue }
            counts.screened += 1
            guard r.ageMillis <= configuration.maxAgeMillis else {
                counts.stale += 1
                continue
            }
            // token1 per token0 (raw), the pool's and the exchange's.
            let spot = c.pool.spotPrice
            let fair = r.matrixPrice
            guard spot > 0, fair > 0, spot.isFinite, fair.isFinite else { continue }
            // The pool gives more token1 per token0 than the exchange: sell token0 there (zeroForOne).
            let zeroForOne = spot > fair
            let deviationBps = abs(spot / fair - 1) * 10_000
            let feeBps = Double(Self.feePips(c.pool, zeroForOne: zeroForOne)) / 100
            guard deviationBps > feeBps + configuration.thresholdBps else {
                counts.inside += 1
                continue
            }
            let tokenIn = zeroForOne ? c.ref.token0 : c.ref.token1
            let tokenOut = zeroForOne ? c.ref.token1 : c.ref.token0
            // The output's value in input units: base bought → quote per base; quote bought → base per quote.
            let (num, den) = tokenOut == r.base ? (r.numerator, r.denominator) : (r.denominator, r.numerator)
            guard let sizing = FairValueSizing.optimize(c.pool, zeroForOne: zeroForOne, valueNumerator: num, valueDenominator: den,
                                                        maxIn: Self.maxIn(c.pool, zeroForOne: zeroForOne, share: configuration.maxInShare)) else {
                counts.unsized += 1
                continue
            }
            let gasWei = gasPrice &* UInt256(configuration.gasUnits)
            guard let gasIn = Self.value(wei: gasWei, in: tokenIn, wrappedNative: wrappedNative, references: references) else {
                counts.gasUnpriced += 1
                continue
            }
            let gasBps = gasIn.doubleValue / sizing.amountIn.doubleValue * 10_000
            let gross = Int256(bitPattern: sizing.profit)
            let net = gross &- Int256(bitPattern: gasIn)
            guard net > .zero, deviationBps > feeBps + gasBps + configuration.thresholdBps else {
                counts.belowCosts += 1
                continue
            }
            // The hedge: the leg buys base → the exchange leg sells it (bids), and the reverse.
            let buysBase = tokenOut == r.base
            let baseQty = buysBase ? sizing.amountOut : sizing.amountIn
            let human = baseQty.doubleValue / Self.tenTo(r.baseDecimals)
            let depth = buysBase ? r.bidDepth : r.askDepth
            let fresh = 1 - 0.5 * Double(r.ageMillis) / Double(max(configuration.maxAgeMillis, 1))
            let confidence = max(0, min(1, (human > 0 ? min(1, depth / human) : 0) * fresh))
            let hop = Opportunity.Hop(chainID: chainID, pool: c.ref.address, tokenIn: tokenIn, tokenOut: tokenOut, venue: c.ref.venue,
                                      amountOut: sizing.amountOut)
            var t = timestamps
            t.detected = now
            out.append(Opportunity(
                id: Opportunity.makeID(kind: .cexDexSpread, blockNumber: block, path: [hop], amountIn: sizing.amountIn), kind: .cexDexSpread,
                chains: [chainID], path: [hop], amountIn: sizing.amountIn, grossProfit: gross, netProfit: net, grossProfitMicroUSD: 0,
                netProfitMicroUSD: 0, gasUnits: configuration.gasUnits, gasCostWei: gasWei, flashSource: .none, blockNumber: block, timestamps: t,
                expiresAt: now &+ configuration.ttlNanoseconds, confidence: confidence,
                cexDex: .init(symbol: r.symbol, base: r.base, quote: r.quote, fairNumerator: r.numerator, fairDenominator: r.denominator,
                              bid: r.bid, ask: r.ask, bookAgeMillis: r.ageMillis, hedgeSellsBase: buysBase, hedgeQuantity: baseQty, depth: depth)))
            counts.found += 1
        }
        return out
    }

    /// The pool's input-side holdings times `share` (V3: its virtual reserve in the current range).
    static func maxIn(_ pool: Pool, zeroForOne: Bool, share: Double) -> UInt256 {
        let held: Double
        switch pool {
        case .uniswapV2(let p): held = (zeroForOne ? p.reserve0 : p.reserve1).doubleValue
        case .uniswapV3(let p):
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            let l = p.liquidity.doubleValue
            held = zeroForOne ? l / s : l * s
        case .curve(let p): held = (zeroForOne ? p.balances.0 : p.balances.1).doubleValue
        case .solidly(let p): held = (zeroForOne ? p.reserve0 : p.reserve1).doubleValue
        case .raydiumAMM, .whirlpool, .meteoraDLMM, .raydiumCLMM, .phoenix: held = pool.local(zeroForOne: zeroForOne).reserveIn
        }
        return Optimizer.integer(max(1, held * share), cap: UInt256(1) << 200)
    }

    /// `wei` of the native token in `token`'s raw units, through the references (the native
    /// token's price in `token`, or in a quote that prices `token` too); nil when none does.
    public static func value(wei: UInt256, in token: Address, wrappedNative: Address, references: [CexReference]) -> UInt256? {
        if token == wrappedNative { return wei }
        for n in references where n.base == wrappedNative {
            guard let inQuote = UInt256.mulDiv(wei, n.numerator, n.denominator) else { continue }
            if n.quote == token { return inQuote }
            if let t = references.first(where: { $0.base == token && $0.quote == n.quote }) {
                return UInt256.mulDiv(inQuote, t.denominator, t.numerator)
            }
        }
        return nil
    }

    static func tenTo(_ n: Int) -> Double {
        var p = 1.0
        for _ in 0..<max(0, n) { p *= 10 }
        return p
    }
}
