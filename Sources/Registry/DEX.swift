import EVMPrimitives

/// The pool model a DEX uses, which decides how it is priced and how its pools are found.
package enum DEXKind: String, CaseIterable, Sendable, Codable {
    case uniswapV2
    case uniswapV3
    case pancakeV3
    /// Algebra V1.x (QuickSwap V3, Camelot V3): dynamic fee, `globalState()`.
    case algebra
    /// Algebra Integral (Kim V4).
    case algebraIntegral
    /// Solidly / Velodrome: volatile (x·y) and stable (x³y + y³x) pools.
    case solidly
    case curve
    case balancerV2
    case syncswap
    case traderJoeLB
    case ambient
    case maverick
    case kyberElastic
    /// Vault-priced venues (GMX, Platypus): oracle or coverage-ratio pricing.
    case vault
    case solanaAggregator
    case raydiumAMM
    case raydiumCLMM
    case orcaWhirlpool
    case meteoraDLMM
    case phoenix
    case lifinity

    /// Pools are `CREATE2` addresses that can be derived offline from a deployer and init-code hash.
    package var derivesPools: Bool {
        switch self {
        case .uniswapV2, .uniswapV3, .pancakeV3, .algebra, .algebraIntegral, .solidly: true
        default: false
        }
    }
}

package struct DEX: Hashable, Sendable {
    package var name: String
    package var chain: String
    package var kind: DEXKind
    package var factory: Address?
    package var router: Address?
    /// The address in the CREATE2 derivation (the factory unless the DEX splits a deployer off).
    package var poolDeployer: Address?
    package var initCodeHash: UInt256?
    /// Fee tiers in pips (1e-6): 3000 = 0.3%. Empty when fees are per pool and read on-chain.
    package var feesPips: [Int]
    package var quoter: Address?
    /// Solana program id (base58).
    package var program: String?
    /// Arbitrage can size and price this DEX's pools with `AMMMath`.
    package var priceable: Bool
    /// Addresses confirmed against a strong source; false marks weakly sourced entries.
    package var verified: Bool
    package var enabled: Bool
    package var note: String?
    package var file: String
}
