import Opportunities

/// Resolves an opportunity to its strategies, by kind: each kind's file registers how it is
/// traded (`IntraChainStrategy`, `BackrunStrategy`); a new kind adds a file and a registration,
/// nothing in the core. Cross-chain trades belong to `CrossChainExecutor` and statistical
/// positions to `StatisticalArbitrageStrategy` (positions held across blocks, on own inventory:
/// not an atomic trade), CEX–DEX trades to `CexDexExecutor` (own inventory, with a hedge on the
/// exchange); the execution service routes them there when configured. Solana
/// refuses until its executor exists.
public struct StrategyFactory: Sendable {
    /// How an opportunity of one kind is traded: its strategies in order of preference, or why not.
    public typealias Maker = @Sendable (Opportunity, StrategyFactory) -> Result<[any Strategy], Refusal>

    private var makers: [Opportunity.Kind: Maker] = [:]

    public init() {
        for kind: Opportunity.Kind in [.crossDex, .triangular, .multiLeg] { register(kind, Self.intraChain) }
        register(.cexDexSpread) { _, _ in .failure(Refusal("strategy", "cexDexNotWired", "no CEX–DEX executor is configured")) }
        register(.statistical) { _, _ in .failure(Refusal("strategy", "statisticalNotWired", "no position executor is configured")) }
        register(.backrun, Self.backrun)
        register(.crossChain) { o, _ in
            .failure(Refusal("strategy", "crossChainNotWired", "no cross-chain executor is configured" + (o.solana != nil ? " (one side is on Solana)" : "")))
        }
        register(.solana) { _, _ in .failure(Refusal("strategy", "solanaNotWired", "no Solana executor is configured")) }
    }

    /// How `kind` is traded from now on (replacing what was registered for it).
    public mutating func register(_ kind: Opportunity.Kind, _ make: @escaping Maker) { makers[kind] = make }

    public func strategies(for o: Opportunity) -> Result<[any Strategy], Refusal> {
        guard let make = makers[o.kind] else { return .failure(Refusal("strategy", "notWired", "no strategy is registered for \(o.kind.name)")) }
        return make(o, self)
    }
}
