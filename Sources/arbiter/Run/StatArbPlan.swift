import Detection
import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import Logging
import MarketWatch
import Pipeline
import Registry
import StreamBus

/// How `arbiter run` and `arbiter lab` trade statistical arbitrage, from the registry: per chain,
/// the registry's pairs whose tokens the chain lists (`[[stat_arb]]`), priced as
/// `StatArbUniverse` says; positions held by the chain's `statArb` executor (an own-capital
/// contract holding the inventory) with the STAT_ARB key.
enum StatArbPlan {
    /// The chain's configuration, or nil when none of its pairs is listed there.
    static func configuration(_ registry: Registry, _ chain: Chain) -> StatisticalArbitrageService.Configuration? {
        let pairs = registry.statArbUniverse(on: chain.name).map { ($0.base, $0.quote) }
        let tokens = registry.tokens(on: chain.name).filter(\.enabled).compactMap { t -> StatArbUniverse.Token? in
            guard case .evm(let a) = t.address else { return nil }
            return StatArbUniverse.Token(symbol: t.symbol, address: a, stable: t.tags.contains(.stable))
        }
        guard !pairs.isEmpty, let native = tokens.first(where: { $0.symbol == chain.wrappedNative }) else { return nil }
        return StatisticalArbitrageService.Configuration(partition: chain.partition, pairs: pairs, tokens: tokens, wrappedNative: native.address)
    }

    /// A detector per watched chain with pairs, publishing on its partition.
    static func detection(_ registry: Registry, watchers: [ChainWatcher], bus: any OpportunityBus, logger: Logger) -> [StatisticalArbitrageService] {
        watchers.compactMap { w in
            guard let chain = registry.chains.first(where: { $0.id == w.configuration.chainID }), let c = configuration(registry, chain) else { return nil }
            return StatisticalArbitrageService(watcher: w, configuration: c, bus: bus, logger: logger)
        }
    }

    /// The strategy on the watched chains with pairs, execution on and a `statArb` executor, with
    /// `key`'s positions; nil when no chain has all that. Its positions are recovered from `journal`.
    static func strategy(_ registry: Registry, watchers: [ChainWatcher], key: (UInt64) -> PrivateKey?, flashbotsKey: PrivateKey, journal: Journal,
                         logger: Logger, claims: PoolClaims) async throws -> (StatisticalArbitrageStrategy, recovered: Int)? {
        var accounts: [OwnCapitalAccount] = []
        var universes: [UInt64: StatisticalArbitrageService.Configuration] = [:]
        for w in watchers {
            let id = w.configuration.chainID
            guard let chain = registry.chains.first(where: { $0.id == id }), chain.execution, let executor = chain.executors["statArb"],
                  let c = configuration(registry, chain), let k = key(id),
                  let route = ExecutionPlan.route(chain, rpc: w.configuration.rpc, flashbotsKey: flashbotsKey) else { continue }
            accounts.append(OwnCapitalAccount(chainID: id, eth: EthClient(w.configuration.rpc), route: route, key: k, executor: executor))
            universes[id] = c
        }
        guard !accounts.isEmpty else { return nil }
        let positions = PositionExecutor(accounts: accounts, state: WatcherStates(watchers), journal: journal, logger: logger, claims: claims)
        let recovered = try await positions.recover()
        return (StatisticalArbitrageStrategy(executor: positions, watchers: watchers, universes: universes, logger: logger), recovered)
    }
}
