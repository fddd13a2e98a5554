import EVMCodec
import EVMPrimitives
import EthClient
import AMMMath
import GRDB
import Logging
import MarketWatch
import Opportunities

/// CEX–DEX trades (design item #32) on own capital: the DEX leg is one swap of the executor's
/// inventory on the opportunity's pool, at exactly what our state quotes (the simulation must
/// return it, and it is the swap's minimum); a leg that reaches execution on a later block than it
/// was sized on is sized again there against the same fair value. The exchange leg is a hedge intent, journaled
/// (`cex_hedge`), since nothing trades on an exchange here. The leg's profit is valued at the
/// opportunity's fair price: expected on our state at submission, realized from the `Sold`
/// event, both journaled with what detection saw (`receipt`).
public actor CexDexExecutor {
    public struct Configuration: Sendable {
        public var legs = LegSettings()
        public var deadlineSeconds: UInt64 = 120
        /// How long a trade waits for our state to reach the chain's head before quoting.
        public var catchUp: Duration = .seconds(3)
        public init() {}
    }

    /// One landed DEX leg.
    public struct Trade: Equatable, Sendable {
        public var opportunity: [UInt8]
        public var chainID: UInt64
        public var txHash: String
        public var tokenIn: Address
        public var tokenOut: Address
        public var amountIn: UInt256
        public var amountOut: UInt256
        /// Profits against the fair value, in `tokenIn`: detection's, ours at submission, the receipt's.
        public var detected: Int256
        public var expected: Int256
        public var realized: Int256
    }

    public let configuration: Configuration
    /// Per chain, the accounts of the chain's keys (one executor, several senders).
    let accounts: [UInt64: [OwnCapitalAccount]]
    /// A sender per key index: each key's nonces, and whether it is busy on a chain.
    let lanes: [CexDexLane]
    var taken: [UInt64: Set<Int>] = [:]
    /// Pools with a trade of ours on its way (a leg, or another executor's trade sharing the claims):
    /// a leg there would be quoted on a state the first changes.
    let claims: PoolClaims
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    var followers = Followers()
    public private(set) var trades: [Trade] = []
    public private(set) var refusals: [String: Int] = [:]
    /// Legs sent whose fate was not known when they were given up (a stop, a stalled chain):
    /// they may land yet, so the inventory cannot be checked while any is here.
    public private(set) var inDoubt: [InDoubtLeg] = []
    var accepting = true

    /// A sent leg whose receipt was not seen: what is needed to account for it if it lands.
    public struct InDoubtLeg: Sendable {
        public var txHash: String
        var opportunity: Opportunity
        var account: OwnCapitalAccount
        var amountIn: UInt256
        var quoted: UInt256
        var expected: Int256
        var hedge: CexHedge
    }

    /// `accounts`: one per chain and key; several keys on a chain (the same executor) trade
    /// several legs at once, each sender with its own nonces.
    public init(configuration: Configuration = .init(), accounts: [OwnCapitalAccount], state: any ChainStateSource, journal: Journal, logger: Logger,
                claims: PoolClaims = PoolClaims()) {
        self.configuration = configuration
        self.claims = claims
        let byChain = Dictionary(grouping: accounts, by: \.chainID)
        self.accounts = byChain
        let width = byChain.values.map(\.count).max() ?? 0
        lanes = (0..<width).map { k in CexDexLane(settings: configuration.legs, accounts: byChain.values.compactMap { k < $0.count ? $0[k] : nil }, journal: journal) }
        self.state = state
        self.journal = journal
        self.logger = logger
    }

    /// The own-capital accounts, one per chain (the executor holding the inventory).
    public var inventories: [OwnCapitalAccount] { accounts.values.compactMap(\.first).sorted { $0.chainID < $1.chainID } }

    /// Settles the senders' nonces at a start.
    public func recover() async throws {
        for lane in lanes { try await lane.recover() }
    }

    /// A sender free on `chain`, taken until `release`; waits up to the legs' lock wait.
    func acquire(_ chain: UInt64) async -> Int? {
        let deadline = ContinuousClock.now + configuration.legs.maxLockWait
        while true {
            let count = accounts[chain]?.count ?? 0
            if let k = (0..<count).first(where: { !taken[chain, default: []].contains($0) }) {
                taken[chain, default: []].insert(k)
                return k
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: configuration.legs.poll)
        }
    }

    func release(_ chain: UInt64, _ k: Int) { taken[chain]?.remove(k) }

    /// The leg's input on `s`: as sized, on the block it was sized on; on a later block (it
    /// waited behind other deliveries, or for a key) sized again on that block's pool against the
    /// same fair value.
    static func input(_ o: Opportunity, _ ref: Opportunity.CexDex, _ hop: Opportunity.Hop, on s: ChainState) -> Result<UInt256, Refusal> {
        guard s.block != o.blockNumber else { return .success(o.amountIn) }
        guard let id = s.book.id(of: hop.pool) else { return .failure(Refusal("requote", "failed", "\(hop.pool.checksummed) is not watched")) }
        let (num, den) = hop.tokenOut == ref.base ? (ref.fairNumerator, ref.fairDenominator) : (ref.fairDenominator, ref.fairNumerator)
        guard let resized = FairValueSizing.optimize(s.book[id], zeroForOne: hop.tokenIn == s.token0[id.index], valueNumerator: num,
                                                     valueDenominator: den, maxIn: o.amountIn * 4) else {
            return .failure(Refusal("requote", "moved", "no gain left against the fair value at block \(s.block) (sized on \(o.blockNumber))"))
        }
        return .success(resized.amountIn)
    }

    /// Journals `o` and trades it in the background (a refusal is counted and journaled).
    public func submit(_ o: Opportunity) {
        try? journal.record(opportunity: o, receivedAt: WallClock.nanoseconds())
        followers.add { serial in
            Task {
                if case .failure(let r) = await self.execute(o) { self.count(r, id: o.id, chain: o.chains.first ?? 0) }
                self.followers.remove(serial)
            }
        }
    }

    public func count(_ r: Refusal, id: [UInt8], chain: UInt64) {
        refusals["\(r.stage):\(r.reason)", default: 0] += 1
        try? journal.decision(id, chain: chain, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail, at: WallClock.nanoseconds())
    }

    public func stopAccepting() { accepting = false }

    /// An opportunity that expired on the bus before it could be handled: journaled as received
    /// and refused `bus:expired` (counted with the others).
    public func expired(_ o: Opportunity, at now: UInt64) {
        try? journal.record(opportunity: o, receivedAt: now)
        count(Refusal("bus", "expired"), id: o.id, chain: o.chains.first ?? 0)
    }

    public func drain(until deadline: ContinuousClock.Instant?) async {
        accepting = false
        await Followers.drain(until: deadline, isEmpty: { followers.isEmpty }, cancel: { followers.cancelAll() })
    }

    /// Trades `o`'s DEX leg and journals the hedge; the trade when it landed.
    public func execute(_ o: Opportunity, now: UInt64 = WallClock.nanoseconds()) async -> Result<Trade, Refusal> {
        guard accepting else { return .failure(Refusal("strategy", "closed", "no new trades: the run is ending")) }
        guard o.kind == .cexDexSpread, let ref = o.cexDex, o.path.count == 1, o.chains.count == 1, let hop = o.path.first,
              (hop.tokenIn == ref.base && hop.tokenOut == ref.quote) || (hop.tokenIn == ref.quote && hop.tokenOut == ref.base) else {
            return .failure(Refusal("validate", "invalid", "not a one-hop CEX–DEX opportunity"))
        }
        guard o.expiresAt > now else { return .failure(Refusal("validate", "expired")) }
        guard accounts[hop.chainID] != nil else { return .failure(Refusal("strategy", "cexDexNotConfigured", "no CEX–DEX executor on chain \(hop.chainID)")) }
        guard claims.claim([hop.pool], chain: hop.chainID) else {
            return .failure(Refusal("lock", "poolBusy", "a trade of ours through \(hop.pool.checksummed) is on its way"))
        }
        defer { claims.release([hop.pool], chain: hop.chainID) }
        // A free sender first: the quote is made on the state right before sending.
        guard let k = await acquire(hop.chainID), let account = accounts[hop.chainID]?[k] else {
            return .failure(Refusal("lock", "senderBusy", "every CEX–DEX key of chain \(hop.chainID) stayed busy for \(configuration.legs.maxLockWait)"))
        }
        defer { release(hop.chainID, k) }
        let lane = lanes[k]
        guard let s = await lane.caughtUp(account, state: state, within: configuration.catchUp) else { return .failure(Refusal("stale", "behind", "our state did not reach the chain's head within \(configuration.catchUp)")) }
        let amountIn: UInt256
        switch Self.input(o, ref, hop, on: s) {
        case .failure(let r): return .failure(r)
        case .success(let a): amountIn = a
        }
        let q: Requote
        switch Requote.quote(o.path, amountIn: amountIn, on: s) {
        case .failure(let f): return .failure(Refusal("requote", "failed", "\(f)"))
        case .success(let quoted): q = quoted
        }
        let gasCost = o.grossProfit &- o.netProfit
        guard let expected = ref.profit(paid: amountIn, got: q.amountOut, gotToken: hop.tokenOut), expected > gasCost else {
            return .failure(Refusal("requote", "moved", "the pool moved since detection: \(q.amountOut) out where \(hop.amountOut) was seen"))
        }
        let held = await account.eth.balance(of: account.executor, token: hop.tokenIn, block: s.block) ?? .zero
        guard held >= amountIn else { return .failure(Refusal("inventory", "short", "the executor holds \(held) of \(amountIn)")) }
        let deadline = UInt256(WallClock.nanoseconds() / 1_000_000_000 + configuration.deadlineSeconds)
        let data = try! CrossChainExecutor.sell.calldata([.address(hop.tokenIn), .uint(amountIn), ExecutorCall.steps(q.steps), .uint(q.amountOut), .uint(deadline)])
        let hedge = CexHedge(opportunity: Hex.encode(o.id), chainID: hop.chainID, symbol: ref.symbol, sellsBase: ref.hedgeSellsBase,
                             quantity: hop.tokenOut == ref.base ? q.amountOut : amountIn, fairNumerator: ref.fairNumerator,
                             fairDenominator: ref.fairDenominator, txHash: "", status: "pending")
        var landedHash = ""
        let result = await lane.send(account, opportunity: o.id, data: data, expect: q.amountOut) { landedHash = $0 }
        switch result {
        case .failure(let r):
            if r.stage == "inclusion" && r.reason == "pending" {
                inDoubt.append(InDoubtLeg(txHash: r.detail, opportunity: o, account: account, amountIn: amountIn, quoted: q.amountOut, expected: expected, hedge: hedge))
            }
            return .failure(r)
        case .success(let receipt):
            return .success(landed(o, ref, hop, receipt: receipt, executor: account.executor, amountIn: amountIn, quoted: q.amountOut,
                                   expected: expected, hedge: hedge, signed: landedHash))
        }
    }

    /// Reads the receipts of the legs in doubt once: a landed one becomes a trade (journaled like
    /// any other), a reverted one is dropped, one without a receipt stays in doubt.
    public func settleInDoubt() async {
        var still: [InDoubtLeg] = []
        for leg in inDoubt {
            guard let receipt = await LegReceipt.fetch(leg.txHash, on: leg.account.eth) else {
                still.append(leg)
                continue
            }
            guard receipt.status == 1, let ref = leg.opportunity.cexDex, let hop = leg.opportunity.path.first else { continue }
            _ = landed(leg.opportunity, ref, hop, receipt: receipt, executor: leg.account.executor, amountIn: leg.amountIn, quoted: leg.quoted,
                       expected: leg.expected, hedge: leg.hedge, signed: leg.txHash)
        }
        inDoubt = still
    }

    /// A landed leg: its realized profit from the `Sold` event, the receipt row and the hedge intent journaled.
    func landed(_ o: Opportunity, _ ref: Opportunity.CexDex, _ hop: Opportunity.Hop, receipt: LegReceipt, executor: Address, amountIn: UInt256,
                quoted: UInt256, expected: Int256, hedge: CexHedge, signed landedHash: String) -> Trade {
        let out = LegReceipt.sold(receipt.logs, executor: executor) ?? quoted
        let realized = ref.profit(paid: amountIn, got: out, gotToken: hop.tokenOut) ?? .zero
        let trade = Trade(opportunity: o.id, chainID: hop.chainID, txHash: receipt.txHash, tokenIn: hop.tokenIn, tokenOut: hop.tokenOut, amountIn: amountIn, amountOut: out,
                          detected: o.grossProfit, expected: expected, realized: realized)
        trades.append(trade)
        var h = hedge
        (h.txHash, h.status) = (landedHash.isEmpty ? receipt.txHash : landedHash, "intent")
        if hop.tokenOut == ref.base { h.quantity = out }
        do {
            try journal.record(receipt: .init(txHash: receipt.txHash, opportunity: Hex.encode(o.id), chain: hop.chainID, block: receipt.block, status: 1,
                                              gasUsed: 0, effectiveGasPrice: .zero, asset: hop.tokenIn, expectedProfit: expected,
                                              detectedProfit: o.grossProfit, realizedProfit: realized, eventProfit: realized), at: WallClock.nanoseconds())
            try journal.record(hedge: h, at: WallClock.nanoseconds())
        } catch {
            logger.error("CEX–DEX trade not journaled", metadata: ["arb.opportunity": "\(Hex.encode(o.id))", "error": "\(error)"])
        }
        logger.info("CEX–DEX leg landed", metadata: ["arb.opportunity": "\(Hex.encode(o.id))", "arb.realized": "\(realized)", "arb.expected": "\(expected)"])
        return trade
    }
}

/// One CEX–DEX sender key's own-capital transactions, on each chain it has an account on: its
/// nonces and its busy flag per chain.
actor CexDexLane: OwnCapitalSender {
    let settings: LegSettings
    let strategyName = "cexDex"
    let journal: Journal
    var nonces: [UInt64: NonceManager] = [:]
    var gas: [UInt64: GasOracle] = [:]
    var busy: Set<UInt64> = []

    init(settings: LegSettings, accounts: [OwnCapitalAccount], journal: Journal) {
        self.settings = settings
        self.journal = journal
        for a in accounts { nonces[a.chainID] = NonceManager(chain: a.chainID, sender: a.key.address, journal: journal, eth: a.eth) }
    }

    func recover() async throws {
        for n in nonces.values { _ = try await n.recover() }
    }

    func send(_ account: OwnCapitalAccount, opportunity: [UInt8], data: [UInt8], expect: UInt256,
              whenSigned: (String) -> Void) async -> Result<LegReceipt, Refusal> {
        await transact(account, opportunity: opportunity, data: data, expect: expect, whenSigned: whenSigned)
    }
}
