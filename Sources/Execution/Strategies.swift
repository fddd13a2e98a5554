import EVMPrimitives
import Opportunities

/// A trade ready to sign: which contract to call with what, and what it must return.
public struct TradePlan: Sendable {
    public var strategy: String
    public var executor: Address
    public var calldata: [UInt8]
    public var asset: Address
    public var amount: UInt256
    /// What the executor keeps (its `execute` return): output − input − flash fee, on current state.
    public var expectedProfit: UInt256
    /// The same by detection's numbers: its gross profit less the chosen lender's fee.
    public var detectedProfit: Int256
    public var flash: FlashQuote?
    /// Signed transactions that go ahead of ours in the bundle (a backrun's target).
    public var bundlePrefix: [[UInt8]] = []

    public init(strategy: String, executor: Address, calldata: [UInt8], asset: Address, amount: UInt256, expectedProfit: UInt256,
                detectedProfit: Int256, flash: FlashQuote?, bundlePrefix: [[UInt8]] = []) {
        self.strategy = strategy
        self.executor = executor
        self.calldata = calldata
        self.asset = asset
        self.amount = amount
        self.expectedProfit = expectedProfit
        self.detectedProfit = detectedProfit
        self.flash = flash
        self.bundlePrefix = bundlePrefix
    }
}

/// Why a strategy will not trade an opportunity.
public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var stage: String
    public var reason: String
    public var detail: String
    public init(_ stage: String, _ reason: String, _ detail: String = "") {
        self.stage = stage
        self.reason = reason
        self.detail = detail
    }
    public var description: String { detail.isEmpty ? "\(stage): \(reason)" : "\(stage): \(reason) (\(detail))" }
}

/// What a strategy needs to plan on one chain.
public struct StrategyContext: Sendable {
    public var flash: FlashProviders?
    /// Our own-capital executor (`DirectArbitrage`) and what it holds, if any.
    public var direct: Address?
    public var directBalance: @Sendable (_ asset: Address, _ block: UInt64) async -> UInt256?
    /// Seconds since the epoch after which the contract reverts.
    public var deadline: UInt64

    public init(flash: FlashProviders?, direct: Address?, directBalance: @escaping @Sendable (Address, UInt64) async -> UInt256?, deadline: UInt64) {
        self.flash = flash
        self.direct = direct
        self.directBalance = directBalance
        self.deadline = deadline
    }
}

/// Turns an opportunity and its path quoted on current state into a `TradePlan`.
public protocol Strategy: Sendable {
    var name: String { get }
    func plan(_ o: Opportunity, _ q: Requote, _ c: StrategyContext) async -> Result<TradePlan, Refusal>
}

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

/// Resolves an opportunity to its strategy: own capital when the executor holds the input
/// (cheaper than any loan), else a flash loan; a backrun when its target is known. Cross-chain
/// trades belong to `CrossChainExecutor` (the execution service routes them there when one is
/// configured); Solana refuses until its executor exists (the factory is where it plugs in).
public struct StrategyFactory: Sendable {
    /// Opportunity id → the signed target transaction of a backrun.
    public var backrunTargets: [[UInt8]: [UInt8]] = [:]
    public init() {}

    public func strategies(for o: Opportunity) -> Result<[any Strategy], Refusal> {
        switch o.kind {
        case .crossDex, .triangular, .multiLeg, .statistical, .cexDexSpread:
            return .success([IntraChainStrategy(), FlashLoanStrategy()])
        case .backrun:
            guard let t = backrunTargets[o.id] else { return .failure(Refusal("strategy", "noBackrunTarget")) }
            return .success([BackrunStrategy(target: t, inner: FlashLoanStrategy())])
        case .crossChain:
            return .failure(Refusal("strategy", "crossChainNotWired", "no cross-chain executor is configured"))
        case .solana:
            return .failure(Refusal("strategy", "solanaNotWired"))
        }
    }
}
