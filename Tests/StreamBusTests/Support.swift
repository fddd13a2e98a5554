import EVMPrimitives
import Opportunities

/// A small opportunity whose block number tells it apart.
func sample(_ n: UInt64) -> Opportunity {
    let hop = Opportunity.Hop(chainID: 1, pool: Address(truncating: UInt256(n + 100)), tokenIn: Address(truncating: 1),
                              tokenOut: Address(truncating: 2), venue: 1, amountOut: UInt256(n * 1000 + 7))
    let back = Opportunity.Hop(chainID: 1, pool: Address(truncating: 99), tokenIn: Address(truncating: 2),
                               tokenOut: Address(truncating: 1), venue: 2, amountOut: UInt256(n * 1000 + 9))
    return Opportunity(id: Opportunity.makeID(kind: .crossDex, blockNumber: n, path: [hop, back], amountIn: UInt256(n * 1000)),
                       kind: .crossDex, chains: [1], path: [hop, back], amountIn: UInt256(n * 1000), grossProfit: Int256(9),
                       netProfit: Int256(5), grossProfitMicroUSD: 9, netProfitMicroUSD: 5, gasUnits: 320_000, gasCostWei: 4,
                       flashSource: .balancerV2, blockNumber: n, timestamps: .init(eventReceived: n), expiresAt: n + 1,
                       confidence: 0.9)
}
