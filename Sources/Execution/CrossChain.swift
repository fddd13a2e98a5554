import EVMCodec
import EVMPrimitives
import EVMSigning
import EthClient
import GRDB
import JSONRPC
import Logging
import MarketWatch
import Opportunities

/// One cross-chain trade as the journal keeps it: the recovery record of what is where, from the
/// first leg to the sale.
public struct BridgeTransfer: Equatable, Sendable {
    public enum Status: String, Sendable, CaseIterable {
        /// Leg one signed and sent; nothing is known to have moved yet.
        case sending
        /// Leg one landed: the asset is in the bridge.
        case inFlight
        /// The bridge filled it on the destination: the asset is in our destination executor.
        case arrived
        /// Arrived, and no sale at or above its minimum could be made within the bound
        /// (`maxSaleAttempts`): the asset waits in the destination executor, with the quote it got
        /// in `detail`; the next start (`recover`) tries again.
        case held
        /// Sold back into the quote token: done.
        case sold
        /// Leg one did not land or reverted: nothing moved (gas only).
        case failed
    }

    public var opportunity: Opportunity
    public var amountIn: UInt256
    /// What leg one bought and deposited.
    public var bought: UInt256
    public var depositTx = ""
    public var depositID: UInt256? = nil
    public var depositBlock: UInt64 = 0
    /// What the bridge paid out on the destination.
    public var received: UInt256? = nil
    public var sellTx = ""
    public var proceeds: UInt256? = nil
    public var status: Status
    public var detail = ""

    public init(opportunity: Opportunity, amountIn: UInt256, bought: UInt256, depositTx: String = "", depositID: UInt256? = nil, depositBlock: UInt64 = 0,
                received: UInt256? = nil, sellTx: String = "", proceeds: UInt256? = nil, status: Status, detail: String = "") {
        self.opportunity = opportunity
        self.amountIn = amountIn
        self.bought = bought
        self.depositTx = depositTx
        self.depositID = depositID
        self.depositBlock = depositBlock
        self.received = received
        self.sellTx = sellTx
        self.proceeds = proceeds
        self.status = status
        self.detail = detail
    }

    public var fromChain: UInt64 { opportunity.path[0].chainID }
    public var toChain: UInt64 { opportunity.path[1].chainID }
    /// Not yet sold or failed: funds are on their way, held, or leg one's fate is not known.
    public var isOpen: Bool { status == .sending || status == .inFlight || status == .arrived || status == .held }
    /// Open and still being worked on (a held transfer waits for the next start).
    public var isSettling: Bool { isOpen && status != .held }
    /// Proceeds less the quote spent (across the two chains, in the same money); nil until sold.
    public var realizedProfit: Int256? { proceeds.map { Int256(bitPattern: $0) &- Int256(bitPattern: amountIn) } }
}

extension Journal {
    public func record(transfer t: BridgeTransfer, at: UInt64) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO bridge_transfer (opportunity, encoded, from_chain, to_chain, amount_in, bought, deposit_tx, deposit_id,
                    deposit_block, received, sell_tx, proceeds, status, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Hex.encode(t.opportunity.id), Hex.encode(t.opportunity.encoded()), Int64(bitPattern: t.fromChain),
                                 Int64(bitPattern: t.toChain), t.amountIn.description, t.bought.description, t.depositTx,
                                 t.depositID?.description ?? "", Int64(t.depositBlock), t.received?.description ?? "", t.sellTx,
                                 t.proceeds?.description ?? "", t.status.rawValue, t.detail, Int64(bitPattern: at)])
        }
    }

    /// Every transfer, oldest first; `open`: those not yet sold or failed.
    public func transfers(open: Bool = false) throws -> [BridgeTransfer] {
        try db.read { db in
            let sql = "SELECT * FROM bridge_transfer" + (open ? " WHERE status IN ('sending', 'inFlight', 'arrived', 'held')" : "") + " ORDER BY updated_at"
            return try Row.fetchAll(db, sql: sql).compactMap { r -> BridgeTransfer? in
                guard let bytes = try? Hex.decode(r["encoded"] as String), let o = try? Opportunity(encoded: bytes),
                      let status = BridgeTransfer.Status(rawValue: r["status"]) else { return nil }
                func big(_ k: String) -> UInt256? { UInt256(r[k] as String) }
                return BridgeTransfer(opportunity: o, amountIn: big("amount_in") ?? .zero, bought: big("bought") ?? .zero, depositTx: r["deposit_tx"],
                                      depositID: big("deposit_id"), depositBlock: UInt64(r["deposit_block"] as Int64), received: big("received"),
                                      sellTx: r["sell_tx"], proceeds: big("proceeds"), status: status, detail: r["detail"])
            }
        }
    }
}

/// One chain as cross-chain trades use it: our `CrossChainArbitrage` there, the bridge it
/// deposits into (and whose fills arrive there), and a key of its own (the legs keep their own
/// nonces, apart from the chain's other trades).
public struct CrossChainLeg: Sendable {
    public var chainID: UInt64
    public var eth: EthClient
    public var route: SubmissionRoute
    public var key: PrivateKey
    public var executor: Address
    public var bridge: Address

    public init(chainID: UInt64, eth: EthClient, route: SubmissionRoute, key: PrivateKey, executor: Address, bridge: Address) {
        self.chainID = chainID
        self.eth = eth
        self.route = route
        self.key = key
        self.executor = executor
        self.bridge = bridge
    }
}

/// Cross-chain trades on own capital: buy the asset with the quote token on one chain and deposit
/// it into the bridge in the same transaction (`buy_and_bridge`); when the bridge fills on the
/// other chain, sell it back (`sell`). Every step is journaled as a `BridgeTransfer` before the
/// next begins, so a restart resumes each open one where it stood (`recover`).
///
/// Leg one must re-quote exactly as detected and simulate to exactly what it buys; the sale is
/// re-quoted on the destination's state when the funds arrive and goes at that exact quote while
/// it returns at least the quote spent; past `maxHoldNanoseconds` it goes at the market (the
/// position is not held open-ended).
public actor CrossChainExecutor {
    public struct Configuration: Sendable {
        public var gas = GasOracle.Configuration()
        public var gasLimit: UInt64 = 400_000
        /// Blocks a transaction may stay pending, or a bundle be retargeted, before it is given up.
        public var maxPendingBlocks: UInt64 = 10
        public var maxBundleBlocks = 3
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
        /// How long one transaction's receipt is waited for, whatever the chain's head says (a stalled chain).
        public var maxReceiptWait: Duration = .seconds(120)
        /// How long a leg waits for its chain's key to be free before it is refused (`lock:senderBusy`).
        public var maxLockWait: Duration = .seconds(30)
        public var poll: Duration = .milliseconds(200)
        public init() {}
    }

    public struct Report: Sendable {
        public var received = 0
        public var refused: [String: Int] = [:]
        public var lastRefusal: Refusal?
        public var transfers: [BridgeTransfer] = []
    }

    public let configuration: Configuration
    let legs: [UInt64: CrossChainLeg]
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    private var nonces: [UInt64: NonceManager] = [:]
    private var gas: [UInt64: GasOracle] = [:]
    private var seen: Set<[UInt8]> = []
    /// The transfers being followed, by a serial number; each removes itself when it ends.
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var taskSerial = 0
    /// No new trades (settling before a stop).
    private var closed = false
    /// Stopped: nothing is followed any more; what is open stays journaled for `recover`.
    private var stopped = false
    /// Chains with a leg transaction outstanding: one at a time per chain and key (a bundle with
    /// the next nonce cannot land before the one ahead of it).
    private var busy: Set<UInt64> = []
    /// Destination pools a leg one is being sent for (until its transfer is recorded).
    private var buying: Set<SalePool> = []
    private struct SalePool: Hashable { let chain: UInt64, pool: Address }
    public private(set) var snapshot = Report()

    public static let buyAndBridge = try! FunctionSignature(
        "buy_and_bridge(address,uint256,(address,uint8,address,address,uint24)[],uint256,address,uint256,address,uint256) returns (uint256)")
    public static let sell = try! FunctionSignature("sell(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256) returns (uint256)")
    static let deposited = try! UInt256(bigEndian: Keccak256.hash(utf8: "Deposited(uint256,address,uint256,uint256,address,address)"))
    static let filled = try! UInt256(bigEndian: Keccak256.hash(utf8: "Filled(uint256,uint256,address,address,uint256)"))

    public init(configuration: Configuration = .init(), legs: [CrossChainLeg], state: any ChainStateSource, journal: Journal, logger: Logger) {
        self.configuration = configuration
        self.legs = Dictionary(uniqueKeysWithValues: legs.map { ($0.chainID, $0) })
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
        while !tasks.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            await pause(configuration.poll)
        }
        await stop(reason: "stopped while following it")
    }

    /// Takes no new trades and waits up to `limit` (or the caller's cancellation) for the open
    /// ones to settle (a held one does not count: it waits for the next start); then stops.
    public func settle(within limit: Duration) async {
        closed = true
        let deadline = ContinuousClock.now + limit
        while snapshot.transfers.contains(where: \.isSettling), ContinuousClock.now < deadline, !Task.isCancelled {
            await pause(configuration.poll)
        }
        await stop(reason: "not settled within \(limit) of the stop")
    }

    /// Stops following transfers: each task is cancelled and waited for (up to 2 s), and every
    /// transfer still open gets `reason` in its journaled record; the records stay open, and
    /// `recover` resumes them at the next start. Nothing is followed after this.
    public func stop(reason: String = "stopped") async {
        closed = true
        stopped = true
        for t in tasks.values { t.cancel() }
        let deadline = ContinuousClock.now + .seconds(2)
        while !tasks.isEmpty, ContinuousClock.now < deadline { await pause(.milliseconds(20)) }
        for t in snapshot.transfers where t.isOpen && !t.detail.hasPrefix("open at stop") {
            var open = t
            open.detail = "open at stop (\(reason)): \(t.status.rawValue)" + (t.detail.isEmpty ? "" : "; \(t.detail)")
            update(open)
        }
    }

    /// Open transfers, as the journal has them.
    public var open: [BridgeTransfer] { snapshot.transfers.filter(\.isOpen) }

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

    private func first(_ o: Opportunity) async -> Result<Void, Refusal> {
        try? journal.record(opportunity: o, receivedAt: WallClock.nanoseconds())
        guard o.kind == .crossChain, o.path.count == 2 else { return .failure(Refusal("validate", "notCrossChain")) }
        let buy = o.path[0], sell = o.path[1]
        guard let from = legs[buy.chainID], let to = legs[sell.chainID] else {
            return .failure(Refusal("strategy", "crossChainNotConfigured", "no executor and bridge on chain \(legs[buy.chainID] == nil ? buy.chainID : sell.chainID)"))
        }
        guard !seen.contains(o.id) else { return .failure(Refusal("dedup", "duplicate")) }
        guard !closed else { return .failure(Refusal("risk", "closing", "settling open transfers before stopping")) }
        // Detection priced the sale on the destination pool as it is now; a transfer still open
        // on the same pool will sell into it first, so this one's price is not what it would get.
        let salePool = SalePool(chain: sell.chainID, pool: sell.pool)
        if buying.contains(salePool) || snapshot.transfers.contains(where: { $0.isOpen && SalePool(chain: $0.toChain, pool: $0.opportunity.path[1].pool) == salePool }) {
            return .failure(Refusal("risk", "saleInFlight", "a transfer still open sells into \(sell.pool.checksummed) on chain \(sell.chainID)"))
        }
        buying.insert(salePool)
        defer { buying.remove(salePool) }
        let now = WallClock.nanoseconds()
        guard o.expiresAt > now else { return .failure(Refusal("stale", "expired")) }
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
        let data = try! Self.buyAndBridge.calldata([
            .address(buy.tokenIn), .uint(o.amountIn), ExecutorCall.steps(q.steps), .uint(buy.amountOut), .address(from.bridge),
            .uint(UInt256(to.chainID)), .address(to.executor), .uint(UInt256(now / 1_000_000_000 + 300)),
        ])
        var transfer = BridgeTransfer(opportunity: o, amountIn: o.amountIn, bought: buy.amountOut, status: .sending)
        switch await transact(from, opportunity: o.id, data: data, expect: buy.amountOut, whenSigned: { hash in
            transfer.depositTx = hash
            try? self.journal.record(transfer: transfer, at: WallClock.nanoseconds())
        }) {
        case .failure(let r):
            if !transfer.depositTx.isEmpty {
                transfer.detail = r.description
                if r.reason == "pending" {
                    // Sent, not yet landed: it may still buy and bridge. The record stays `sending`
                    // and is followed until its receipt (or the chain moving past its nonce) says.
                    try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
                    snapshot.transfers.append(transfer)
                    follow(transfer)
                    return .success(())
                }
                transfer.status = .failed
                try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
                snapshot.transfers.append(transfer)
            }
            return .failure(r)
        case .success(let receipt):
            guard let (id, amount) = Self.deposit(receipt.logs, bridge: from.bridge), amount == buy.amountOut else {
                transfer.status = .failed
                transfer.detail = "no deposit of \(buy.amountOut) in the receipt"
                try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
                snapshot.transfers.append(transfer)
                return .failure(Refusal("inclusion", "noDeposit", transfer.detail))
            }
            transfer.depositID = id
            transfer.depositBlock = receipt.block
            transfer.status = .inFlight
            try? journal.record(transfer: transfer, at: WallClock.nanoseconds())
            snapshot.transfers.append(transfer)
            follow(transfer)
            return .success(())
        }
    }

    // MARK: the bridge and leg two

    private func follow(_ t: BridgeTransfer) {
        // Stopped (a trade that was sending while the stop came): its record stays open for `recover`.
        guard !stopped else { return }
        taskSerial += 1
        let serial = taskSerial
        tasks[serial] = Task {
            await self.finish(t)
            self.tasks[serial] = nil
        }
    }

    private func finish(_ start: BridgeTransfer) async {
        var t = start
        guard let to = legs[t.toChain] else { return }
        if t.status == .sending {
            guard let from = legs[t.fromChain] else { return }
            switch await settleLegOne(t, on: from) {
            case .undecided(let why):
                // Cancelled by a stop, or past its bound: the record stays `sending`.
                if !Task.isCancelled {
                    t.detail = why
                    update(t)
                }
                return
            case .never(let why):
                t.status = .failed
                t.detail = why
                update(t)
                return
            case .landed(let receipt):
                guard receipt.status == 1, let (id, _) = Self.deposit(receipt.logs, bridge: from.bridge) else {
                    t.status = .failed
                    t.detail = "leg one reverted"
                    update(t)
                    return
                }
                (t.depositID, t.depositBlock, t.status) = (id, receipt.block, .inFlight)
                update(t)
            }
        }
        if t.status == .inFlight {
            guard await awaitFill(&t, on: to) else { return }
        }
        if t.status == .arrived || t.status == .held { await sellArrived(&t, on: to) }
    }

    /// Waits for the bridge's fill of a transfer in flight, up to `maxFillWait`; true once it arrived.
    private func awaitFill(_ t: inout BridgeTransfer, on to: CrossChainLeg) async -> Bool {
        let deadline = ContinuousClock.now + configuration.maxFillWait
        while !Task.isCancelled {
            if let amount = await fill(of: t, on: to) {
                t.received = amount
                t.status = .arrived
                update(t)
                return true
            }
            guard ContinuousClock.now < deadline else {
                t.detail = "no fill within \(configuration.maxFillWait); followed again at the next start"
                update(t)
                return false
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return false
    }

    /// Sells an arrived asset at exactly what the chain says it fetches now (`sell` simulated with
    /// no minimum), once that returns at least the quote spent, or anything once the position has
    /// been held past `maxHoldNanoseconds`. A sale that fails (simulation or send) counts as an
    /// attempt; after `maxSaleAttempts` the transfer is `held` with the last quote it got.
    private func sellArrived(_ t: inout BridgeTransfer, on to: CrossChainLeg) async {
        guard let received = t.received else { return }
        let began = WallClock.nanoseconds()
        let sale = t.opportunity.path[1]
        var attempts = 0
        var lastQuote = "none"
        // Sales sent that were still pending when their wait ended: one may land yet, and then the
        // asset is gone. While the node holds one, no other sale is sent (it would spend a second
        // nonce on a sale that can only revert); past `maxReceiptWait` they count as an attempt.
        var pendingSales: [(hash: String, expect: UInt256, since: ContinuousClock.Instant)] = []
        while attempts < configuration.maxSaleAttempts, !Task.isCancelled {
            if let landed = await pendingSale(pendingSales, on: to) {
                (t.sellTx, t.proceeds, t.status) = (landed.hash, landed.proceeds, .sold)
                update(t)
                return
            }
            if let oldest = pendingSales.first, await anyKnown(pendingSales.map(\.hash), on: to) {
                if ContinuousClock.now - oldest.since > configuration.maxReceiptWait {
                    attempts += 1
                    pendingSales.removeAll()
                }
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            pendingSales.removeAll()
            guard let s = state.state(chain: to.chainID), case .success(let q) = Requote.quote([sale], amountIn: received, on: s) else {
                attempts += 1
                lastQuote = "no state to quote the sale on"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            let heldTooLong = WallClock.nanoseconds() &- began >= configuration.maxHoldNanoseconds
            if q.amountOut < t.amountIn && !heldTooLong {
                // At a loss by our own state: wait for the price (no call to the chain), up to the hold limit.
                lastQuote = "\(q.amountOut) by our state (minimum \(t.amountIn))"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            let deadline = UInt256(WallClock.nanoseconds() / 1_000_000_000 + 300)
            func calldata(_ minimum: UInt256) -> [UInt8] {
                try! Self.sell.calldata([.address(sale.tokenIn), .uint(received), ExecutorCall.steps(q.steps), .uint(minimum), .uint(deadline)])
            }
            // What the chain gives for it now (our state may trail the state the sale lands on).
            let fetches: UInt256
            do {
                guard let v = try await to.eth.simulate(from: to.key.address, to: to.executor, data: calldata(.zero), pending: !to.route.isBundle) else {
                    attempts += 1
                    lastQuote = "the sale's eth_call answer is not one word"
                    try? await Task.sleep(for: configuration.poll)
                    continue
                }
                fetches = v
            } catch {
                attempts += 1
                lastQuote = "sale simulation failed: \(ExecutorCall.revertReason(error))"
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            lastQuote = "\(fetches) (our state: \(q.amountOut); minimum \(t.amountIn))"
            if fetches < t.amountIn && !heldTooLong {
                // At a loss on the chain's state (ours trails it): an attempt; the price is awaited.
                attempts += 1
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            switch await transact(to, opportunity: t.opportunity.id, data: calldata(fetches), expect: fetches, whenSigned: { _ in }) {
            case .success(let receipt):
                // The sale landed (status 1): it is never sent again. Without our `Sold` event
                // (a contract other than ours) the simulated proceeds stand, said so.
                let event = Self.sold(receipt.logs, executor: to.executor)
                t.sellTx = receipt.txHash
                t.proceeds = event ?? fetches
                if event == nil { t.detail = "no Sold event in the sale's receipt: proceeds as simulated" }
                t.status = .sold
                update(t)
                return
            case .failure(let r):
                attempts += 1
                if t.detail != r.description {
                    t.detail = r.description
                    update(t)
                }
                if r.stage == "inclusion", r.reason == "pending" { pendingSales.append((r.detail, fetches, .now)) }
                try? await Task.sleep(for: configuration.poll)
            }
        }
        guard !Task.isCancelled else { return }
        t.status = .held
        t.detail = "held after \(attempts) sale attempt(s): last quote \(lastQuote); sold at the next start"
        update(t)
        logger.notice("cross-chain: arrived asset held", metadata: ["arb.opportunity": "\(Hex.encode(t.opportunity.id))", "arb.detail": "\(t.detail)"])
    }

    /// The first of `sales` that landed with status 1: its hash and proceeds.
    private func pendingSale(_ sales: [(hash: String, expect: UInt256, since: ContinuousClock.Instant)], on to: CrossChainLeg) async -> (hash: String, proceeds: UInt256)? {
        for p in sales {
            guard let receipt = await Self.receipt(p.hash, on: to.eth), receipt.status == 1 else { continue }
            return (receipt.txHash, Self.sold(receipt.logs, executor: to.executor) ?? p.expect)
        }
        return nil
    }

    /// Leg one's fate, as far as it can be told.
    enum LegOneFate {
        /// It has a receipt (reverted or not).
        case landed(Receipt)
        /// It can no longer land: why.
        case never(String)
        /// Not known within the bound (or a stop came first): the record stays open, and why.
        case undecided(String)
    }

    /// Leg one's fate when it is not known (pending when last seen, or a restart came first).
    /// A receipt decides. A bundle that has no receipt `sendingBlocks` blocks on never lands. A
    /// transaction may land as long as its nonce is free, so it counts as never landed only once
    /// the chain's count has passed its nonce without it; `sendingBlocks` blocks on, a
    /// cancellation (same nonce, fees +50 %) is sent to settle it either way, up to
    /// `maxCancellations`. Past `maxLegOneWait` it is left undecided.
    private func settleLegOne(_ t: BridgeTransfer, on leg: CrossChainLeg) async -> LegOneFate {
        let submission = try? journal.submission(chain: leg.chainID, txHash: t.depositTx)
        let until = ((try? await leg.eth.blockNumber()) ?? 0) + configuration.sendingBlocks
        let deadline = ContinuousClock.now + configuration.maxLegOneWait
        var cancellations: [String] = []
        while !Task.isCancelled {
            guard ContinuousClock.now < deadline else {
                return .undecided("leg one not settled within \(configuration.maxLegOneWait) (\(cancellations.count) cancellation(s) sent); followed again at the next start")
            }
            // The head and the count first: a receipt missing after they were read is missing at them.
            let head = (try? await leg.eth.blockNumber()) ?? 0
            let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest)
            if let receipt = await Self.receipt(t.depositTx, on: leg.eth) {
                if let submission { try? journal.updateSubmission(submission.seq, status: receipt.status == 1 ? .included : .reverted, lastBlock: receipt.block, at: WallClock.nanoseconds()) }
                return .landed(receipt)
            }
            guard !leg.route.isBundle, let submission else {
                // A bundle past its blocks (or a transaction whose nonce the journal lost): gone.
                if head > until { return .never("leg one did not land") }
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            if let count, count > submission.nonce {
                for c in cancellations.reversed() where await Self.receipt(c, on: leg.eth) != nil {
                    try? journal.updateSubmission(submission.seq, status: .cancelled, txHash: c, at: WallClock.nanoseconds())
                    return .never("leg one cancelled: \(c) took nonce \(submission.nonce)")
                }
                try? journal.updateSubmission(submission.seq, status: .dropped, at: WallClock.nanoseconds())
                return .never("leg one never landed: nonce \(submission.nonce) was taken by another transaction")
            }
            // A cancellation goes once the wait is over, and again whenever the node has forgotten
            // it and the original both (evicted from its pool): the nonce is free then, and only
            // something landing on it settles the leg.
            if head > until, cancellations.count < configuration.maxCancellations, let rpc = leg.route.transactionEndpoint {
                let held = cancellations.isEmpty ? false : await anyKnown([t.depositTx] + cancellations, on: leg)
                if !held, let c = await cancel(t.depositTx, nonce: submission.nonce, on: leg, via: rpc) { cancellations.append(c) }
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return .undecided("stopped while leg one was in doubt")
    }

    /// Whether the node still knows any of `hashes` (mined or waiting); an unread answer counts as known.
    private func anyKnown(_ hashes: [String], on leg: CrossChainLeg) async -> Bool {
        for h in hashes where (try? await leg.eth.rpc.call("eth_getTransactionByHash", [.string(h)])) != .null { return true }
        return false
    }

    /// Sends the cancellation of our transaction `hash` (nonce `nonce`): fees +50 % over what the
    /// node says it bid, or twice the current quote when the node no longer knows it.
    private func cancel(_ hash: String, nonce: UInt64, on leg: CrossChainLeg, via rpc: RPCClient) async -> String? {
        var tip = UInt256.zero, cap = UInt256.zero
        if let known = try? await leg.eth.rpc.call("eth_getTransactionByHash", [.string(hash)]), known != .null,
           let t = known["maxPriorityFeePerGas"]?.stringValue.flatMap({ try? UInt256(hex: $0) }),
           let c = known["maxFeePerGas"]?.stringValue.flatMap({ try? UInt256(hex: $0) }) {
            (tip, cap) = (t, c)
        } else {
            var oracle = gas[leg.chainID] ?? GasOracle(configuration: configuration.gas)
            guard let h = try? await leg.eth.rpc.call("eth_feeHistory", oracle.parameters), let q = try? oracle.quote(feeHistory: h) else { return nil }
            (tip, cap) = (q.maxPriorityFeePerGas &* UInt256(2), q.maxFeePerGas &* UInt256(2))
        }
        let original = Transaction(type: .dynamicFee, chainId: leg.chainID, nonce: nonce, maxPriorityFeePerGas: tip, maxFeePerGas: cap,
                                   gasLimit: 21_000, to: leg.key.address, value: .zero, data: [])
        let signed = original.cancellation(signedWith: leg.key)
        do {
            _ = try await rpc.sendRawTransaction(signed.raw)
        } catch {
            logger.warning("cross-chain: cancellation of leg one failed", metadata: ["arb.tx": "\(hash)", "error": "\(error)"])
            return nil
        }
        logger.notice("cross-chain: leg one still pending; cancellation sent", metadata: ["arb.tx": "\(hash)", "arb.nonce": "\(nonce)"])
        return Hex.encode(signed.hash)
    }

    private func update(_ t: BridgeTransfer) {
        try? journal.record(transfer: t, at: WallClock.nanoseconds())
        if let i = snapshot.transfers.firstIndex(where: { $0.opportunity.id == t.opportunity.id }) { snapshot.transfers[i] = t } else { snapshot.transfers.append(t) }
    }

    /// The destination bridge's `Filled` for this transfer (source chain and deposit id), if any yet.
    private func fill(of t: BridgeTransfer, on to: CrossChainLeg) async -> UInt256? {
        guard let id = t.depositID else { return nil }
        let filter = JSONValue.object([
            ("address", .string(to.bridge.checksummed)), ("fromBlock", .string("earliest")), ("toBlock", .string("latest")),
            ("topics", .array([Self.filled, UInt256(t.fromChain), id].map { .string(Hex.encode($0.bigEndianBytes)) })),
        ])
        guard let logs = (try? await to.eth.rpc.call("eth_getLogs", [filter]))?.arrayValue else { return nil }
        for l in logs {
            guard let log = try? EthClient.log(l), log.data.count == 96,
                  let recipient = try? UInt256(bigEndian: Array(log.data[32..<64])), recipient == (try? UInt256(bigEndian: to.executor.bytes)) else { continue }
            return try? UInt256(bigEndian: Array(log.data[64..<96]))
        }
        return nil
    }

    // MARK: transactions

    struct Receipt {
        var txHash: String
        var block: UInt64
        var status: Int
        var logs: [EVMLog]
    }

    /// Signs `data` to the leg's executor with the next nonce, simulates it (it must return exactly
    /// `expect`), sends it by the chain's route and waits for its receipt (status 1).
    private func transact(_ leg: CrossChainLeg, opportunity: [UInt8], data: [UInt8], expect: UInt256,
                          whenSigned: (String) -> Void) async -> Result<Receipt, Refusal> {
        var oracle = gas[leg.chainID] ?? GasOracle(configuration: configuration.gas)
        let fees: GasOracle.Quote
        do {
            let h = try await leg.eth.rpc.call("eth_feeHistory", oracle.parameters)
            fees = try oracle.quote(feeHistory: h)
            gas[leg.chainID] = oracle
        } catch {
            return .failure(Refusal("gas", "gasUnavailable", "\(error)"))
        }
        let lockDeadline = ContinuousClock.now + configuration.maxLockWait
        while busy.contains(leg.chainID) {
            guard ContinuousClock.now < lockDeadline, !Task.isCancelled else {
                return .failure(Refusal("lock", "senderBusy", "the chain's cross-chain key stayed busy for \(configuration.maxLockWait)"))
            }
            try? await Task.sleep(for: configuration.poll)
        }
        busy.insert(leg.chainID)
        defer { busy.remove(leg.chainID) }
        // Simulate before taking a nonce: the call must give exactly what was planned.
        do {
            let value = try await leg.eth.simulate(from: leg.key.address, to: leg.executor, data: data, pending: !leg.route.isBundle)
            guard value == expect else {
                return .failure(Refusal("simulate", "mismatch", "the executor returns \(value.map(\.description) ?? "no word"), expected \(expect)"))
            }
        } catch {
            return .failure(Refusal("simulate", "reverted", ExecutorCall.revertReason(error)))
        }
        guard let nonces = nonces[leg.chainID] else { return .failure(Refusal("nonce", "noManager")) }
        let reservation: (nonce: UInt64, submission: Int64)
        do {
            reservation = try await nonces.reserve(opportunity: opportunity, now: WallClock.nanoseconds())
        } catch {
            return .failure(Refusal("nonce", "unavailable", "\(error)"))
        }
        let tx = Transaction(type: .dynamicFee, chainId: leg.chainID, nonce: reservation.nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
                             maxFeePerGas: fees.maxFeePerGas, gasLimit: configuration.gasLimit, to: leg.executor, value: .zero, data: data)
        let signed = tx.signed(with: leg.key)
        let hash = Hex.encode(signed.hash)
        try? journal.updateSubmission(reservation.submission, status: .reserved, txHash: hash, mode: leg.route.name, strategy: "cross-chain",
                                      executor: leg.executor.checksummed, expectedProfit: expect.description, at: WallClock.nanoseconds())
        whenSigned(hash)
        var landed: Receipt? = nil
        var sent = false
        var why = ""
        let start = (try? await leg.eth.blockNumber()) ?? 0
        let waitDeadline = ContinuousClock.now + configuration.maxReceiptWait
        switch leg.route {
        case .flashbots(let relay):
            // Once a bundle has gone to the relay it may land, whatever the answer said (or if
            // none came): the last block it targeted decides, below.
            var lastTarget: UInt64? = nil
            for _ in 0..<configuration.maxBundleBlocks where landed == nil {
                do {
                    let head = try await leg.eth.blockNumber()
                    let sim = try await relay.callBundle([signed.raw], block: head + 1)
                    if let f = sim.failure { why = "bundle simulation: \(f)"; break }
                    try? journal.updateSubmission(reservation.submission, status: .submitted, targetBlock: head + 1, lastBlock: head + 1, at: WallClock.nanoseconds())
                    lastTarget = head + 1
                    _ = try await relay.sendBundle([signed.raw], block: head + 1)
                    sent = true
                    landed = await receipt(leg, hash, until: head + 1, deadline: waitDeadline)
                } catch {
                    why = "\(error)"
                    // The target block arrived while sending: the next block is another try.
                    if why.contains("in the past") { continue }
                    break
                }
            }
            if landed == nil, let lastTarget { landed = await receipt(leg, hash, until: lastTarget, deadline: waitDeadline) }
        case .privateRPC(let rpc), .publicMempool(let rpc):
            do {
                _ = try await rpc.sendRawTransaction(signed.raw)
                sent = true
            } catch {
                why = error.message
                // No answer: the node may have taken it (followed as sent).
                sent = mayHaveBeenAccepted(error)
            }
            if sent {
                try? journal.updateSubmission(reservation.submission, status: .submitted, targetBlock: start + 1, lastBlock: start + 1, at: WallClock.nanoseconds())
                landed = await receipt(leg, hash, until: start + configuration.maxPendingBlocks, deadline: waitDeadline)
            }
        }
        let now = WallClock.nanoseconds()
        guard let landed else {
            if sent && (Task.isCancelled || ContinuousClock.now >= waitDeadline) {
                // Stopped (or the chain stalled) before its fate was known: it may land yet. The
                // submission stays open for `recover`; the caller treats it as in doubt.
                return .failure(Refusal("inclusion", "pending", hash))
            }
            if sent && !leg.route.isBundle {
                // Sent and still pending: it may land yet. The nonce stays taken (the chain's
                // count decides it later), and the caller treats the transaction as in doubt.
                try? journal.updateSubmission(reservation.submission, status: .dropped, at: now)
                try? await nonces.resync()
                return .failure(Refusal("inclusion", "pending", hash))
            }
            // The chain's count past the nonce with no receipt of ours: something else took it
            // (another holder of the key, a lost record). It is not free: take the chain's count.
            if let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest), count > reservation.nonce {
                try? journal.updateSubmission(reservation.submission, status: .dropped, at: now)
                try? await nonces.resync()
                return .failure(Refusal("nonce", "taken", "nonce \(reservation.nonce) is behind the chain's count \(count): \(why)"))
            }
            try? nonces.release(reservation.nonce, submission: reservation.submission, now: now)
            return .failure(Refusal("inclusion", "notIncluded", why))
        }
        if landed.status == 1 {
            try? nonces.confirm(submission: reservation.submission, now: now)
            return .success(landed)
        }
        try? journal.updateSubmission(reservation.submission, status: .reverted, at: now)
        return .failure(Refusal("inclusion", "reverted", hash))
    }

    /// The receipt of `hash`, polled until the chain passes `until` (or `deadline`, or a stop).
    /// The head is read before the receipt: a receipt missing after the head was past `until` is
    /// missing for good (read the other way round, blocks mined between the two reads would be
    /// taken as empty).
    private func receipt(_ leg: CrossChainLeg, _ hash: String, until: UInt64, deadline: ContinuousClock.Instant) async -> Receipt? {
        while true {
            let head = try? await leg.eth.blockNumber()
            if let receipt = await Self.receipt(hash, on: leg.eth) { return receipt }
            guard let head, head <= until, ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: configuration.poll)
        }
    }

    /// The receipt of `hash`, if it has one yet (an unreadable answer counts as none yet).
    static func receipt(_ hash: String, on eth: EthClient) async -> Receipt? {
        guard let r = try? await eth.rpc.call("eth_getTransactionReceipt", [.string(hash)]), r != .null else { return nil }
        return receipt(r)
    }

    static func receipt(_ r: JSONValue) -> Receipt? {
        guard let h = r["transactionHash"]?.stringValue, let b = r["blockNumber"]?.stringValue, let block = try? UInt256(hex: b) else { return nil }
        return Receipt(txHash: h, block: block.w0, status: r["status"]?.stringValue == "0x1" ? 1 : 0, logs: ExecutorCall.logs(ofReceipt: r))
    }

    /// The bridge's `Deposited` in a receipt: (id, amount).
    static func deposit(_ logs: [EVMLog], bridge: Address) -> (UInt256, UInt256)? {
        for l in logs where l.address == bridge && l.topics.count == 3 && l.topics[0] == deposited && l.data.count == 128 {
            guard let amount = try? UInt256(bigEndian: Array(l.data[0..<32])) else { continue }
            return (l.topics[1], amount)
        }
        return nil
    }

    static let soldTopic = try! UInt256(bigEndian: Keccak256.hash(utf8: "Sold(address,uint256,address,uint256)"))

    /// The executor's `Sold` proceeds in a receipt.
    static func sold(_ logs: [EVMLog], executor: Address) -> UInt256? {
        for l in logs where l.address == executor && l.topics.first == soldTopic && l.data.count == 96 {
            return try? UInt256(bigEndian: Array(l.data[64..<96]))
        }
        return nil
    }

}
