import EVMPrimitives
import Opportunities

/// Borrows the input from the cheapest lender that can lend it (fee on the amount, then gas),
/// as read on-chain by `FlashProviders`, and runs the path through that lender's executor. A V3
/// pool on the path cannot lend (it is locked during its own flash).
public struct FlashLoanStrategy: Strategy {
    public let name = "flash-loan"
    public init() {}

    public func plan(_ o: Opportunity, _ q: Requote, _ c: StrategyContext) async -> Result<TradePlan, Refusal> {
        guard let asset = o.path.first?.tokenIn else { return .failure(Refusal("strategy", "invalid")) }
        guard let flash = c.flash, let quote = await flash.cheapest(asset: asset, amount: o.amountIn, block: q.block, avoiding: Set(q.steps.map(\.pool))) else {
            return .failure(Refusal("strategy", "noFlashSource", "no lender can lend \(o.amountIn) of \(asset.checksummed)"))
        }
        return Self.plan(o, q, executor: quote.lender.executor, fee: quote.fee, flash: quote, strategy: name, deadline: c.deadline)
    }

    static func plan(_ o: Opportunity, _ q: Requote, executor: Address, fee: UInt256, flash: FlashQuote?, strategy: String, deadline: UInt64) -> Result<TradePlan, Refusal> {
        let asset = o.path[0].tokenIn
        let (afterInput, under) = q.amountOut.subtractingReportingOverflow(o.amountIn)
        let (expected, under2) = afterInput.subtractingReportingOverflow(fee)
        guard !under, !under2, !expected.isZero else {
            return .failure(Refusal("requote", "unprofitable", "output \(q.amountOut) for input \(o.amountIn) and fee \(fee)"))
        }
        // The contract reverts unless it keeps at least `expected`: what lands is what was planned.
        let data = ExecutorCall.calldata(asset: asset, amount: o.amountIn, steps: q.steps, minProfit: expected, deadline: deadline, lendingPool: flash?.pool)
        return .success(TradePlan(strategy: strategy, executor: executor, calldata: data, asset: asset, amount: o.amountIn, expectedProfit: expected,
                                  detectedProfit: o.grossProfit &- Int256(bitPattern: fee), flash: flash))
    }
}
