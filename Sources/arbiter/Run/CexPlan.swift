import Detection
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Feeds
import Logging
import MarketState
import MarketWatch
import Pipeline
import Registry
import StreamBus

/// How `arbiter run`, `watch` and `lab` use Binance (design item #32), from the registry: the
/// symbols of `[[cex]]` that price a token on a chain run here, each turned into the chain's
/// pairs (the symbol's token in USDT when the chain lists USDT, and in USDC through `USDCUSDT`);
/// one feed for all of them; a CEX–DEX detector per chain; trades by the chain's `cexDex`
/// executor (an own-capital inventory) with the CEX_DEX key.
enum CexPlan {
    /// The symbols to subscribe and each chain's pairs over them (indices into the symbols).
    static func markets(_ registry: Registry, chains: [Chain]) -> (symbols: [String], pairs: [CexPrices.Pair]) {
        let listed = registry.cexSymbols.filter { $0.replacedBy == nil && $0.quote == "USDT" }
        func address(_ symbol: String, _ chain: Chain) -> (Address, Int)? {
            guard let t = registry.token(symbol, on: chain.name), t.enabled, case .evm(let a) = t.address else { return nil }
            return (a, t.decimals)
        }
        var symbols: [String] = []
        func index(_ s: String) -> Int {
            if let i = symbols.firstIndex(of: s) { return i }
            symbols.append(s)
            return symbols.count - 1
        }
        var pairs: [CexPrices.Pair] = []
        let usdcSymbol = listed.first { $0.base == "USDC" }
        for chain in chains {
            guard let chainID = chain.id else { continue }
            let usdt = address("USDT", chain), usdc = address("USDC", chain)
            for c in listed {
                for tokenSymbol in c.tokens {
                    guard let (base, bd) = address(tokenSymbol, chain) else { continue }
                    if let (q, qd) = usdt, q != base {
                        pairs.append(.init(chainID: chainID, symbol: index(c.symbol), base: base, baseDecimals: bd, quote: q, quoteDecimals: qd))
                    }
                    if let (q, qd) = usdc, q != base, let u = usdcSymbol, c.symbol != u.symbol {
                        pairs.append(.init(chainID: chainID, symbol: index(c.symbol), base: base, baseDecimals: bd, quote: q, quoteDecimals: qd,
                                           divideBy: index(u.symbol)))
                    }
                }
            }
        }
        return (symbols, pairs)
    }

    /// The feed and the prices on `chains`, or nil when the feed is off or nothing is priced there.
    static func prices(_ registry: Registry, chains: [Chain], matrix: PriceMatrix, options: BinanceFeed.Options = .init(),
                       logger: Logger) -> CexPrices? {
        guard registry.cexFeed.enabled else { return nil }
        let (symbols, pairs) = markets(registry, chains: chains)
        guard !pairs.isEmpty else { return nil }
        var o = options
        o.state.maxAge = UInt64(registry.cexFeed.maxAgeMillis) * 1_000_000
        let feed = BinanceFeed(streamBase: registry.cexFeed.stream, rest: BinanceREST(base: registry.cexFeed.rest), symbols: symbols, options: o, logger: logger)
        return CexPrices(feed: feed, matrix: matrix, pairs: pairs)
    }

    /// A detector per watched chain with pairs, publishing on its partition.
    static func detection(_ registry: Registry, prices: CexPrices, watchers: [ChainWatcher], bus: any OpportunityBus, logger: Logger,
                          recorder: InputRecorder? = nil) -> [CexDexService] {
        recorder?.cexFeed(prices.feed)
        return watchers.compactMap { w in
            let id = w.configuration.chainID
            guard prices.pairs.contains(where: { $0.chainID == id }), let c = configuration(registry, chainID: id) else { return nil }
            return CexDexService(watcher: w, prices: prices, configuration: c, bus: bus, logger: logger,
                                 recorder: recorder?.detection(chainID: id, name: w.configuration.name, component: "cexdex"))
        }
    }

    /// A chain's CEX–DEX detection as the registry configures it; nil without its wrapped native token.
    static func configuration(_ registry: Registry, chainID id: UInt64) -> CexDexService.Configuration? {
        guard let chain = registry.chains.first(where: { $0.id == id }),
              let native = registry.token(chain.wrappedNative, on: chain.name), case .evm(let wrapped) = native.address else { return nil }
        var c = CexDexService.Configuration(partition: chain.partition, wrappedNative: wrapped)
        c.detector.thresholdBps = Double(registry.cexFeed.thresholdBps)
        c.detector.maxAgeMillis = UInt64(registry.cexFeed.maxAgeMillis)
        return c
    }

    /// The executor on the watched chains with execution on and a `cexDex` executor, with `keys`
    /// (several: legs at once, each key with its own nonces); nil when no chain has both.
    static func executor(_ registry: Registry, watchers: [ChainWatcher], keys: [PrivateKey], flashbotsKey: PrivateKey, journal: Journal,
                         logger: Logger, claims: PoolClaims) async throws -> CexDexExecutor? {
        var accounts: [OwnCapitalAccount] = []
        for w in watchers {
            let id = w.configuration.chainID
            guard let chain = registry.chains.first(where: { $0.id == id }), chain.execution, let executor = chain.executors["cexDex"],
                  let route = ExecutionPlan.route(chain, rpc: w.configuration.rpc, flashbotsKey: flashbotsKey) else { continue }
            for key in keys { accounts.append(OwnCapitalAccount(chainID: id, eth: EthClient(w.configuration.rpc), route: route, key: key, executor: executor)) }
        }
        guard !accounts.isEmpty else { return nil }
        let x = CexDexExecutor(accounts: accounts, state: WatcherStates(watchers), journal: journal, logger: logger, claims: claims)
        try await x.recover()
        return x
    }
}
