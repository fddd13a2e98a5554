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
