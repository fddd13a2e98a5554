import AMMMath
import EVMPrimitives
import Execution
import Opportunities

/// Execution simulated on recorded state, through the production decisions: each opportunity
/// goes through the `ExecutionCore` (validation, dedup, pool and sender locks, staleness, the risk
/// gate, the re-quote that must come back exactly as detected) on the chain's replayed state at the
/// moment it was detected; then the lender's fee, the L1 data fee where the chain charges one, and
/// the inclusion rule. A trade lands in the block after the state it was quoted on and holds its
/// locks until the replay reaches that block, as a live one does.
///
/// What it cannot know: the recorded markets do not move for trades the live run did not make
/// (no impact of a candidate's own extra trades), gas is detection's estimate (the live receipt's
/// `gasUsed` is not recorded), and no competitor is seen beyond what the latency budget models.
public struct Backtester {
    public struct Configuration: Sendable {
        public enum Inclusion: Sendable, Equatable {
            /// Every trade that passes lands in the next block.
            case nextBlock
            /// Each lands with this probability, decided by its id and the seed (reproducible).
            case probability(Double)
        }

        public var inclusion: Inclusion = .nextBlock
        public var seed: UInt64 = 1
        /// A decision later than this after the head arrived (ns) is outrun.
        public var latencyBudget: UInt64? = nil
        /// Added to the recorded base fee (wei).
        public var priorityFee: UInt256 = 1_000_000_000
        public var core = ExecutionCore.Configuration()
        /// Per chain: the L1 data fee it charges (chains the core marks `l1Fee`).
        public var l1Fees: [UInt64: L1DataFee] = [:]
        /// Per chain and asset: the lenders that lend it, each with its fee; the cheapest on the
        /// amount is taken (then the least overhead gas), as `FlashProviders.cheapest` does live.
        public var lenders: [UInt64: [Address: [Lender]]] = [:]
        public init() {}
    }

    public struct Lender: Sendable {
        public var source: Opportunity.FlashSource
        public var fee: FlashFee
        public init(source: Opportunity.FlashSource, fee: FlashFee) {
            self.source = source
            self.fee = fee
        }
    }

    public struct Trade: Sendable {
        public var id: [UInt8]
        public var chainID: UInt64
        public var kind: Opportunity.Kind
        public var flashSource: Opportunity.FlashSource
        public var asset: Address
        public var amountIn: UInt256
        /// The block it was sized on, and the one it lands in.
        public var sized: UInt64
        public var landed: UInt64
        /// What the executor keeps: output − input − the lender's fee (the journal's "realized").
        public var profit: Int256
        public var gasUnits: UInt64
        public var gasPrice: UInt256
        public var l1FeeWei: UInt256
        /// Gas and L1 fee in the asset, at detection's own conversion (rounded up).
        public var costInAsset: UInt256
        public var net: Int256
        /// The net in USD (display only).
        public var usd: Double
        /// Head arrival to decision (ns).
        public var latency: UInt64
        public var at: UInt64
    }

    public let configuration: Configuration
    public private(set) var core: ExecutionCore
    public private(set) var trades: [Trade] = []
    public private(set) var refusals: [String: Int] = [:]
    public private(set) var offered = 0
    /// Every opportunity offered, re-quoted on the state it was offered on before any lock: what
    /// the executor would keep (nil: the path does not quote there).
    public private(set) var valuations: [[UInt8]: Int256] = [:]
    private var open: [(lease: ExecutionCore.Lease, trade: Trade, micro: Int64)] = []

    public init(configuration: Configuration, chains: [UInt64: ExecutionCore.Chain]) {
        self.configuration = configuration
        core = ExecutionCore(configuration: configuration.core, chains: chains)
    }

    public var inFlight: Int { open.count }

    /// The chain's replayed state is now `state`: the trades landing by its block land.
    public mutating func advance(_ state: ChainState, now: UInt64) {
        var kept: [(lease: ExecutionCore.Lease, trade: Trade, micro: Int64)] = []
        for t in open {
            guard t.trade.chainID == state.chainID, t.trade.landed <= state.block else { kept.append(t); continue }
            core.end(t.lease, .landed(realisedMicroUSD: t.micro), now: now)
            trades.append(t.trade)
        }
        open = kept
    }

    /// The recording is over: the trades in flight land in the block they were sent for.
    public mutating func finish(now: UInt64) {
        for t in open {
            core.end(t.lease, .landed(realisedMicroUSD: t.micro), now: now)
            trades.append(t.trade)
        }
        open = []
    }

    /// An opportunity detected at `now` (epoch ns) while the chain's state was `state`.
    public mutating func offer(_ o: Opportunity, state: ChainState, now: UInt64) {
        offered += 1
        let lender = cheapest(o)
        if case .success(let q) = Requote.quote(o.path, amountIn: o.amountIn, on: state), let (_, f) = lender {
            valuations[o.id] = Int256(bitPattern: q.amountOut) &- Int256(bitPattern: o.amountIn) &- Int256(bitPattern: f)
        }
        switch attempt(o, state: state, now: now, lender: lender) {
        case .failure(let r): refusals["\(r.stage):\(r.reason)", default: 0] += 1
        case .success(let t): open.append(t)
        }
    }

    /// The lender a live trade would take for `o`'s input and its fee on it; nil when none can lend it.
    func cheapest(_ o: Opportunity) -> (source: Opportunity.FlashSource, fee: UInt256)? {
        guard let chain = o.chains.first, let asset = o.path.first?.tokenIn, let list = configuration.lenders[chain]?[asset] else { return nil }
        return list.compactMap { l in l.fee.fee(on: o.amountIn).map { (l.source, $0) } }
            .min { ($0.1, FlashLender.overheadGas($0.0)) < ($1.1, FlashLender.overheadGas($1.0)) }
    }

    private mutating func attempt(_ o: Opportunity, state: ChainState, now: UInt64, lender: (source: Opportunity.FlashSource, fee: UInt256)?)
        -> Result<(lease: ExecutionCore.Lease, trade: Trade, micro: Int64), Refusal> {
        var lease: ExecutionCore.Lease
        switch core.receive(o) {
        case .failure(let r): return .failure(r)
        case .success(let l): lease = l
        }
        switch core.staleness(lease, o, state: state, now: now, waitedOut: true) {
        case .ready: break
        case .refused(let r): return .failure(r)  // released by the core
        case .waitFor(let block): return .failure(core.end(lease, .withdrawn, Refusal("stale", "behind", "sized at \(block)"), now: now))
        }
        let latency = now &- o.timestamps.eventReceived
        if let budget = configuration.latencyBudget, o.timestamps.eventReceived > 0, latency > budget {
            return .failure(core.end(lease, .withdrawn, Refusal("inclusion", "outrun", "decided \(latency) ns after the head"), now: now))
        }
        let base = state.baseFee ?? .zero
        let gas = GasOracle.Quote(baseFee: base, maxPriorityFeePerGas: configuration.priorityFee,
                                  maxFeePerGas: base &* UInt256(2) &+ configuration.priorityFee)
        let requote: Requote
        switch core.price(&lease, o, gas: .success(gas), state: state, now: now) {
        case .failure(let r): return .failure(r)
        case .success(let (_, q)): requote = q
        }
        guard let (source, f) = lender else {
            return .failure(core.end(lease, .withdrawn, Refusal("strategy", "noFlashSource", "no lender of the input"), now: now))
        }
        let (afterInput, under) = requote.amountOut.subtractingReportingOverflow(o.amountIn)
        let (expected, under2) = afterInput.subtractingReportingOverflow(f)
        guard !under, !under2, !expected.isZero else {
            return .failure(core.end(lease, .withdrawn, Refusal("requote", "unprofitable", "output \(requote.amountOut), input \(o.amountIn), fee \(f)"), now: now))
        }
        let asset = o.path[0].tokenIn
        let calldata = ExecutorCall.calldata(asset: asset, amount: o.amountIn, steps: requote.steps, minProfit: expected, deadline: 0)
        let plan = TradePlan(strategy: "backtest", executor: .zero, calldata: calldata, asset: asset, amount: o.amountIn, expectedProfit: expected,
                             detectedProfit: o.grossProfit &- Int256(bitPattern: f), flash: nil)
        var l1 = UInt256.zero
        if core.chains[lease.chainID]?.l1Fee == true, let model = configuration.l1Fees[lease.chainID] {
            // The signed transaction: the calldata and its envelope (nonce, gas fields, to, value,
            // signature: about 110 bytes, counted as non-zero).
            l1 = model.fee(for: calldata + [UInt8](repeating: 0xff, count: 110)) ?? .max
            if let r = ExecutionCore.l1Fee(l1, o, plan) { return .failure(core.end(lease, .withdrawn, r, now: now)) }
        }
        if case .probability(let p) = configuration.inclusion, Self.draw(o.id, seed: configuration.seed) >= p {
            return .failure(core.end(lease, .failed, Refusal("inclusion", "notIncluded"), now: now))
        }
        let price = gas.expectedGasPrice
        let costWei = UInt256(o.gasUnits) &* price &+ l1
        let cost = ExecutionCore.inAsset(wei: costWei, o, plan) ?? .zero
        let profit = Int256(bitPattern: expected)
        let net = profit &- Int256(bitPattern: min(cost, UInt256.max.shiftedRight(by: 1)))
        let usd = Self.usd(o, profit: profit, costWei: costWei)
        let trade = Trade(id: o.id, chainID: lease.chainID, kind: o.kind, flashSource: source, asset: asset, amountIn: o.amountIn,
                          sized: o.blockNumber, landed: state.block &+ 1, profit: profit, gasUnits: o.gasUnits, gasPrice: price, l1FeeWei: l1,
                          costInAsset: cost, net: net, usd: usd, latency: latency, at: now)
        return .success((lease, trade, Int64(usd * 1e6)))
    }

    /// The trade's net in USD at detection's valuation: its gross scaled to what it keeps, less
    /// its gas scaled to the price paid.
    static func usd(_ o: Opportunity, profit: Int256, costWei: UInt256) -> Double {
        let gross = o.grossProfit.doubleValue
        let grossUSD = gross > 0 ? Double(o.grossProfitMicroUSD) * profit.doubleValue / gross : 0
        let gasUSD = o.gasCostWei.isZero ? 0 : Double(o.grossProfitMicroUSD &- o.netProfitMicroUSD) * costWei.doubleValue / o.gasCostWei.doubleValue
        return (grossUSD - gasUSD) / 1e6
    }

    /// A number in [0, 1) from the id and the seed: the same trade draws the same everywhere.
    static func draw(_ id: [UInt8], seed: UInt64) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in id {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return Double(h >> 11) / Double(1 << 53)
    }
}
