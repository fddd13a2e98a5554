import EVMPrimitives

/// How a chain's transactions reach a block without being front-run.
package enum MEVMode: String, CaseIterable, Sendable, Codable {
    /// Flashbots bundles (eth_sendBundle / mev_sendBundle) to builders.
    case flashbots
    /// bloXroute private transactions / bundles (BSC).
    case bloxroute
    /// Polygon FastLane (PFL) auction.
    case fastlane
    /// Arbitrum Timeboost express lane.
    case timeboost
    /// Flashbots Protect for L2s (Base).
    case flashbotsProtectL2 = "flashbots-protect-l2"
    /// A single sequencer orders transactions first-come first-served; no public mempool to front-run from.
    case sequencer
    /// Jito bundles (Solana).
    case jito
    /// No protection exists: the public mempool.
    case `public`
}

package enum ChainKind: String, CaseIterable, Sendable, Codable {
    case evm
    case solana
}

/// An RPC provider's URL templates. `{network}` is the chain's slug for that provider,
/// `{key}` the API key read from `keyEnv`; a provider whose key is absent is skipped.
package struct RPCProvider: Hashable, Sendable, Codable {
    package var name: String
    package var keyEnv: String?
    package var http: String
    package var ws: String?
}

/// A resolved endpoint, ready to dial.
package struct RPCEndpoint: Hashable, Sendable, Codable {
    package var provider: String
    package var http: String?
    package var ws: String?
}

package struct Chain: Hashable, Sendable {
    package var name: String
    /// EIP-155 chain id; nil for Solana.
    package var id: UInt64?
    package var kind: ChainKind
    package var nativeSymbol: String
    /// Symbol of the wrapped native token in this chain's token list.
    package var wrappedNative: String
    package var blockTimeMs: Int
    /// Blocks of undo data kept for reorgs.
    package var reorgDepth: Int
    /// Provider name → the chain's slug in that provider's URL template.
    package var providerNetworks: [String: String]
    /// The chain's own public endpoint, tried after the providers.
    package var publicRPC: RPCEndpoint?
    /// User-supplied endpoints, tried first.
    package var userRPC: [RPCEndpoint]
    package var multicall3: Address?
    package var partition: String
    package var execution: Bool
    package var mev: MEVMode
    package var mevNote: String?
    /// Whether any flash-loan source is expected; false needs `flashLoanNote` saying why.
    package var flashLoans: Bool
    package var flashLoanNote: String?
    package var enabled: Bool
    /// Arbiter's executor contracts on this chain (a user's deployment), by lender protocol
    /// (`FlashProtocol` raw value) and "direct" for the own-capital one.
    package var executors: [String: Address] = [:]
    /// Where bundles or private transactions go (a Flashbots relay, a sequencer's private RPC);
    /// nil: the MEV mode's well-known endpoint, or the chain's own RPC.
    package var relay: String? = nil
    /// An OP-stack GasPriceOracle (`getL1Fee(bytes)` over the unsigned transaction): the L1 data
    /// fee every transaction pays on top of L2 gas. Nil where there is none.
    package var l1FeeOracle: Address? = nil
    /// CoW Protocol's GPv2Settlement on this chain, where it is deployed (backruns of its settlements).
    package var cowSettlement: Address? = nil
    /// The bridge our cross-chain executor deposits into here, and whose fills arrive here
    /// (`deposit(token, amount, dest_chain, recipient)`, the lab's `MockBridge` shape).
    package var bridge: Address? = nil
    /// The data file this chain came from, for error messages.
    package var file: String
}
