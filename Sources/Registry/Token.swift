import EVMPrimitives

package enum TokenTag: String, CaseIterable, Sendable, Codable {
    case stable
    case native
    /// The wrapped native token (WETH, WBNB …).
    case wrapped
    /// Liquid staking token.
    case lst
    /// A bridged representation (USDC.e): may trade off its canonical twin.
    case bridged
}

/// Where a token lives: an EVM contract or a Solana mint.
package enum TokenAddress: Hashable, Sendable, CustomStringConvertible {
    case evm(Address)
    case solana(String)

    package var description: String {
        switch self {
        case .evm(let a): a.checksummed
        case .solana(let m): m
        }
    }
}

package struct Token: Hashable, Sendable {
    package var chain: String
    package var symbol: String
    package var address: TokenAddress
    package var decimals: Int
    package var tags: Set<TokenTag>
    package var enabled: Bool
    package var file: String
}
