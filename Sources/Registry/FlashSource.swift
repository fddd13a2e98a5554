import EVMPrimitives

package enum FlashProtocol: String, CaseIterable, Sendable, Codable {
    case aaveV3
    case balancerV2
    case syncswap
    case daiFlashMint
    case pancakeV3
    case uniswapV3Flash

    /// The DEX kind whose pools lend for a pool-flash protocol (`pool.flash`); nil for the others.
    package var lendingPoolKind: DEXKind? {
        switch self {
        case .uniswapV3Flash: .uniswapV3
        case .pancakeV3: .pancakeV3
        case .aaveV3, .balancerV2, .syncswap, .daiFlashMint: nil
        }
    }
}

/// How the fee is known: a fixed rate, the pool's own fee tier, or a value read on-chain.
package enum FlashFee: Hashable, Sendable {
    case fixedPips(Int)
    case poolFeeTier
    /// Read with this call before sizing, e.g. `FLASHLOAN_PREMIUM_TOTAL()`; `defaultPips` until read.
    case onChain(call: String, defaultPips: Int)
}

package enum Repayment: String, CaseIterable, Sendable, Codable {
    /// The lender pulls amount + fee with `transferFrom` (Aave, EIP-3156 standard, DssFlash).
    case lenderPulls = "lender-pulls"
    /// The borrower transfers amount + fee back before returning (Balancer, SyncSwap, V3 pools).
    case borrowerPushes = "borrower-pushes"
}

package enum FlashStatus: String, CaseIterable, Sendable, Codable {
    case active
    /// Kept for the record; never used (e.g. the sunset MCD_FLASH_LEGACY).
    case retired
}

package struct FlashSource: Hashable, Sendable {
    package var name: String
    package var chain: String
    package var `protocol`: FlashProtocol
    package var contract: Address
    package var fee: FlashFee
    package var repayment: Repayment
    /// Token symbols that can be borrowed; nil means any listed asset the lender holds.
    package var assets: [String]?
    package var status: FlashStatus
    package var note: String?
    package var file: String
}
