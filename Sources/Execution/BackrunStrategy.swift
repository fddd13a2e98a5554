import EVMPrimitives
import MarketWatch
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

extension ExecutionEngine {
    /// Which transaction a submitted backrun's bundle runs behind: journaled with the submission.
    func journalTarget(_ t: Signed, block: UInt64) {
        guard let b = t.o.backrun else { return }
        try? journal.decision(t.o.id, chain: t.chain.chainID, stage: "backrun", outcome: "submitted", reason: "target",
                              detail: "\(Hex.encode(b.targetHash)) from \(b.sender.checksummed), block \(block)", at: WallClock.nanoseconds())
        report.backruns += 1
    }
}
