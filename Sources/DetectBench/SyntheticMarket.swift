#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AMMMath
import Detection
import EVMPrimitives
import MarketState

/// A seeded synthetic market for `arbiter bench detect` and the detection benchmarks: chains
/// with a realistic token graph (a few hubs, a long tail that trades against them, popular tokens
/// on several venues), V2 and full-range V3 pools whose prices wander around each token's
/// reference price, and a stream of real `Sync` and `Swap` logs moving them. Mostly small moves
/// (σ 0.03% a step, mean-reverting); now and then (0.2% of events) a 2% jump that opens
/// arbitrage, closed by the next event as a searcher's backrun would.
public struct SyntheticMarket: Sendable {
    public struct Options: Sendable {
        public var chains = 15
        public var poolsPerChain = 500
        public var tokensPerChain = 40
        public var seed: UInt64 = 1
        /// Share of V3 pools.
        public var v3Share = 0.2
        /// Probability that an event is a 2% jump rather than a small move.
        public var jumpProbability = 0.002
        /// Cycles kept per pool (the detection target is measured at 50).
        public var cyclesPerPool = 50
        public init() {}
    }

    /// One chain: its book at the start, what detection needs, and the generator's model.
    public struct Chain: Sendable {
        public var chainID: UInt64
        public var book: PoolBook
        public var refs: [PoolRef?]
        public var detector: CycleDetector.Configuration
    }

    public struct Event: Sendable {
        public var chain: Int
        public var log: EVMLog
    }

    public private(set) var chains: [Chain] = []
    let options: Options
    private var rng: SplitMix
    /// Per chain, per pool: the generator's view (token prices in raw units, deviation, V3 liquidity).
    private var models: [[PoolModel]] = []
    private var blocks: [(block: UInt64, index: UInt32)] = []

    struct PoolModel: Sendable {
        var address: Address
        var v3: Bool
        /// token1 per token0 in raw units at the reference prices.
        var reference: Double
        var deviation: Double
        /// V2: the invariant k (as a double); V3: liquidity.
        var k: Double
        var liquidity: UInt256
    }

    /// The most pools `tokens` tokens can make: hub pairs and tail–hub pairs, each on 8 venues.
    public static func capacity(tokens: Int) -> Int { (10 + max(0, tokens - 5) * 5) * 8 }

    public init(_ options: Options) throws(AMMError) {
        precondition(options.tokensPerChain > 5 && options.poolsPerChain <= Self.capacity(tokens: options.tokensPerChain),
                     "more pools than the tokens can make")
        self.options = options
        rng = SplitMix(seed: options.seed)
        for c in 0..<options.chains { try build(chain: c) }
        blocks = Array(repeating: (1, 0), count: options.chains)
    }

    private mutating func build(chain c: Int) throws(AMMError) {
        let chainID = UInt64(10_000 + c)
        // Hubs first: WETH, USDC, USDT, DAI, WBTC; then the long tail.
        var usd: [Double] = [3000, 1, 1, 1, 60_000]
        var decimals: [Int] = [18, 6, 6, 18, 8]
        while usd.count < options.tokensPerChain {
            usd.append(pow10(rng.uniform(-2, 3)))
            decimals.append(18)
        }
        let tokens = usd.indices.map { t in Address(truncating: UInt256(UInt64(c + 1) << 32 | UInt64(t + 1))) }
        var book = PoolBook(reorgDepth: 64)
        var refs: [PoolRef?] = []
        var model: [PoolModel] = []
        var seen = Set<[Int]>()
        let hubWeights = [0.5, 0.25, 0.1, 0.1, 0.05]
        while refs.count < options.poolsPerChain {
            var a: Int, b: Int
            if rng.next01() < 0.15 {
                a = rng.weighted(hubWeights)
                b = rng.weighted(hubWeights)
                if a == b { continue }
            } else {
                // Zipf-like popularity of the tail.
                let tail = options.tokensPerChain - 5
                a = 5 + min(tail - 1, Int(Double(tail) * pow(rng.next01(), 2.5)))
                b = rng.weighted(hubWeights)
            }
            let venue = Int(rng.next() % 8)
            guard seen.insert([min(a, b), max(a, b), venue]).inserted else { continue }
            let (t0, t1) = tokens[a] < tokens[b] ? (a, b) : (b, a)
            let reference = usd[t0] / usd[t1] * pow10(Double(decimals[t1] - decimals[t0]))
            let depthUSD = pow10(rng.uniform(5, 7.5))
            let r0 = depthUSD / 2 / usd[t0] * pow10(Double(decimals[t0]))
            let r1 = r0 * reference
            let deviation = rng.normal() * 0.0005
            let address = Address(truncating: UInt256(UInt64(c + 1) << 40 | UInt64(refs.count + 1) << 8 | 0xAA))
            let v3 = rng.next01() < options.v3Share
            if v3 {
                let fee: UInt32 = rng.next01() < 0.5 ? 500 : 3000
                let liquidity = Optimizer.integer((r0 * r1).squareRoot(), cap: UInt256.one << 127)
                let sqrtP = try Self.sqrtPrice(reference * (1 + deviation))
                let tick = try TickMath.tick(atSqrtRatio: sqrtP)
                let l = Int256(bitPattern: liquidity)
                let pool = try V3Pool(sqrtPriceX96: sqrtP, tick: tick, liquidity: liquidity, feePips: fee, tickSpacing: fee == 500 ? 10 : 60,
                                      ticks: [.init(index: -887_220, liquidityNet: l), .init(index: 887_220, liquidityNet: Int256.zero &- l)])
                book.register(address, pool: .uniswapV3(pool), at: LogPosition(block: 0, index: .max),
                              tickGross: [-887_220: liquidity, 887_220: liquidity])
                model.append(PoolModel(address: address, v3: true, reference: reference, deviation: deviation, k: 0, liquidity: liquidity))
            } else {
                let p = reference * (1 + deviation)
                let k = r0 * r1
                let pool = try V2Pool(reserve0: Optimizer.integer((k / p).squareRoot(), cap: UInt256.one << 111),
                                      reserve1: Optimizer.integer((k * p).squareRoot(), cap: UInt256.one << 111), feePips: 3000)
                book.register(address, pool: .uniswapV2(pool), at: LogPosition(block: 0, index: .max))
                model.append(PoolModel(address: address, v3: false, reference: reference, deviation: deviation, k: k, liquidity: .zero))
            }
            refs.append(PoolRef(address: address, token0: tokens[t0], token1: tokens[t1], venue: UInt32(venue)))
        }
        var detector = CycleDetector.Configuration(
            chainID: chainID, wrappedNative: tokens[0],
            assets: (0..<4).map { CycleDetector.Asset(address: tokens[$0], decimals: UInt8(decimals[$0]), usdPerToken: usd[$0]) },
            minNetProfitBps: 20)
        detector.index.maxCyclesPerPool = options.cyclesPerPool
        detector.gasPrice = 20_000_000
        chains.append(Chain(chainID: chainID, book: book, refs: refs, detector: detector))
        models.append(model)
    }

    /// The next `count` events: a chain and pool at random, a new price for it, its log.
    public mutating func events(_ count: Int) throws(AMMError) -> [Event] {
        var out: [Event] = []
        out.reserveCapacity(count)
        var closing: (chain: Int, pool: Int)? = nil
        for _ in 0..<count {
            let c: Int, p: Int
            var m: PoolModel
            if let (cc, pp) = closing {
                // The event after a jump is the arbitrage that closes it, as searchers do within
                // the block: the pool goes back near its reference price.
                (c, p, closing) = (cc, pp, nil)
                m = models[c][p]
                m.deviation = rng.normal() * 0.0003
            } else {
                c = Int(rng.next() % UInt64(chains.count))
                p = Int(rng.next() % UInt64(models[c].count))
                m = models[c][p]
                let jump = rng.next01() < options.jumpProbability ? (rng.next01() < 0.5 ? -0.02 : 0.02) : 0
                m.deviation = 0.5 * m.deviation + rng.normal() * 0.0003 + jump
                if jump != 0 { closing = (c, p) }
            }
            models[c][p] = m
            var (block, index) = blocks[c]
            if index == 50 { (block, index) = (block + 1, 0) }
            blocks[c] = (block, index + 1)
            let price = m.reference * (1 + m.deviation)
            let data: [UInt8]
            let topic: UInt256
            if m.v3 {
                let sqrtP = try Self.sqrtPrice(price)
                let tick = try TickMath.tick(atSqrtRatio: sqrtP)
                topic = PoolTopics.v3Swap
                data = Int256(1_000).bitPattern.bigEndianBytes + (Int256.zero &- Int256(990)).bitPattern.bigEndianBytes
                    + sqrtP.bigEndianBytes + m.liquidity.bigEndianBytes + Int256(Int64(tick)).bitPattern.bigEndianBytes
            } else {
                topic = PoolTopics.v2Sync
                data = Optimizer.integer((m.k / price).squareRoot(), cap: UInt256.one << 111).bigEndianBytes
                    + Optimizer.integer((m.k * price).squareRoot(), cap: UInt256.one << 111).bigEndianBytes
            }
            let topics = m.v3 ? [topic, .one, .one] : [topic]
            out.append(Event(chain: c, log: EVMLog(address: m.address, topics: topics, data: data, blockNumber: block, logIndex: index)))
        }
        return out
    }

    static func sqrtPrice(_ rawPrice: Double) throws(AMMError) -> UInt256 {
        let s = rawPrice.squareRoot() * 79_228_162_514_264_337_593_543_950_336.0
        return min(max(Optimizer.integer(s, cap: TickMath.maxSqrtRatio - 1), TickMath.minSqrtRatio), TickMath.maxSqrtRatio - 1)
    }
}

func pow10(_ e: Double) -> Double { pow(10, e) }

/// SplitMix64: small, fast, and the same sequence everywhere for a seed.
public struct SplitMix: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func next01() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * next01() }
    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(next01(), 1e-300), v = next01()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
    mutating func weighted(_ w: [Double]) -> Int {
        var x = next01() * w.reduce(0, +)
        for (i, wi) in w.enumerated() {
            if x < wi { return i }
            x -= wi
        }
        return w.count - 1
    }
}

