import Execution
import Foundation
import JSONRPC
import Logging
import Opportunities
import Registry
import SolanaClient
import SolanaExecution
import SolanaPrimitives

/// How `arbiter run --execute` trades Solana (design item #29), from the registry: the `solana`
/// chain enabled with execution on, its RPC providers (or `[chains.solana] rpc`) behind a
/// provider pool, `[solana]`'s Jupiter and Jito endpoints and terms, and the wallet's key from
/// `ARBITER_SOLANA_KEY` (a 32-byte Ed25519 seed in 0x-hex); nil when any is missing.
enum SolanaPlan {
    static func executor(_ registry: Registry, environment: [String: String], journal: Journal, logger: Logger) async throws -> SolanaExecutor? {
        guard let chain = registry.chains.first(where: { $0.kind == .solana && $0.enabled && $0.execution }) else { return nil }
        guard let seed = environment[SolanaKeyOptions.environmentVariable], !seed.isEmpty else { return nil }
        let wallet = try SolanaKeyOptions.keypair(seed, source: "$" + SolanaKeyOptions.environmentVariable)
        let http = registry.endpoints(for: chain, environment: environment).compactMap { e in
            e.http.map { (name: e.provider, transport: HTTPTransport(url: $0) as any RPCTransport) }
        }
        guard !http.isEmpty else { throw CLIError("solana has no HTTP RPC endpoint (add one: [chains.solana] rpc = [...])") }
        let s = registry.solana
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
        let key = s.jupiterKeyEnv.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        return SolanaExecutor(configuration: c, chainID: Opportunity.solanaChainID, wallet: wallet, rpc: SolanaRPC(RPCClient(ProviderPool(http))),
                              jupiter: JupiterClient(base: s.jupiter, apiKey: key, perSecond: s.jupiterRate, burst: max(1, s.jupiterRate)),
                              jito: JitoClient(engine: engine), journal: journal, logger: logger)
    }
}
