import EVMPrimitives
import EVMSigning
import EthClient
import Execution
import JSONRPC
import MarketWatch
import Opportunities
import Registry

/// How execution runs on each chain, from the registry: our executor contracts, the lenders
/// they borrow from (with the registry's fee until the protocol's own is read), and the route
/// the chain's MEV mode asks for.
enum ExecutionPlan {
    /// `executorKeys` gives each chain's signing keys, its senders (none: the chain is not executed on).
    static func chains(_ registry: Registry, watchers: [ChainWatcher], executorKeys: (UInt64) -> [PrivateKey], flashbotsKey: PrivateKey) -> [ExecutionChain] {
        var out: [ExecutionChain] = []
        for w in watchers {
            let keys = executorKeys(w.configuration.chainID)
            guard let chain = registry.chains.first(where: { $0.id == w.configuration.chainID }), chain.execution, !chain.executors.isEmpty,
                  let key = keys.first else { continue }
            let rpc = w.configuration.rpc
            let eth = EthClient(rpc)
            var lenders: [FlashLender] = []
            for s in registry.flashSources(on: chain.name) where s.status == .active {
                guard let executor = chain.executors[s.protocol.rawValue] else { continue }
                let assets = s.assets.map { symbols in
                    Set(symbols.compactMap { sym -> Address? in
                        if case .evm(let a)? = registry.token(sym, on: chain.name)?.address { a } else { nil }
                    })
                }
                if s.protocol.lendingPoolKind != nil {
                    // The watched pools of that factory's DEXs (a watched pool's venue names its DEX's
                    // place in the registry) may lend; the provider keeps those the factory vouches for.
                    let dexes = Set(registry.lendingDEXes(s))
                    let pools = w.configuration.pools.filter { $0.kind == .uniswapV3 && dexes.contains(Int($0.venue >> 24)) }.map(\.address)
                    lenders.append(FlashLender(source: .uniswapV3Flash, lender: s.contract, executor: executor, assets: assets, defaultFee: .none, pools: pools))
                    continue
                }
                guard let kind = RunPlan.kind(s.protocol), let fee = RunPlan.fee(s) else { continue }
                lenders.append(FlashLender(source: kind, lender: s.contract, executor: executor, assets: assets, defaultFee: fee))
            }
            guard let route = route(chain, rpc: rpc, flashbotsKey: flashbotsKey) else { continue }
            var e = ExecutionChain(chainID: w.configuration.chainID, eth: eth, route: route, key: key,
                                   flash: lenders.isEmpty ? nil : FlashProviders(lenders: lenders, eth: eth), direct: chain.executors["direct"])
            e.l1FeeOracle = chain.l1FeeOracle
            e.confirmations = UInt64(max(chain.reorgDepth, 1))
            e.keys = keys
            out.append(e)
        }
        return out
    }

    /// The route the chain's MEV mode asks for (nil for Solana's Jito).
    static func route(_ chain: Chain, rpc: RPCClient, flashbotsKey: PrivateKey) -> SubmissionRoute? {
        switch chain.mev {
        case .flashbots:
            .flashbots(relay: RPCClient(FlashbotsSigner(key: flashbotsKey).transport(relay: chain.relay ?? "https://relay.flashbots.net")))
        case .public:
            .publicMempool(rpc)
        case .jito:
            nil
        case .sequencer, .flashbotsProtectL2, .bloxroute, .fastlane, .timeboost:
            .privateRPC(chain.relay.map { RPCClient(HTTPTransport(url: $0)) } ?? rpc)
        }
    }

    /// Each watched chain with a bridge and our cross-chain executor, and a key for its legs.
    static func crossChainLegs(_ registry: Registry, watchers: [ChainWatcher], key: (UInt64) -> PrivateKey?, flashbotsKey: PrivateKey) -> [CrossChainLeg] {
        watchers.compactMap { w in
            guard let chain = registry.chains.first(where: { $0.id == w.configuration.chainID }), chain.execution, let bridge = chain.bridge,
                  let executor = chain.executors["crossChain"], let k = key(w.configuration.chainID),
                  let route = route(chain, rpc: w.configuration.rpc, flashbotsKey: flashbotsKey) else { return nil }
            return CrossChainLeg(chainID: w.configuration.chainID, eth: EthClient(w.configuration.rpc), route: route, key: k, executor: executor, bridge: bridge)
        }
    }

    /// A fresh reputation key for Flashbots when none is configured (it holds no funds; only
    /// the relay's view of our history is tied to it).
    static func ephemeralKey() throws -> PrivateKey {
        var rng = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if let k = try? PrivateKey(bytes: bytes) { return k }
        }
    }
}
