/// A detector process and the chains it watches.
package struct Partition: Hashable, Sendable {
    package var id: String
    package var name: String
    package var chains: [String]
    package var memoryBudgetMB: Int
    /// Expected resident memory per chain, which the budget must cover.
    package var perChainMB: Int
    package var region: String?
}

/// A cross-chain transfer route and its cost model.
package struct BridgeRoute: Hashable, Sendable {
    package var `protocol`: BridgeProtocol
    package var from: String
    package var to: String
    package var tokens: [String]
    /// Proportional fee in pips (1e-6) of the amount.
    package var feePips: Int
    /// Fixed cost in USD cents (relayer gas, messaging).
    package var fixedFeeCents: Int
    /// Expected seconds from send to funds usable on `to`.
    package var latencySeconds: Int
    package var verified: Bool
    package var note: String?
}

package enum BridgeProtocol: String, CaseIterable, Sendable, Codable {
    case stargate
    case stargateV2
    case across
    case canonical
    /// The lab's liquidity-bridge double (`MockBridge`: `deposit`, relayer `fill`).
    case lab
}

/// A Binance symbol and the tokens it prices.
package struct CEXSymbol: Hashable, Sendable {
    package var symbol: String
    package var base: String
    package var quote: String
    /// Token symbols on chains whose price this ticker gives (WETH for ETH …).
    package var tokens: [String]
    /// Delisted symbols kept for the record (MATICUSDT → POLUSDT).
    package var replacedBy: String?
}

/// A statistical-arbitrage pair by token symbols.
package struct StatArbPair: Hashable, Sendable {
    package var base: String
    package var quote: String
}
