import EVMPrimitives
import JSONRPC
import MarketState
import MarketWatch
import Registry

/// What `arbiter watch` (and later `arbiter run`) watches on each chain, from the registry: the
/// chain's providers (HTTP in a provider pool, the first WebSocket for heads), and its pools
/// derived with CREATE2 for every pair of its enabled tokens on every enabled DEX whose pools
/// can be derived and priced, with the DEXs' factories for pools created later.
enum WatchPlan {
    /// V3 fee tiers tried when a DEX lists none.
    static let defaultV3Fees: [Int] = [100, 500, 3000, 10000]

    static func configurations(_ registry: Registry, chains names: [String], environment: [String: String],
                               matrix: PriceMatrix) throws -> [ChainWatcher.Configuration] {
        for name in names where registry.chain(name) == nil {
            throw CLIError("unknown chain \"\(name)\" (known: \(registry.chains.map(\.name).joined(separator: ", ")))")
        }
        var out: [ChainWatcher.Configuration] = []
        for chain in registry.chains where chain.kind == .evm && (names.isEmpty ? chain.enabled : names.contains(chain.name)) {
            guard let id = chain.id, let multicall = chain.multicall3 else { continue }
            let endpoints = registry.endpoints(for: chain, environment: environment)
            let http = endpoints.compactMap { e in e.http.map { (name: e.provider, transport: HTTPTransport(url: $0) as any RPCTransport) } }
            guard !http.isEmpty else {
                if names.contains(chain.name) { throw CLIError("\(chain.name) has no HTTP RPC endpoint (add one: [chains.\(chain.name)] rpc = [...])") }
                continue
            }
            let heads: ChainWatcher.HeadSource = endpoints.lazy.compactMap(\.ws).first.map { .webSocket(WebSocketSession(url: $0)) }
                ?? .polling(.milliseconds(max(250, chain.blockTimeMs)))
            let (pools, factories) = universe(registry, chain)
            var options = ChainWatcher.Options()
            options.reorgDepth = UInt64(max(chain.reorgDepth, 1))
            options.staleAfter = .milliseconds(max(30_000, 10 * chain.blockTimeMs))
            out.append(ChainWatcher.Configuration(chainID: id, name: chain.name, rpc: RPCClient(ProviderPool(http, chain: chain.name)), heads: heads,
                                                  multicall: multicall, pools: pools, factories: factories, matrix: matrix, options: options))
        }
        return out
    }

    /// Pools for every pair of the chain's enabled tokens on each derivable DEX. A DEX's venue
    /// number is its place in the registry (shifted left 24 bits); a V3 pool adds its fee.
    static func universe(_ registry: Registry, _ chain: Chain) -> ([WatchedPool], [WatchedFactory]) {
        let tokens: [Address] = registry.tokens(on: chain.name).compactMap { t in
            guard t.enabled, case .evm(let a) = t.address else { return nil }
            return a
        }
        var pools: [WatchedPool] = [], factories: [WatchedFactory] = []
        for (index, dex) in registry.dexes.enumerated() where dex.chain == chain.name && dex.enabled && dex.priceable {
            guard let factory = dex.factory, let hash = dex.initCodeHash else { continue }
            let deployer = dex.poolDeployer ?? factory
            let venue = UInt32(index) << 24
            switch dex.kind {
            case .uniswapV2:
                let fee = UInt32(dex.feesPips.first ?? 3000)
                factories.append(WatchedFactory(address: factory, kind: .uniswapV2(feePips: fee), venue: venue))
                for (i, a) in tokens.enumerated() {
                    for b in tokens[(i + 1)...] {
                        pools.append(WatchedPool(address: PoolDiscovery.v2Pair(factory: deployer, initCodeHash: hash, tokenA: a, tokenB: b),
                                                 kind: .uniswapV2(feePips: fee), tokenA: a, tokenB: b, venue: venue))
                    }
                }
            case .uniswapV3, .pancakeV3:
                factories.append(WatchedFactory(address: factory, kind: .uniswapV3, venue: venue))
                for fee in (dex.feesPips.isEmpty ? defaultV3Fees : dex.feesPips).map(UInt32.init) {
                    for (i, a) in tokens.enumerated() {
                        for b in tokens[(i + 1)...] {
                            pools.append(WatchedPool(address: PoolDiscovery.v3Pool(deployer: deployer, initCodeHash: hash, tokenA: a, tokenB: b, feePips: fee),
                                                     kind: .uniswapV3, tokenA: a, tokenB: b, venue: venue + fee))
                        }
                    }
                }
            default:
                continue  // Algebra, Solidly, Curve and the rest are not followed by the watcher yet
            }
        }
        return (pools, factories)
    }
}
