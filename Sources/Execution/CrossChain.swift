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
    /// Not yet sold or failed: funds are on their way (or leg one's fate is not known).
    public var isOpen: Bool { status == .sending || status == .inFlight || status == .arrived }
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
            let sql = "SELECT * FROM bridge_transfer" + (open ? " WHERE status IN ('sending', 'inFlight', 'arrived')" : "") + " ORDER BY updated_at"
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
    private var tasks: [Task<Void, Never>] = []
    private var closed = false
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

    /// Waits for every open transfer this executor is following.
    public func drain() async {
        while let t = tasks.popLast() { await t.value }
    }

    /// Takes no new trades and waits up to `limit` for the open ones to finish; any still open
    /// then are left to `recover` (their records say where the funds are).
    public func settle(within limit: Duration) async {
        closed = true
        let deadline = ContinuousClock.now + limit
        while snapshot.transfers.contains(where: \.isOpen), ContinuousClock.now < deadline {
            try? await Task.sleep(for: configuration.poll)
        }
        stop()
    }

    /// Stops following open transfers (their records stay open: `recover` resumes them).
    public func stop() {
        for t in tasks { t.cancel() }
        tasks.removeAll()
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
        tasks.append(Task { await self.finish(t) })
    }

    private func finish(_ start: BridgeTransfer) async {
        var t = start
        guard let to = legs[t.toChain] else { return }
        let began = WallClock.nanoseconds()
        if t.status == .sending {
            guard let from = legs[t.fromChain] else { return }
            let (receipt, why) = await settleLegOne(t, on: from)
            if Task.isCancelled { return }
            guard let receipt, receipt.status == 1, let (id, _) = Self.deposit(receipt.logs, bridge: from.bridge) else {
                t.status = .failed
                t.detail = receipt == nil ? why : "leg one reverted"
                update(t)
                return
            }
            (t.depositID, t.depositBlock, t.status) = (id, receipt.block, .inFlight)
            update(t)
        }
        while t.status == .inFlight, !Task.isCancelled {
            if let amount = await fill(of: t, on: to) {
                t.received = amount
                t.status = .arrived
                update(t)
                break
            }
            try? await Task.sleep(for: configuration.poll)
            if Task.isCancelled { return }
        }
        // Sales sent that were still pending when their wait ended: one may land yet, and then
        // the asset is gone. Checked first each round; while the node still holds one, no other
        // sale is sent (it would spend a second nonce on a sale that can only revert).
        var pendingSales: [(hash: String, expect: UInt256)] = []
        while t.status == .arrived, let received = t.received, !Task.isCancelled {
            let sale = t.opportunity.path[1]
            var waiting = false
            for p in pendingSales {
                if let receipt = await Self.receipt(p.hash, on: to.eth) {
                    guard receipt.status == 1 else { continue }
                    t.sellTx = receipt.txHash
                    t.proceeds = Self.sold(receipt.logs, executor: to.executor) ?? p.expect
                    t.status = .sold
                    update(t)
                    break
                }
                // Only the node saying it no longer knows the sale frees it; an unread answer does not.
                if await anyKnown([p.hash], on: to) { waiting = true }
            }
            if t.status == .sold { break }
            if waiting {
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            guard let s = state.state(chain: to.chainID), case .success(let q) = Requote.quote([sale], amountIn: received, on: s) else {
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            // At a loss only once the position has been held too long.
            if q.amountOut < t.amountIn && WallClock.nanoseconds() &- began < configuration.maxHoldNanoseconds {
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            let data = try! Self.sell.calldata([.address(sale.tokenIn), .uint(received), ExecutorCall.steps(q.steps), .uint(q.amountOut),
                                                .uint(UInt256(WallClock.nanoseconds() / 1_000_000_000 + 300))])
            switch await transact(to, opportunity: t.opportunity.id, data: data, expect: q.amountOut, whenSigned: { _ in }) {
            case .success(let receipt):
                // The sale landed (a receipt with status 1): it is never sent again. Without our
                // `Sold` event (a contract other than ours) the simulated proceeds stand, said so.
                let event = Self.sold(receipt.logs, executor: to.executor)
                t.sellTx = receipt.txHash
                t.proceeds = event ?? q.amountOut
                if event == nil { t.detail = "no Sold event in the sale's receipt: proceeds as simulated" }
                t.status = .sold
                update(t)
            case .failure(let r):
                // The state moved under the sale (or the chain refused it): quote again.
                if t.detail != r.description {
                    t.detail = r.description
                    update(t)
                }
                if r.stage == "inclusion", r.reason == "pending" { pendingSales.append((r.detail, q.amountOut)) }
                try? await Task.sleep(for: configuration.poll)
            }
            if Task.isCancelled { return }
        }
    }

    /// Leg one's fate when it is not known (pending when last seen, or a restart came first).
    /// A receipt decides. A bundle that has no receipt `sendingBlocks` blocks on never lands. A
    /// transaction may land as long as its nonce is free, so it counts as never landed only once
    /// the chain's count has passed its nonce without it; `sendingBlocks` blocks on, a
    /// cancellation (same nonce, fees +50 %) is sent to settle it either way. Returns the receipt,
    /// or why there is none.
    private func settleLegOne(_ t: BridgeTransfer, on leg: CrossChainLeg) async -> (Receipt?, String) {
        let submission = try? journal.submission(chain: leg.chainID, txHash: t.depositTx)
        let until = ((try? await leg.eth.blockNumber()) ?? 0) + configuration.sendingBlocks
        var cancellations: [String] = []
        while !Task.isCancelled {
            // The head and the count first: a receipt missing after they were read is missing at them.
            let head = (try? await leg.eth.blockNumber()) ?? 0
            let count = try? await leg.eth.transactionCount(of: leg.key.address, at: .latest)
            if let receipt = await Self.receipt(t.depositTx, on: leg.eth) {
                if let submission { try? journal.updateSubmission(submission.seq, status: receipt.status == 1 ? .included : .reverted, lastBlock: receipt.block, at: WallClock.nanoseconds()) }
                return (receipt, "")
            }
            guard !leg.route.isBundle, let submission else {
                // A bundle past its blocks (or a transaction whose nonce the journal lost): gone.
                if head > until { return (nil, "leg one did not land") }
                try? await Task.sleep(for: configuration.poll)
                continue
            }
            if let count, count > submission.nonce {
                for c in cancellations.reversed() where await Self.receipt(c, on: leg.eth) != nil {
                    try? journal.updateSubmission(submission.seq, status: .cancelled, txHash: c, at: WallClock.nanoseconds())
                    return (nil, "leg one cancelled: \(c) took nonce \(submission.nonce)")
                }
                try? journal.updateSubmission(submission.seq, status: .dropped, at: WallClock.nanoseconds())
                return (nil, "leg one never landed: nonce \(submission.nonce) was taken by another transaction")
            }
            // A cancellation goes once the wait is over, and again whenever the node has forgotten
            // it and the original both (evicted from its pool): the nonce is free then, and only
            // something landing on it settles the leg.
            if head > until, let rpc = leg.route.transactionEndpoint {
                let held = cancellations.isEmpty ? false : await anyKnown([t.depositTx] + cancellations, on: leg)
                if !held, let c = await cancel(t.depositTx, nonce: submission.nonce, on: leg, via: rpc) { cancellations.append(c) }
            }
            try? await Task.sleep(for: configuration.poll)
        }
        return (nil, "stopped")
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
        while busy.contains(leg.chainID) { try? await Task.sleep(for: configuration.poll) }
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
                    landed = await receipt(leg, hash, until: head + 1)
                } catch {
                    why = "\(error)"
                    // The target block arrived while sending: the next block is another try.
                    if why.contains("in the past") { continue }
                    break
                }
            }
            if landed == nil, let lastTarget { landed = await receipt(leg, hash, until: lastTarget) }
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
                landed = await receipt(leg, hash, until: start + configuration.maxPendingBlocks)
            }
        }
        let now = WallClock.nanoseconds()
        guard let landed else {
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

    /// The receipt of `hash`, polled until the chain passes `until`. The head is read before the
    /// receipt: a receipt missing after the head was past `until` is missing for good (read the
    /// other way round, blocks mined between the two reads would be taken as empty).
    private func receipt(_ leg: CrossChainLeg, _ hash: String, until: UInt64) async -> Receipt? {
        while true {
            let head = try? await leg.eth.blockNumber()
            if let receipt = await Self.receipt(hash, on: leg.eth) { return receipt }
            guard let head, head <= until else { return nil }
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
