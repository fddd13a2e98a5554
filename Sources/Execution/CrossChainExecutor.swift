import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// Cross-chain trades on own capital: buy the asset with the quote token on one chain and deposit
/// it into the bridge in the same transaction (`buy_and_bridge`); when the bridge fills on the
/// other chain, sell it back (`sell`). Every step is journaled as a `BridgeTransfer` before the
/// next begins, so a restart resumes each open one where it stood (`recover`).
///
/// Leg one must re-quote exactly as detected and simulate to exactly what it buys; the sale
/// (`+Settlement`) goes at exactly what the destination chain says it fetches, once that returns
/// at least the quote spent, at the market past `maxHoldNanoseconds` (the position is not held
/// open-ended), and is `held` after `maxSaleAttempts`. Transactions: `+Transactions`.
public actor CrossChainExecutor: OwnCapitalSender {
    public struct Configuration: Sendable {
        /// How each leg's transaction is sent and waited for.
        public var legs = LegSettings()
        /// Blocks a leg one in doubt (sent, no receipt yet) is still looked for before it counts as never landed.
        public var sendingBlocks: UInt64 = 20
        /// How long an arrived asset waits for a price that returns the quote spent.
        public var maxHoldNanoseconds: UInt64 = 600_000_000_000
        /// Sales tried (simulated or sent) for one arrived asset before it is `held`.
        public var maxSaleAttempts = 5
        /// How long a transfer in flight is watched for its fill before it is left open to the next start.
        public var maxFillWait: Duration = .seconds(1_800)
        /// How long a leg one in doubt is looked for before it is left open to the next start.
        public var maxLegOneWait: Duration = .seconds(600)
        /// Cancellations sent for one leg one in doubt, at most.
        public var maxCancellations = 3
        public init() {}

        public var gas: GasOracle.Configuration { get { legs.gas } set { legs.gas = newValue } }
        public var gasLimit: UInt64 { get { legs.gasLimit } set { legs.gasLimit = newValue } }
        public var maxPendingBlocks: UInt64 { get { legs.maxPendingBlocks } set { legs.maxPendingBlocks = newValue } }
        public var maxBundleBlocks: Int { get { legs.maxBundleBlocks } set { legs.maxBundleBlocks = newValue } }
        public var maxReceiptWait: Duration { get { legs.maxReceiptWait } set { legs.maxReceiptWait = newValue } }
        public var maxLockWait: Duration { get { legs.maxLockWait } set { legs.maxLockWait = newValue } }
        public var poll: Duration { get { legs.poll } set { legs.poll = newValue } }
    }

    public struct Report: Sendable {
        public var received = 0
        public var refused: [String: Int] = [:]
        public var lastRefusal: Refusal?
        public var transfers: [BridgeTransfer] = []
    }

    public let configuration: Configuration
    var settings: LegSettings { configuration.legs }
    let strategyName = "cross-chain"
    let legs: [UInt64: CrossChainLeg]
    /// Chains trades start on without an EVM leg (Solana), by chain id.
    let origins: [UInt64: any BridgeOrigin]
    /// Chains trades end on without an EVM leg (Solana), by chain id.
    let destinations: [UInt64: any BridgeDestination]
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    var nonces: [UInt64: NonceManager] = [:]
    var gas: [UInt64: GasOracle] = [:]
    var seen: Set<[UInt8]> = []
    /// The transfers being followed; each removes itself when it ends.
    var tasks = Followers()
    /// No new trades (settling before a stop).
    var closed = false
    /// Stopped: nothing is followed any more; what is open stays journaled for `recover`.
    var stopped = false
    /// Chains with a leg transaction outstanding: one at a time per chain and key (a bundle with
    /// the next nonce cannot land before the one ahead of it).
    var busy: Set<UInt64> = []
    /// Destination pools a leg one is being sent for (until its transfer is recorded).
    var buying: Set<SalePool> = []
    struct SalePool: Hashable { let chain: UInt64, pool: [UInt8] }
    /// Pools with a trade of ours on its way (this executor's legs, and the other executors' sharing them).
    let claims: PoolClaims
    public internal(set) var snapshot = Report()

    public static let buyAndBridge = try! FunctionSignature(
        "buy_and_bridge(address,uint256,(address,uint8,address,address,uint24)[],uint256,address,uint256,address,uint256) returns (uint256)")
    public static let buyAndBridgeTo = try! FunctionSignature(
        "buy_and_bridge_to(address,uint256,(address,uint8,address,address,uint24)[],uint256,address,uint256,bytes32,uint256) returns (uint256)")
    public static let sell = try! FunctionSignature("sell(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256) returns (uint256)")
    static let deposited = try! UInt256(bigEndian: Keccak256.hash(utf8: "Deposited(uint256,address,uint256,uint256,address,address)"))
    static let depositedTo = try! UInt256(bigEndian: Keccak256.hash(utf8: "DepositedTo(uint256,address,uint256,uint256,bytes32,address)"))
    static let filled = try! UInt256(bigEndian: Keccak256.hash(utf8: "Filled(uint256,uint256,address,address,uint256)"))

    public init(configuration: Configuration = .init(), legs: [CrossChainLeg], origins: [any BridgeOrigin] = [], destinations: [any BridgeDestination] = [],
                state: any ChainStateSource, journal: Journal, logger: Logger, claims: PoolClaims = PoolClaims()) {
        self.configuration = configuration
        self.claims = claims
        self.legs = Dictionary(uniqueKeysWithValues: legs.map { ($0.chainID, $0) })
        self.origins = Dictionary(uniqueKeysWithValues: origins.map { ($0.originChain, $0) })
        self.destinations = Dictionary(uniqueKeysWithValues: destinations.map { ($0.destinationChain, $0) })
        self.state = state
        self.journal = journal
        self.logger = logger
        for l in legs { nonces[l.chainID] = NonceManager(chain: l.chainID, sender: l.key.address, journal: journal, eth: l.eth) }
    }

    /// Settles the legs' nonces, then resumes every open transfer: one in flight waits for its
    /// fill, one arrived is sold. (A transfer still `sending` is looked up by its deposit.)
    public func recover() async throws -> Int {
        for n in nonces.values { _ = try await n.recover() }
        let open = try journal.transfers(open: true)
        for t in open {
            seen.insert(t.opportunity.id)
            snapshot.transfers.append(t)
            follow(t)
        }
        return open.count
    }

    /// Waits until every transfer this executor follows has settled, or `deadline` (or the
    /// caller's cancellation) comes first; then stops (see `stop`).
    public func drain(until deadline: ContinuousClock.Instant) async {
        await Followers.wait(until: deadline, poll: configuration.poll) { tasks.isEmpty }
        await stop(reason: "stopped while following it")
    }

    /// Takes no new trades and waits up to `limit` (or the caller's cancellation) for the open
    /// ones to settle (a held one does not count: it waits for the next start); then stops.
    public func settle(within limit: Duration) async {
        closed = true
        await Followers.wait(until: ContinuousClock.now + limit, poll: configuration.poll) { !snapshot.transfers.contains(where: \.isSettling) }
        await stop(reason: "not settled within \(limit) of the stop")
    }

    /// Stops following transfers: each task is cancelled and waited for (up to 2 s), and every
    /// transfer still open gets `reason` in its journaled record; the records stay open, and
    /// `recover` resumes them at the next start. Nothing is followed after this.
    public func stop(reason: String = "stopped") async {
        closed = true
        stopped = true
        tasks.cancelAll()
        await Followers.wait(until: ContinuousClock.now + .seconds(2), poll: .milliseconds(20), cancellable: false) { tasks.isEmpty }
        for t in snapshot.transfers where t.isOpen && !t.detail.hasPrefix("open at stop") {
            var open = t
            open.detail = "open at stop (\(reason)): \(t.status.rawValue)" + (t.detail.isEmpty ? "" : "; \(t.detail)")
            update(open)
        }
    }

    /// An opportunity that expired on the bus before it could be handled: journaled as received
    /// and refused `bus:expired`, and counted here as this executor's refusals are.
    public func expired(_ o: Opportunity, at now: UInt64) {
        try? journal.expired(o, at: now)
        snapshot.refused["bus:expired", default: 0] += 1
    }

    public func execute(_ o: Opportunity) async -> Result<Void, Refusal> {
        snapshot.received += 1
        let result = await first(o)
        if case .failure(let r) = result {
            snapshot.refused["\(r.stage):\(r.reason)", default: 0] += 1
            snapshot.lastRefusal = r
            try? journal.decision(o.id, chain: o.chains.first ?? 0, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail,
                                  at: WallClock.nanoseconds())
        }
        return result
    }

    // MARK: leg one

    /// Leg one: admitted, quoted again exactly as detected on our state, covered by the executor's
    /// capital, then bought and bridged in one transaction; its transfer is followed from there.
    func first(_ o: Opportunity) async -> Result<Void, Refusal> {
        try? journal.record(opportunity: o, receivedAt: WallClock.nanoseconds())
        let (source, destination, salePool): (CrossChainLeg?, CrossChainLeg?, SalePool)
        switch admit(o) {
        case .failure(let r): return .failure(r)
        case .success(let admitted): (source, destination, salePool) = admitted
        }
        buying.insert(salePool)
        defer { buying.remove(salePool) }
        if o.solana != nil, let origin = origins[o.chains[0]], let to = destination { return await firstFromOrigin(o, origin, to: to) }
        guard let from = source else { return .failure(Refusal("strategy", "crossChainNotConfigured", "no executor and bridge on chain \(o.chains[0])")) }
        let buy = o.path[0], now = WallClock.nanoseconds()
        guard o.expiresAt > now else { return .failure(Refusal("stale", "expired")) }
        guard claims.claim([buy.pool], chain: from.chainID) else {
            return .failure(Refusal("lock", "poolBusy", "a trade of ours through \(buy.pool.checksummed) is on its way"))
        }
        defer { claims.release([buy.pool], chain: from.chainID) }
        guard let s = state.state(chain: from.chainID) else { return .failure(Refusal("stale", "noState")) }
        let q: Requote
        switch Requote.quote([buy], amountIn: o.amountIn, on: s) {
        case .success(let r): q = r
        case .failure(let f): return .failure(Refusal("requote", "failed", "\(f)"))
        }
        guard q.amountOut == buy.amountOut else {
            return .failure(Refusal("requote", "moved", "detected \(buy.amountOut), now \(q.amountOut) at block \(q.block)"))
        }
        guard let held = await from.eth.balance(of: from.executor, token: buy.tokenIn, block: q.block), held >= o.amountIn else {
            return .failure(Refusal("strategy", "noCapital", "the cross-chain executor holds less than \(o.amountIn) of \(buy.tokenIn.checksummed)"))
        }
        seen.insert(o.id)
        let head: [ABIValue] = [.address(buy.tokenIn), .uint(o.amountIn), ExecutorCall.steps(q.steps), .uint(buy.amountOut), .address(from.bridge),
                                .uint(UInt256(o.chains[1]))]
        let deadline = ABIValue.uint(UInt256(now / 1_000_000_000 + 300))
        // To an EVM executor of ours, or to our wallet's 32-byte key on a destination such as Solana.
        let data = destination.map { try! Self.buyAndBridge.calldata(head + [.address($0.executor), deadline]) }
            ?? (try! Self.buyAndBridgeTo.calldata(head + [.fixedBytes(destinations[o.chains[1]]!.bridgeRecipient), deadline]))
        var transfer = BridgeTransfer(opportunity: o, amountIn: o.amountIn, bought: buy.amountOut, status: .sending)
        let result = await transact(from.account, opportunity: o.id, data: data, expect: buy.amountOut, whenSigned: { hash in
            transfer.depositTx = hash
            try? self.journal.record(transfer: transfer, at: WallClock.nanoseconds())
        })
        return legOne(&transfer, result, bridge: from.bridge)
    }

    /// A cross-chain opportunity with both legs configured, new, while not closing, and selling
    /// into a pool no open transfer sells into (detection priced the sale on the pool as it is
    /// now; a transfer still open on it will sell there first).
    func admit(_ o: Opportunity) -> Result<(CrossChainLeg?, CrossChainLeg?, SalePool), Refusal> {
        guard o.kind == .crossChain, o.chains.count == 2 else { return .failure(Refusal("validate", "notCrossChain")) }
        // Bought on an origin chain (Solana: its one leg) and sold in an EVM hop, bought in an EVM
        // hop and sold on a destination chain (Solana), or both sides EVM hops.
        let fromOrigin = o.solana != nil && origins[o.chains[0]] != nil, toDestination = o.solana != nil && destinations[o.chains[1]] != nil
        if o.solana != nil && !fromOrigin && !toDestination {
            return .failure(Refusal("strategy", "solanaSideUnsupported", "no Solana executor with a token bridge"))
        }
        let evm = toDestination ? o.chains[0] : o.chains[1]
        guard o.path.count == (o.solana != nil ? 1 : 2), o.path.last?.chainID == evm, fromOrigin || o.path[0].chainID == o.chains[0] else {
            return .failure(Refusal("validate", "notCrossChain"))
        }
        guard fromOrigin || legs[o.chains[0]] != nil, toDestination || legs[o.chains[1]] != nil else {
            return .failure(Refusal("strategy", "crossChainNotConfigured", "no executor and bridge on chain \(legs[o.chains[0]] == nil ? o.chains[0] : o.chains[1])"))
        }
        guard !seen.contains(o.id) else { return .failure(Refusal("dedup", "duplicate")) }
        guard !closed else { return .failure(Refusal("risk", "closing", "settling open transfers before stopping")) }
        let pool = toDestination ? o.solana!.legs[o.solana!.legs.count - 1].pool : o.path[o.path.count - 1].pool.bytes
        let salePool = SalePool(chain: o.chains[1], pool: pool)
        if buying.contains(salePool) || snapshot.transfers.contains(where: { $0.isOpen && SalePool(chain: $0.toChain, pool: $0.salePool) == salePool }) {
            return .failure(Refusal("risk", "saleInFlight", "a transfer still open sells into \(Hex.encode(pool)) on chain \(o.chains[1])"))
        }
        return .success((legs[o.chains[0]], legs[o.chains[1]], salePool))
    }

    /// Leg one's transaction recorded: in flight with its deposit, in doubt (sent, no receipt:
    /// followed until its receipt or the chain's nonce says), or failed.
    func legOne(_ transfer: inout BridgeTransfer, _ result: Result<LegReceipt, Refusal>, bridge: Address) -> Result<Void, Refusal> {
        let bought = transfer.bought
        switch result {
        case .failure(let r):
            guard !transfer.depositTx.isEmpty else { return .failure(r) }
            transfer.detail = r.description
            if r.reason != "pending" { transfer.status = .failed }
            try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
            snapshot.transfers.append(transfer)
            guard r.reason == "pending" else { return .failure(r) }
            follow(transfer)
            return .success(())
        case .success(let receipt):
            guard let (id, amount) = Self.deposit(receipt.logs, bridge: bridge), amount == bought else {
                transfer.status = .failed
                transfer.detail = "no deposit of \(bought) in the receipt"
                try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
                snapshot.transfers.append(transfer)
                return .failure(Refusal("inclusion", "noDeposit", transfer.detail))
            }
            (transfer.depositID, transfer.depositBlock, transfer.status) = (id, receipt.block, .inFlight)
            try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
            snapshot.transfers.append(transfer)
            follow(transfer)
            return .success(())
        }
    }
}
