import AMMMath
import Detection
import EVMPrimitives
import Execution
import Foundation
import Logging
import MarketWatch
import Opportunities
import ServiceLifecycle
import Synchronization

/// The statistical-arbitrage strategy (design item #31): positions held across blocks, not an
/// atomic trade, so the execution service routes `statistical` opportunities here instead of to
/// the engine (whose factory refuses them). It opens a position on a signal through the
/// `PositionExecutor` (own inventory, journaled), and every block reviews each open position
/// against its entry band on the chain's current pool state: closed on reversion to the entry
/// mean, at the stop-loss, or after the maximum holding time, through the pair's pool that pays
/// the most back. Every open position is marked to market at each review.
public final class StatisticalArbitrageStrategy: Service {
    /// Per chain: how its pairs are priced (the detector's configuration: pairs, tokens, numeraire).
    public let universes: [UInt64: StatisticalArbitrageService.Configuration]
    public let executor: PositionExecutor
    let watchers: [UInt64: ChainWatcher]
    let logger: Logger
    let interval: Duration
    private let marks = Mutex<[String: Int256]>([:])

    public init(executor: PositionExecutor, watchers: [ChainWatcher], universes: [UInt64: StatisticalArbitrageService.Configuration],
                interval: Duration = .milliseconds(100), logger: Logger) {
        self.executor = executor
        self.watchers = Dictionary(watchers.map { ($0.configuration.chainID, $0) }, uniquingKeysWith: { a, _ in a })
        self.universes = universes
        self.interval = interval
        self.logger = logger
    }

    /// Mark-to-market of the open positions at their last review (hex id → what closing would
    /// realize, in the sold token).
    public var markToMarket: [String: Int256] { marks.withLock { $0 } }

    /// Opens a position for `o` (a statistical opportunity, not expired) and waits for it.
    public func open(_ o: Opportunity, now: UInt64 = WallClock.nanoseconds()) async -> Result<StatPosition, Refusal> {
        switch Self.entry(o, now: now) {
        case .failure(let r): return .failure(r)
        case .success(let e): return await executor.open(e, path: o.path)
        }
    }

    /// Begins opening a position for `o` in the background: the bus's consumer does not wait for
    /// the swap's inclusion. A refusal is counted in the executor's `refusals`.
    public func submit(_ o: Opportunity, now: UInt64 = WallClock.nanoseconds()) async {
        await executor.journalOpportunity(o)
        switch Self.entry(o, now: now) {
        case .failure(let r): await executor.count(r, id: o.id, chain: o.chains.first ?? 0)
        case .success(let e): await executor.begin(e, path: o.path)
        }
    }

    static func entry(_ o: Opportunity, now: UInt64) -> Result<PositionBook.Entry, Refusal> {
        guard o.kind == .statistical, let st = o.statistical, o.chains.count == 1 else { return .failure(Refusal("validate", "invalid", "not a statistical opportunity")) }
        guard o.expiresAt > now else { return .failure(Refusal("stale", "expired")) }
        return .success(PositionBook.Entry(id: o.id, chainID: o.chains[0], pair: Int(st.pair), tokenA: st.tokenA, tokenB: st.tokenB, longA: st.longA,
                                           z: st.z, hedgeRatio: st.hedgeRatio, confidence: o.confidence, block: o.blockNumber, amount: o.amountIn,
                                           mean: st.mean, deviation: st.deviation))
    }

    public func run() async throws {
        var universe: [UInt64: (StatArbUniverse, [WatchedPool])] = [:]
        var reviewed: [UInt64: UInt64] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for (chain, w) in watchers {
                guard let c = universes[chain], let s = w.latest, s.block > reviewed[chain] ?? 0 else { continue }
                reviewed[chain] = s.block
                if universe[chain]?.1 != s.pools { universe[chain] = (StatisticalArbitrageService.universe(c, pools: s.pools), s.pools) }
                guard let (u, _) = universe[chain] else { continue }
                await review(u, s)
            }
        }
    }

    /// Every open position of `s`'s chain against its band on `s`'s pools; marks to market.
    func review(_ u: StatArbUniverse, _ s: ChainWatcher.Snapshot) async {
        let prices: (Int) -> Double? = { i in
            let p = s.book.pools[i].spotPrice
            return p > 0 ? s.pools[i].matrixPrice(p) : nil
        }
        for p in await executor.positions where p.status == .open && p.chainID == s.chainID {
            guard p.pair < u.pairs.count, u.pairs[p.pair].tokenA == p.tokenA, u.pairs[p.pair].tokenB == p.tokenB else { continue }
            let pair = u.pairs[p.pair]
            let spread = StatArbUniverse.prices(pair, price: prices).map { log($0.a) - p.hedgeRatio * log($0.b) }
            let z = spread.flatMap(p.z(spread:)) ?? .nan
            guard let amount = p.amountBought, let (pool, fetches) = Self.best(pair, selling: p.bought, amount: amount, s) else { continue }
            marks.withLock { $0[Hex.encode(p.id)] = p.markToMarket(fetches: fetches) }
            let back = [Opportunity.Hop(chainID: s.chainID, pool: s.pools[pool].address, tokenIn: p.bought, tokenOut: p.sold, venue: s.pools[pool].venue,
                                        amountOut: fetches)]
            for closed in await executor.review(chainID: s.chainID, pair: p.pair, z: z, block: s.block, back: back) {
                marks.withLock { $0[Hex.encode(closed.id)] = nil }
            }
        }
    }

    /// The pair's trade pool that pays the most for `amount` of `selling`, and what it pays.
    static func best(_ pair: StatArbUniverse.Pair, selling: Address, amount: UInt256, _ s: ChainWatcher.Snapshot) -> (Int, UInt256)? {
        var best: (Int, UInt256)? = nil
        for i in pair.trade where i < s.book.count {
            guard let out = try? s.book.pools[i].amountOut(amount, zeroForOne: s.pools[i].token0 == selling) else { continue }
            if out > (best?.1 ?? .zero) { best = (i, out) }
        }
        return best
    }
}
