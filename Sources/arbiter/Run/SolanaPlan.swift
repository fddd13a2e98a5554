import Execution
import Foundation
import JSONRPC
import Logging
import MarketWatch
import Opportunities
import Registry
import SolanaClient
import SolanaExecution
import SolanaDetection
import SolanaPrimitives
import SolanaWatch
import StreamBus

/// How `arbiter run --execute` trades Solana (design item #29), from the registry: the `solana`
/// chain enabled with execution on, its RPC providers (or `[chains.solana] rpc`) behind a
/// provider pool, `[solana]`'s Jupiter and Jito endpoints and terms, and the wallet's key from
/// `ARBITER_SOLANA_KEY` (a 32-byte Ed25519 seed in 0x-hex); nil when any is missing.
enum SolanaPlan {
    /// Partition P4's detection (the `solana` chain enabled): a `SolanaPoolWatcher` over the
    /// chain's RPC providers that discovers only pools between the registry's enabled Solana
    /// tokens and, with a WebSocket endpoint, subscribes each account it follows (up to 1,000;
    /// a venue's program subscription would carry every pool of the venue from a mainnet node),
    /// with a poll every 20 slots behind them; without one it polls once a slot. Cycles start and end in wrapped SOL, sized up to `[solana] max_in`, published on P4
    /// when they clear `min_profit` after a transaction's expected fees. Nil when the chain is off.
    static func detection(_ registry: Registry, environment: [String: String], bus: any OpportunityBus, logger: Logger,
                          recorder: InputRecorder? = nil) throws -> SolanaPoolWatcher? {
        guard let chain = registry.chains.first(where: { $0.kind == .solana && $0.enabled }) else { return nil }
        let endpoints = registry.endpoints(for: chain, environment: environment)
        let http = endpoints.compactMap { e in
            e.http.map { (name: e.provider, transport: HTTPTransport(url: $0) as any RPCTransport) }
        }
        guard !http.isEmpty else { throw CLIError("solana has no HTTP RPC endpoint (add one: [chains.solana] rpc = [...])") }
        var mints: Set<PublicKey> = []
        for t in registry.tokens(on: chain.name) where t.enabled {
            guard case .solana(let m) = t.address else { continue }
            do {
                mints.insert(try PublicKey(base58: m))
            } catch {
                throw CLIError("solana token \(t.symbol): \(m) is not a public key")
            }
        }
        guard let sol = registry.token(chain.wrappedNative, on: chain.name), case .solana(let solMint) = sol.address,
              let start = try? PublicKey(base58: solMint) else {
            throw CLIError("solana: its wrapped native token \(chain.wrappedNative) is not listed")
        }
        let s = registry.solana
        // A signature's 5,000-lamport fee and as much again of priority fee; the tip is a share of the profit.
        let detector = SolanaCycleDetector.Configuration(starts: [start: .init(minProfit: UInt64(s.minProfit), maxIn: UInt64(s.maxIn), costs: 10_000)])
        let session = endpoints.lazy.compactMap(\.ws).first.map { WebSocketSession(url: $0) }
        return SolanaPoolWatcher(rpc: SolanaRPC(RPCClient(ProviderPool(http, chain: "solana"))), bus: bus,
                                 configuration: .init(detector: detector, interval: .milliseconds(max(chain.blockTimeMs, 50)), partition: chain.partition, mints: mints,
                                                      following: .accounts(limit: 1_000)),
                                 logger: logger, session: session, clock: { WallClock.nanoseconds() }, recorder: recorder?.solana(name: chain.name))
    }

    static func executor(_ registry: Registry, environment: [String: String], journal: Journal, logger: Logger) async throws -> SolanaExecutor? {
        guard let chain = registry.chains.first(where: { $0.kind == .solana && $0.enabled && $0.execution }) else { return nil }
        guard let seed = environment[SolanaKeyOptions.environmentVariable], !seed.isEmpty else { return nil }
        let wallet = try SolanaKeyOptions.keypair(seed, source: "$" + SolanaKeyOptions.environmentVariable)
        let http = registry.endpoints(for: chain, environment: environment).compactMap { e in
            e.http.map { (name: e.provider, transport: HTTPTransport(url: $0) as any RPCTransport) }
        }
        guard !http.isEmpty else { throw CLIError("solana has no HTTP RPC endpoint (add one: [chains.solana] rpc = [...])") }
        let s = registry.solana
        let key = s.jupiterKeyEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        if key == nil, URL(string: s.jupiter)?.host == "api.jup.ag" {
            throw CLIError("[solana] jupiter \(s.jupiter) answers only with an API key: set \(s.jupiterKeyEnv ?? "JUPITER_API_KEY") (a free one at portal.jup.ag), or point jupiter at your own")
        }
        var c = SolanaExecutor.Configuration()
        (c.slippageBps, c.tipBps, c.fallbackToRPC) = (UInt16(s.slippageBps), UInt64(s.tipBps), s.fallbackToRPC)
        c.risk.minProfit = Int64(s.minProfit)
        c.tipFloorURL = s.tipFloor
        var engine = s.jito
        if !s.jitoRegions.isEmpty {
            guard let fastest = await JitoClient.fastest(s.jitoRegions.map(JitoClient.regionURL)) else {
                throw CLIError("[solana] jito_regions: no block engine of \(s.jitoRegions.joined(separator: ", ")) answered")
            }
            engine = fastest
        }
        return SolanaExecutor(configuration: c, chainID: Opportunity.solanaChainID, wallet: wallet, rpc: SolanaRPC(RPCClient(ProviderPool(http, chain: "solana"))),
                              jupiter: JupiterClient(base: s.jupiter, apiKey: key, perSecond: s.jupiterRate, burst: JupiterClient.burst(perSecond: s.jupiterRate)),
                              jito: JitoClient(engine: engine), journal: journal, logger: logger)
    }
}
