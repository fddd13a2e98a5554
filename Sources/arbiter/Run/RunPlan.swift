import AMMMath
import Detection
import Execution
import EVMPrimitives
import Opportunities
import Logging
import MarketState
import MarketWatch
import Pipeline
import Registry
import SolanaPrimitives
import SolanaWatch
import StreamBus

/// How `arbiter run` detects on a chain, from the registry: the start assets (the wrapped native
/// token, then the stablecoins, then anything an active flash-loan source lends), each with its
/// cheapest active flash source (none: the executor's own capital), and the chain's minimum.
enum RunPlan {
    /// The watchers and detectors of `chains` (those with an RPC endpoint), publishing on `bus`,
    /// and cross-chain detection between them when the registry has bridge routes.
    static func detection(_ registry: Registry, chains: [Chain], environment: [String: String], minProfitBps: Int?, partition: String,
                          bus: any OpportunityBus, logger: Logger, solana: SolanaPoolWatcher? = nil,
                          recorder: InputRecorder? = nil) throws -> ([ChainWatcher], [DetectionService], CrossChainService?) {
        var detection: [DetectionService] = []
        var watchers: [ChainWatcher] = []
        let matrix = PriceMatrix(expected: 4_096)
        let plans = try WatchPlan.configurations(registry, chains: chains.map(\.name), environment: environment, matrix: matrix)
        guard !plans.isEmpty else { throw CLIError("no enabled EVM chain in partition \(partition) has an RPC endpoint") }
        for var plan in plans {
            let chain = registry.chains.first { $0.id == plan.chainID }!
            if let recorder { plan.recorder = recorder.watcher(chainID: plan.chainID, name: plan.name) }
            let watcher = ChainWatcher(plan, logger: logger)
            let service = DetectionService(
                watcher: watcher,
                configuration: .init(partition: chain.partition, detector: try detector(registry, chain, chainID: plan.chainID, minProfitBps: minProfitBps)),
                bus: bus, logger: logger, recorder: recorder?.detection(chainID: plan.chainID, name: plan.name))
            watchers.append(watcher)
            detection.append(service)
        }
        var crossChain: CrossChainService? = nil
        // (Solana's detection is running: its chain counts whether or not the registry enables it.)
        let solanaChain = solana == nil ? [] : registry.chains.filter { $0.kind == .solana }
        if let cross = self.crossChain(registry, chains: chains.filter { c in plans.contains { $0.chainID == c.id } } + solanaChain) {
            var partitions = Dictionary(uniqueKeysWithValues: chains.compactMap { c in c.id.map { ($0, c.partition) } })
            for c in solanaChain { partitions[Opportunity.solanaChainID] = c.partition }
            crossChain = CrossChainService(watchers: watchers, partitions: partitions, configuration: cross, bus: bus, logger: logger,
                                           solana: solana.map { solanaSide($0) })
        }
        return (watchers, detection, crossChain)
    }

    /// Watchers alone (no detection), for an executor in its own process: it re-quotes on
    /// state it keeps itself.
    static func watchers(_ registry: Registry, chains: [Chain], environment: [String: String], partition: String, logger: Logger) throws -> [ChainWatcher] {
        let plans = try WatchPlan.configurations(registry, chains: chains.map(\.name), environment: environment, matrix: PriceMatrix(expected: 4_096))
        guard !plans.isEmpty else { throw CLIError("no enabled EVM chain in partition \(partition) has an RPC endpoint") }
        return plans.map { ChainWatcher($0, logger: logger) }
    }

    static func detector(_ registry: Registry, _ chain: Chain, chainID: UInt64, minProfitBps: Int?) throws -> CycleDetector.Configuration {
        let tokens = registry.tokens(on: chain.name).filter(\.enabled)
        func evm(_ t: Token) -> Address? { if case .evm(let a) = t.address { a } else { nil } }
        guard let native = tokens.first(where: { $0.symbol == chain.wrappedNative }), let nativeAddress = evm(native) else {
            throw CLIError("\(chain.name): its wrapped native token \(chain.wrappedNative) is not among its enabled tokens")
        }
        let sources = registry.flashSources(on: chain.name).filter { $0.status == .active }
        var ordered = [native] + tokens.filter { $0.tags.contains(.stable) && $0.symbol != native.symbol }
        ordered += tokens.filter { t in !ordered.contains(t) && sources.contains { $0.assets?.contains(t.symbol) ?? false } }
        var assets: [CycleDetector.Asset] = []
        let tiers = lowestV3Tiers(registry, chain)
        for t in ordered {
            guard let a = evm(t) else { continue }
            let (source, fee) = cheapest(sources.filter { $0.assets?.contains(t.symbol) ?? true }, v3Tiers: tiers)
            assets.append(CycleDetector.Asset(address: a, decimals: UInt8(clamping: t.decimals), usdPerToken: t.tags.contains(.stable) ? 1 : nil,
                                              flashSource: source, flashFee: fee))
        }
        var c = CycleDetector.Configuration(chainID: chainID, wrappedNative: nativeAddress, assets: assets,
                                            minNetProfitBps: minProfitBps ?? CycleDetector.Configuration.defaultMinNetProfitBps(chain: chain.name))
        c.ttlNanoseconds = UInt64(max(8_000, min(60_000, 10 * chain.blockTimeMs))) * 1_000_000
        return c
    }

    /// Cross-chain routes between the chains run (Solana among them when its detection runs in
    /// the same process), from the registry's bridges: each bridged token that is not a
    /// stablecoin, bought and sold against a stablecoin both chains list (USDC first). A Wormhole
    /// route carries the asset at 8 decimals at most.
    static func crossChain(_ registry: Registry, chains: [Chain]) -> CrossChainDetector.Configuration? {
        var routes: [CrossChainDetector.Route] = []
        var natives: [UInt64: CrossChainDetector.Key] = [:]
        func id(_ c: Chain) -> UInt64? { c.kind == .solana ? Opportunity.solanaChainID : c.id }
        func token(_ chain: String, _ symbol: String) -> (CrossChainDetector.Key, Token)? {
            guard let t = registry.tokens(on: chain).first(where: { $0.symbol == symbol && $0.enabled }) else { return nil }
            switch t.address {
            case .evm(let a): return (.init(a), t)
            case .solana(let m): return (try? PublicKey(base58: m)).map { (.init(solana: $0.bytes), t) }
            }
        }
        for c in chains {
            if let i = id(c), let (a, _) = token(c.name, c.wrappedNative) { natives[i] = a }
        }
        for r in registry.bridges {
            guard let from = chains.first(where: { $0.name == r.from }), let to = chains.first(where: { $0.name == r.to }),
                  let fromID = id(from), let toID = id(to) else { continue }
            let stables = ["USDC", "USDT", "DAI"].filter { token(from.name, $0) != nil && token(to.name, $0) != nil }
            guard let quote = stables.first, let (qa, qt) = token(from.name, quote), let (qb, _) = token(to.name, quote) else { continue }
            for symbol in r.tokens where !stables.contains(symbol) {
                guard let (aa, at) = token(from.name, symbol), let (ab, bt) = token(to.name, symbol) else { continue }
                var route = CrossChainDetector.Route(fromChain: fromID, toChain: toID, asset: (aa, ab), quote: (qa, qb), quoteDecimals: UInt8(clamping: qt.decimals),
                                                     feePips: UInt32(clamping: r.feePips), fixedFeeMicroUSD: Int64(r.fixedFeeCents) * 10_000,
                                                     latencySeconds: r.latencySeconds)
                // Wormhole: ⌊amount / 10^(d − 8)⌋ crosses, and the destination scales it back up to its decimals.
                let wire = r.protocol == .wormhole ? min(8, at.decimals, bt.decimals) : min(at.decimals, bt.decimals)
                route.assetScale = (at.decimals - wire, bt.decimals - wire)
                routes.append(route)
            }
        }
        return routes.isEmpty ? nil : CrossChainDetector.Configuration(routes: routes, wrappedNative: natives)
    }

    /// Solana's side for cross-chain detection: the watcher's decoded pools, each leg costed at
    /// `legLamports` (a signature, priority fee and tip, and the bridge program's own fee).
    static func solanaSide(_ watcher: SolanaPoolWatcher, legLamports: UInt64 = 100_000) -> @Sendable () async -> CrossChainService.SolanaState? {
        { [watcher] in
            guard let s = await watcher.snapshot() else { return nil }
            let listings = s.entries.map { e in
                CrossChainDetector.Listing(pool: e.pool, key: .init(solana: e.address.bytes), token0: .init(solana: e.mint0.bytes),
                                           token1: .init(solana: e.mint1.bytes), venue: 0)
            }
            return .init(chainID: Opportunity.solanaChainID, listings: listings, legLamports: legLamports, slot: s.slot, appliedAt: s.appliedAt)
        }
    }

    /// Per pool-flash source on the chain, the lowest tier of the pools it lends from (its
    /// factory's DEXs): detection's estimate of its fee (execution picks the pool, off the path,
    /// and charges its real tier).
    static func lowestV3Tiers(_ registry: Registry, _ chain: Chain) -> [FlashProtocol: UInt32] {
        var out: [FlashProtocol: UInt32] = [:]
        for s in registry.flashSources(on: chain.name) {
            guard let tier = registry.lendingDEXes(s).flatMap({ registry.dexes[$0].feesPips }).min().map({ UInt32(clamping: $0) }) else { continue }
            out[s.protocol] = min(out[s.protocol] ?? .max, tier)
        }
        return out
    }

    /// The active source with the lowest fee rate, then the least gas (as execution chooses);
    /// `.none` (own capital) when there is none. Pool-flash sources count at their lowest tier
    /// in `v3Tiers`, when known.
    static func cheapest(_ sources: [FlashSource], v3Tiers: [FlashProtocol: UInt32] = [:]) -> (Opportunity.FlashSource, AMMMath.FlashFee) {
        var best: (Opportunity.FlashSource, AMMMath.FlashFee)? = nil
        func gas(_ k: Opportunity.FlashSource) -> UInt64 { FlashLender.overheadGas(k) }
        for s in sources {
            guard let kind = kind(s.protocol), let fee = fee(s, v3Tier: v3Tiers[s.protocol]) else { continue }
            if best == nil || (fee.rate, gas(kind)) < (best!.1.rate, gas(best!.0)) { best = (kind, fee) }
        }
        return best ?? (.none, .none)
    }

    static func kind(_ p: FlashProtocol) -> Opportunity.FlashSource? {
        switch p {
        case .aaveV3: .aaveV3
        case .balancerV2: .balancerV2
        case .syncswap: .syncSwap
        case .daiFlashMint: .daiFlashMint
        // A PancakeSwap V3 pool lends as a Uniswap V3 pool does (its callback, pancakeV3FlashCallback,
        // is on the same executor, deployed with PancakeSwap's factory).
        case .uniswapV3Flash, .pancakeV3: .uniswapV3Flash
        }
    }

    /// The registry's fee as the lender computes it: Aave's in basis points (half up), a V3
    /// pool's tier (`v3Tier`) rounded up, the others as a 1e18 fraction.
    static func fee(_ s: FlashSource, v3Tier: UInt32? = nil) -> AMMMath.FlashFee? {
        let pips: Int
        switch s.fee {
        case .fixedPips(let p): pips = p
        case .onChain(_, let d): pips = d
        case .poolFeeTier: return v3Tier.map { .pips($0) }
        }
        if pips == 0 { return AMMMath.FlashFee.none }
        if s.protocol == .aaveV3 { return .aave(bps: UInt32(pips / 100)) }
        return .wadFraction(UInt256(UInt64(pips)) * UInt256(1_000_000_000_000))
    }
}
