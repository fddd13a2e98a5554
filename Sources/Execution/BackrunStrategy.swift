import EVMPrimitives
import Opportunities

/// A bundle that lands right after a target transaction (the CoW settlement backruns of later
/// work): the target's signed bytes go first, the trade (planned by `inner`) second.
public struct BackrunStrategy: Strategy {
    public let name = "backrun"
    public let target: [UInt8]
    public let inner: any Strategy

    public init(target: [UInt8], inner: any Strategy) {
        self.target = target
        self.inner = inner
    }

    public func plan(_ o: Opportunity, _ q: Requote, _ c: StrategyContext) async -> Result<TradePlan, Refusal> {
        await inner.plan(o, q, c).map { p in
            var p = p
            p.strategy = name
            p.bundlePrefix = [target]
            return p
        }
    }
}

extension StrategyFactory {
    /// A backrun behind its target's signed bytes (the opportunity's `backrun` section), over a flash loan.
    static let backrun: Maker = { o, _ in
        guard let b = o.backrun else { return .failure(Refusal("strategy", "noBackrunTarget")) }
        return .success([BackrunStrategy(target: b.targetRaw, inner: FlashLoanStrategy())])
    }
}
