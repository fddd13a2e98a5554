import AMMMath
import Detection
import EVMPrimitives
import Foundation
import Logging
import MarketState
import MarketWatch
import Opportunities
import ServiceLifecycle
import StreamBus
import Synchronization

/// Statistical arbitrage on one chain as a service (design item #31): once per block, each pair
/// of the chain's universe (`StatArbUniverse`) is priced from the PriceMatrix and fed to the
/// `StatisticalArbitrageDetector`; a signal that passes its gates, is sized on the block's pool
/// state and still expects a net gain after the round trip is published as a `statistical`
/// opportunity on the chain's partition.
///
/// At start the windows are warmed up from history: the pools' prices at each of the last
/// `backfill` blocks (read at those blocks), so signals can come from the first live block
/// instead of after `backfill` blocks (24 minutes on Ethereum).
public final class StatisticalArbitrageService: Service {
    public struct Configuration: Sendable {
        public var partition: String
        /// Pairs by symbol (base, quote), as the registry lists them.
        public var pairs: [(String, String)]
        public var tokens: [StatArbUniverse.Token]
        public var wrappedNative: Address
        public var detector = StatisticalArbitrageDetector.Configuration()
        public var sizing = StatArbUniverse.Sizing()
        /// Blocks of history read at start (at most what a full node keeps: 128).
        public var backfill = 125
        /// Signals at or past this |z| are not published (a position there would be closed at its stop at once).
        public var maxEntryZ = 4.0
        /// The least expected net gain after the round trip (fees and both impacts), in basis points of the input.
        public var minEdgeBps = 10
        /// Gas of one position's two swaps, for the opportunity's gas cost.
        public var gasUnits: UInt64 = 2 * 180_000
        public var priorityFee: UInt256 = 1_000_000_000
        public var ttlNanoseconds: UInt64 = 12_000_000_000
        public var interval: Duration = .milliseconds(100)

        public init(partition: String, pairs: [(String, String)], tokens: [StatArbUniverse.Token], wrappedNative: Address) {
            self.partition = partition
            self.pairs = pairs
            self.tokens = tokens
            self.wrappedNative = wrappedNative
        }
    }

    public struct Status: Sendable {
        public var pairs: [String] = []
        public var skipped: [String] = []
        /// Blocks of history fed before the first live block, and the history reads that failed.
        public var backfilled = 0
        public var backfillFailures = 0
        public var block: UInt64 = 0
        public var updates = 0
        public var published = 0
        public var publishFailures = 0
        /// Signals not published: past the stop, no pool takes a unit, or no net gain expected.
        public var beyondStop = 0
        public var unsized = 0
        public var belowEdge = 0
        public var reversions = 0
        public var detector = StatisticalArbitrageDetector.Counts()
    }

    public let watcher: ChainWatcher
    let configuration: Configuration
    let bus: any OpportunityBus
    let logger: Logger
    private let shared = Mutex(Status())

    public init(watcher: ChainWatcher, configuration: Configuration, bus: any OpportunityBus, logger: Logger) {
        self.watcher = watcher
        self.configuration = configuration
        self.bus = bus
        self.logger = logger
    }

    public var status: Status { shared.withLock { $0 } }

    public func run() async throws {
        var universe = StatArbUniverse(pairs: [], tokens: [], wrappedNative: configuration.wrappedNative, pools: []) { _ in false }
        var detector = StatisticalArbitrageDetector(pairs: 0)
        var pools: [WatchedPool]? = nil
        var slots: [PriceMatrix.Slot?] = []
        var last: UInt64 = 0
        let matrix = watcher.configuration.matrix
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard let s = watcher.latest, s.block > last else {
                try? await Task.sleep(for: configuration.interval)
                continue
            }
            last = s.block
            if s.pools != pools {
                // The first state, or pools found since: the universe again; new pairs start over (warmed up again).
                let next = Self.universe(configuration, pools: s.pools)
                if pools == nil || next.pairs.map(\.name) != universe.pairs.map(\.name) {
                    detector = StatisticalArbitrageDetector(pairs: next.pairs.count, configuration: configuration.detector)
                    shared.withLock {
                        $0.pairs = next.pairs.map(\.name)
                        $0.skipped = next.skipped
                    }
                    await backfill(&detector, next, pools: s.pools, before: s.block)
                }
                (universe, pools) = (next, s.pools)
                slots = s.pools.map { matrix.existingSlot(for: .init(chainID: s.chainID, tokenA: $0.token0, tokenB: $0.token1, venue: $0.venue)) }
            }
            var found: [Opportunity] = []
            for pair in universe.pairs {
                guard let (a, b) = StatArbUniverse.prices(pair, price: { i in slots[i].flatMap { matrix.read($0)?.price } }) else { continue }
                switch detector.update(pair: pair.index, priceA: a, priceB: b) {
                case .enter(let signal)?:
                    if let o = opportunity(signal, pair, s) { found.append(o) }
                case .revert?: shared.withLock { $0.reversions += 1 }
                case nil: break
                }
            }
            let counts = detector.counts
            shared.withLock {
                $0.block = s.block
                $0.updates += universe.pairs.count
                $0.detector = counts
            }
            await publish(found)
        }
    }

    private func publish(_ found: [Opportunity]) async {
        let sent = await bus.publishAll(found, partition: configuration.partition, kind: "statistical", logger: logger)
        shared.withLock {
            $0.published += sent.published
            $0.publishFailures += sent.failed
        }
    }

    /// The chain's universe over its watched pools (Uniswap V2 and V3 pools are tradable).
    static func universe(_ c: Configuration, pools: [WatchedPool]) -> StatArbUniverse {
        let refs = pools.map { PoolRef(address: $0.address, token0: $0.token0, token1: $0.token1, venue: $0.venue) }
        return StatArbUniverse(pairs: c.pairs, tokens: c.tokens, wrappedNative: c.wrappedNative, pools: refs) { i in
            switch pools[i].kind {
            case .uniswapV2, .uniswapV3: true
            case .solidly, .curve: false
            }
        }
    }

    /// The pairs' prices at each of the `backfill` blocks before `block`, into the detector (its
    /// events then are history, not signals). A block whose read fails is skipped and counted.
    private func backfill(_ d: inout StatisticalArbitrageDetector, _ universe: StatArbUniverse, pools: [WatchedPool], before block: UInt64) async {
        guard !universe.pairs.isEmpty else { return }
        let priced = universe.pricedPools.map { pools[$0] }
        let from = block > UInt64(configuration.backfill) ? block - UInt64(configuration.backfill) : 1
        let blocks = Array(from..<max(from, block))
        // Four reads in flight at once (each one Multicall3 call at its block), fed in block order.
        var history: [UInt64: [Address: Double]] = [:]
        let watcher = self.watcher
        await withTaskGroup(of: (UInt64, [Address: Double]?).self) { group in
            var next = blocks.makeIterator()
            for _ in 0..<4 { if let b = next.next() { group.addTask { (b, try? await watcher.spotPrices(of: priced, at: b)) } } }
            for await (b, prices) in group {
                history[b] = prices
                if Task.isShuttingDownGracefully || Task.isCancelled { group.cancelAll() } else if let n = next.next() {
                    group.addTask { (n, try? await watcher.spotPrices(of: priced, at: n)) }
                }
            }
        }
        var fed = 0, failed = 0
        for b in blocks {
            guard let prices = history[b] ?? nil else {
                failed += 1
                continue
            }
            for pair in universe.pairs {
                guard let (a, p) = StatArbUniverse.prices(pair, price: { prices[pools[$0].address] }) else { continue }
                _ = d.update(pair: pair.index, priceA: a, priceB: p)
            }
            fed += 1
        }
        let counts = d.counts
        shared.withLock {
            $0.backfilled = fed
            $0.backfillFailures = failed
            $0.detector = counts
        }
        logger.notice("statistical arbitrage warmed up", metadata: ["arb.chain": "\(watcher.configuration.chainID)", "arb.blocks": "\(fed)", "arb.failed": "\(failed)"])
    }

    /// The opportunity of `signal`, sized on `s`'s pools; nil (counted) when it is not worth publishing.
    private func opportunity(_ signal: StatisticalArbitrageDetector.Signal, _ pair: StatArbUniverse.Pair, _ s: ChainWatcher.Snapshot) -> Opportunity? {
        let c = configuration
        guard abs(signal.z) < c.maxEntryZ else {
            shared.withLock { $0.beyondStop += 1 }
            return nil
        }
        let longA = signal.side == .longA
        guard let entry = StatArbUniverse.size(pair, longA: longA, reversion: signal.expectedReversion, pools: s.book.pools,
                                               token0: { s.pools[$0].token0 }, sizing: c.sizing) else {
            shared.withLock { $0.unsized += 1 }
            return nil
        }
        let edge = Int256(bitPattern: entry.expectedBack) &- Int256(bitPattern: entry.amountIn)
        guard edge > .zero, edge.magnitude >= entry.amountIn / 10_000 * UInt256(UInt64(c.minEdgeBps)) else {
            shared.withLock { $0.belowEdge += 1 }
            return nil
        }
        let pool = s.pools[entry.pool]
        let path = [Opportunity.Hop(chainID: s.chainID, pool: pool.address, tokenIn: entry.sold, tokenOut: entry.bought, venue: pool.venue, amountOut: entry.amountOut)]
        let gasPrice = (s.baseFee ?? .zero) &+ c.priorityFee
        let now = WallClock.nanoseconds()
        return Opportunity(
            id: Opportunity.makeID(kind: .statistical, blockNumber: s.block, path: path, amountIn: entry.amountIn), kind: .statistical,
            chains: [s.chainID], path: path, amountIn: entry.amountIn, grossProfit: edge, netProfit: edge, grossProfitMicroUSD: 0, netProfitMicroUSD: 0,
            gasUnits: c.gasUnits, gasCostWei: gasPrice &* UInt256(c.gasUnits), flashSource: .none, blockNumber: s.block,
            timestamps: .init(eventReceived: s.headReceivedAt, stateApplied: s.appliedAt, detected: now), expiresAt: now &+ c.ttlNanoseconds,
            confidence: signal.confidence,
            statistical: .init(pair: UInt32(pair.index), tokenA: pair.tokenA, tokenB: pair.tokenB, longA: longA, spread: signal.spread, mean: signal.mean,
                               deviation: signal.deviation, z: signal.z, hedgeRatio: signal.hedgeRatio, correlation: signal.correlation,
                               pValue: signal.pValue, hurst: signal.hurst))
    }
}
