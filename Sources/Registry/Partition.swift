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
    /// Wormhole's token bridge (lock and mint, amounts carried at 8 decimals at most).
    case wormhole
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

/// Where the CEX feed connects and how its prices are used. Off by default: without it no CEX
/// price is read and everything runs as without CEX input.
package struct CEXFeedSettings: Hashable, Sendable {
    package var enabled = false
    /// Binance's market-data streams and REST API (or a stand-in's).
    package var stream = "wss://data-stream.binance.vision"
    package var rest = "https://api.binance.com"
    /// CEX–DEX spreads are traded beyond the pool's fee, the gas and this many basis points.
    package var thresholdBps = 30
    /// A book older than this is not used.
    package var maxAgeMillis = 10_000
    package init() {}
}

/// Backruns of CoW settlements (`[cow]` in arbiter.toml): off unless turned on (they need a node
/// that announces pending transactions).
package struct CowSettings: Hashable, Sendable {
    package var enabled = false
    /// Settlements trading less than this many dollars are not looked at.
    package var minVolumeUSD = 50_000
    package init() {}
}

/// Solana execution (`[solana]` in arbiter.toml): Jupiter's swap API, a Jito block engine, and the
/// strategy's terms. The cluster's RPC comes from the `solana` chain's providers (or its `rpc`).
package struct SolanaSettings: Hashable, Sendable {
    /// Jupiter's `/swap/v1` base. api.jup.ag takes no call without a key since the keyless
    /// lite-api.jup.ag closed (31 Jan 2026); the free tier's key allows 60 calls a minute.
    package var jupiter = "https://api.jup.ag/swap/v1"
    /// The environment variable holding the plan's key (sent as `x-api-key`).
    package var jupiterKeyEnv: String? = "JUPITER_API_KEY"
    /// Calls a second the plan allows (the lite API: about one).
    package var jupiterRate = 1.0
    /// A Jito block engine (a region's).
    package var jito = "https://mainnet.block-engine.jito.wtf"
    /// Regions to choose from at start (the fastest to answer); empty: `jito` as given.
    package var jitoRegions: [String] = []
    /// Jito's tip floor endpoint (the tip is at least its median), or nil.
    package var tipFloor: String? = nil
    /// Send plainly when the block engine cannot be reached.
    package var fallbackToRPC = true
    package var slippageBps = 50
    /// The tip as this share of the simulated gross profit (basis points).
    package var tipBps = 1_000
    /// The least net profit after fee and tip, in the input mint's raw units.
    package var minProfit = 10_000
    /// Detection: the largest round trip sized, in lamports of wrapped SOL (its start and end).
    package var maxIn = 100_000_000_000
    package init() {}
}

/// A statistical-arbitrage pair by token symbols.
package struct StatArbPair: Hashable, Sendable {
    package var base: String
    package var quote: String
}
