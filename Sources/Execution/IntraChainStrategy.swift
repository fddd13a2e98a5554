import EVMPrimitives
import Opportunities

/// The executor's own capital (`DirectArbitrage`): no fee and less gas than any loan, when the
/// contract holds the input.
public struct IntraChainStrategy: Strategy {
    public let name = "intra-chain"
    public init() {}

    public func plan(_ o: Opportunity, _ q: Requote, _ c: StrategyContext) async -> Result<TradePlan, Refusal> {
        guard let direct = c.direct, let asset = o.path.first?.tokenIn else { return .failure(Refusal("strategy", "noCapital")) }
        guard let held = await c.directBalance(asset, q.block), held >= o.amountIn else {
            return .failure(Refusal("strategy", "noCapital", "the own-capital executor holds less than \(o.amountIn)"))
        }
        return FlashLoanStrategy.plan(o, q, executor: direct, fee: .zero, flash: nil, strategy: name, deadline: c.deadline)
    }
}

extension StrategyFactory {
    /// Intra-chain kinds (cross-DEX, triangular, multi-leg, statistical, CEX–DEX): own capital
    /// when the executor holds the input (cheaper than any loan), else a flash loan.
    static let intraChain: Maker = { _, _ in .success([IntraChainStrategy(), FlashLoanStrategy()]) }
}
