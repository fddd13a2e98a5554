import EVMCodec
import EVMPrimitives
import EthClient
import Logging
import MarketWatch
import Opportunities

/// Statistical-arbitrage positions on own capital (#19): `PositionBook` decides; this performs.
/// A position opens with one swap of the executor's inventory (`sell` of the dear token for the
/// cheap one, at exactly what our state quotes, which the simulation must confirm) and closes with
/// the swap back. Every step is journaled (`stat_position`) before the next; `recover` rebuilds
/// the book at a start, and settles a swap whose fate a stop left unknown by its receipt.
public actor PositionExecutor: OwnCapitalSender {
    public struct Configuration: Sendable {
        public var legs = LegSettings()
        public var limits = PositionBook.Limits()
        /// Seconds a swap may wait for inclusion before the contract refuses it.
        public var deadlineSeconds: UInt64 = 300
        /// How long a swap waits for our state to reach the chain's head (its own last swap, say) before quoting.
        public var catchUp: Duration = .seconds(3)
        /// A swap's minimum output below its quote, in basis points: a position is not an exact
        /// arbitrage, and a block between our quote and the swap's (the pair's own market) must
        /// not cost the trade. What it gets is read from its `Sold` event.
        public var slippageBps: UInt64 = 30
        /// Quotes a swap may take: a state that moved under it (the simulation disagrees, or the
        /// bundle no longer simulates) is re-quoted on the next one.
        public var attempts = 3
        /// How long a swap waits for a pool another trade of ours is on its way through (then `lock:poolBusy`).
        public var poolWait: Duration = .seconds(15)
        public init() {}
    }

    public let configuration: Configuration
    var settings: LegSettings { configuration.legs }
    let strategyName = "statistical"
    let accounts: [UInt64: OwnCapitalAccount]
    let state: any ChainStateSource
    let journal: Journal
    let logger: Logger
    var nonces: [UInt64: NonceManager] = [:]
    var gas: [UInt64: GasOracle] = [:]
    var busy: Set<UInt64> = []
    /// Pools with a trade of ours on its way: a swap waits its turn (`poolWait`; then `lock:poolBusy`, tried again at the next review).
    let claims: PoolClaims
    public private(set) var book: PositionBook
    /// Openings begun in the background (`begin`), and the refusals they met, by "stage:reason".
    var followers = Followers()
    public private(set) var refusals: [String: Int] = [:]
    /// No new position after `stopOpening` (a run's end); reviews still close what is open.
    var opening = true

    /// `claims`: the pools our trades are on their way through, shared with the process's other executors.
    public init(configuration: Configuration = .init(), accounts: [OwnCapitalAccount], state: any ChainStateSource, journal: Journal, logger: Logger,
                claims: PoolClaims = PoolClaims()) {
        self.configuration = configuration
        self.claims = claims
        self.accounts = Dictionary(uniqueKeysWithValues: accounts.map { ($0.chainID, $0) })
        self.state = state
        self.journal = journal
        self.logger = logger
        book = PositionBook(limits: configuration.limits)
        for a in accounts { nonces[a.chainID] = NonceManager(chain: a.chainID, sender: a.key.address, journal: journal, eth: a.eth) }
    }

    public var positions: [StatPosition] { book.positions }

    /// Settles the accounts' nonces and rebuilds the book from the journal's open positions; a
    /// swap that was on its way at the stop is settled by its receipt (none: it never ran).
    /// Returns the positions open after it.
    public func recover() async throws -> Int {
        for n in nonces.values { _ = try await n.recover() }
        var open: [StatPosition] = []
        for var p in try journal.positions(open: true) {
            if let account = accounts[p.chainID] {
                if p.status == .opening { await settleOpening(&p, account) }
                if p.status == .closing { await settleClosing(&p, account) }
            }
            record(p)
            if p.isOpen { open.append(p) }
        }
        book = PositionBook(limits: configuration.limits, positions: open)
        return open.count
    }

    /// Opens a position for `e` in the background (a refusal is counted in `refusals` and journaled).
    public func begin(_ e: PositionBook.Entry, path: [Opportunity.Hop]) {
        followers.add { serial in
            Task {
                if case .failure(let r) = await self.open(e, path: path) { self.count(r, id: e.id, chain: e.chainID) }
                self.followers.remove(serial)
            }
        }
    }

    /// Journals a statistical opportunity as received (its decisions refer to it).
    public func journalOpportunity(_ o: Opportunity) { try? journal.record(opportunity: o, receivedAt: WallClock.nanoseconds()) }

    /// Counts a refusal of the opportunity `id` and journals it (a decision, as the engine's).
    public func count(_ r: Refusal, id: [UInt8], chain: UInt64) {
        refusals["\(r.stage):\(r.reason)", default: 0] += 1
        try? journal.decision(id, chain: chain, stage: r.stage, outcome: "refused", reason: r.reason, detail: r.detail, at: WallClock.nanoseconds())
    }

    /// Waits for openings begun until `deadline`; then cancels them (a swap already sent stays
    /// journaled as opening, settled at the next start).
    public func drain(until deadline: ContinuousClock.Instant?) async {
        await Followers.drain(until: deadline, isEmpty: { followers.isEmpty }, cancel: { followers.cancelAll() })
    }

    public func stopOpening() { opening = false }

    /// The own-capital accounts, by chain (the executors holding the inventory).
    public var inventories: [OwnCapitalAccount] { accounts.values.sorted { $0.chainID < $1.chainID } }

    /// Opens a position for `e` through `path` (the sold token to the bought one, on `e`'s chain).
    public func open(_ e: PositionBook.Entry, path: [Opportunity.Hop]) async -> Result<StatPosition, Refusal> {
        guard opening else { return .failure(Refusal("strategy", "closed", "no new positions: the run is ending")) }
        guard let account = accounts[e.chainID] else { return .failure(Refusal("strategy", "positionNotConfigured", "no position executor on chain \(e.chainID)")) }
        let sold = e.longA ? e.tokenB : e.tokenA
        guard path.first?.tokenIn == sold, path.last?.tokenOut == (e.longA ? e.tokenA : e.tokenB) else { return .failure(Refusal("validate", "invalid")) }
        guard let s = state.state(chain: e.chainID) else { return .failure(Refusal("stale", "noState")) }
        let holding = await account.eth.balance(of: account.executor, token: sold, block: s.block) ?? .zero
        var p: StatPosition
        switch book.consider(e, holding: holding) {
        case .failure(let r): return .failure(r)
        case .success(let opening): p = opening
        }
        record(p)
        let (receipt, refusal) = await swap(account, sell: p.sold, amount: p.amountSold, path: path, id: p.id, signed: { p.openTx = $0; self.record(p) })
        if let refusal, refusal.reason == "pending" {
            p.detail = "opening in doubt: \(refusal.detail); settled at the next start"
            record(p)
            return .failure(refusal)
        }
        p = book.opened(p.id, bought: receipt.map { $0.proceeds }, tx: receipt?.hash ?? p.openTx) ?? p
        if let refusal { p.detail = refusal.description }
        record(p)
        if let refusal { return .failure(refusal) }
        logger.info("position opened", metadata: ["arb.pair": "\(p.pair)", "arb.sold": "\(p.amountSold)", "arb.bought": "\(p.amountBought ?? .zero)"])
        return .success(p)
    }

    /// The pair's spread at `z` (NaN: unknown, so only age counts): closes what reverted, reached
    /// the stop or aged out, through `back` (the bought token to the sold one). Returns the
    /// positions it closed.
    public func review(chainID: UInt64, pair: Int, z: Double, block: UInt64, back: [Opportunity.Hop]) async -> [StatPosition] {
        var done: [StatPosition] = []
        for p in book.review(chainID: chainID, pair: pair, z: z, block: block) {
            record(p)
            if let closed = await close(p, back: back) { done.append(closed) }
        }
        return done
    }

    func close(_ p: StatPosition, back: [Opportunity.Hop]) async -> StatPosition? {
        guard let account = accounts[p.chainID], let amount = p.amountBought, back.first?.tokenIn == p.bought, back.last?.tokenOut == p.sold else {
            if let back = book.closed(p.id, proceeds: nil, tx: "", detail: "no way back configured") { record(back) }
            return nil
        }
        var closing = p
        let (receipt, refusal) = await swap(account, sell: p.bought, amount: amount, path: back, id: p.id, signed: { closing.closeTx = $0; self.record(closing) })
        if let refusal, refusal.reason == "pending" {
            closing.detail = "closing in doubt: \(refusal.detail); settled at the next start"
            record(closing)
            return nil
        }
        guard let done = book.closed(p.id, proceeds: receipt?.proceeds, tx: receipt?.hash ?? "", detail: refusal?.description ?? "") else { return nil }
        record(done)
        if done.status == .closed {
            logger.info("position closed", metadata: ["arb.pair": "\(p.pair)", "arb.reason": "\(p.closeReason?.rawValue ?? "")", "arb.realized": "\(done.realized ?? .zero)"])
            return done
        }
        return nil
    }

    /// `swap` until it lands or meets a refusal a new quote cannot help, at most `attempts` times.
    func swap(_ account: OwnCapitalAccount, sell token: Address, amount: UInt256, path: [Opportunity.Hop], id: [UInt8],
              signed: (String) -> Void) async -> (receipt: (hash: String, proceeds: UInt256)?, refusal: Refusal?) {
        var last: (receipt: (hash: String, proceeds: UInt256)?, refusal: Refusal?) = (nil, nil)
        for _ in 0..<max(1, configuration.attempts) {
            last = await swapOnce(account, sell: token, amount: amount, path: path, id: id, signed: signed)
            guard let r = last.refusal, ["mismatch", "reverted", "notIncluded", "behind"].contains(r.reason), !Task.isCancelled else { return last }
        }
        return last
    }

    /// `sell(token, amount, steps, minimum, deadline)` on what our state quotes for the path (the
    /// simulation must return exactly that), with `slippageBps` of room in the minimum. The
    /// proceeds are the `Sold` event's.
    func swapOnce(_ account: OwnCapitalAccount, sell token: Address, amount: UInt256, path: [Opportunity.Hop], id: [UInt8],
                  signed: (String) -> Void) async -> (receipt: (hash: String, proceeds: UInt256)?, refusal: Refusal?) {
        let pools = path.map(\.pool)
        guard await claims.claim(pools, chain: account.chainID, waiting: configuration.poolWait) else {
            return (nil, Refusal("lock", "poolBusy", "a trade of ours through the path is on its way"))
        }
        defer { claims.release(pools, chain: account.chainID) }
        guard let s = await caughtUp(account, state: state, within: configuration.catchUp) else { return (nil, Refusal("stale", "behind", "our state did not reach the chain's head within \(configuration.catchUp)")) }
        let q: Requote
        switch Requote.quote(path, amountIn: amount, on: s) {
        case .failure(let f): return (nil, Refusal("requote", "failed", "\(f)"))
        case .success(let quoted): q = quoted
        }
        let deadline = UInt256(WallClock.nanoseconds() / 1_000_000_000 + configuration.deadlineSeconds)
        let minimum = q.amountOut - q.amountOut / 10_000 * UInt256(configuration.slippageBps)
        let data = try! CrossChainExecutor.sell.calldata([.address(token), .uint(amount), ExecutorCall.steps(q.steps), .uint(minimum), .uint(deadline)])
        switch await transact(account, opportunity: id, data: data, expect: q.amountOut, whenSigned: signed) {
        case .failure(let r): return (nil, r)
        case .success(let receipt): return ((receipt.txHash, LegReceipt.sold(receipt.logs, executor: account.executor) ?? q.amountOut), nil)
        }
    }

    /// A swap's fate: landed (with its `Sold` proceeds), never (reverted, never sent, or
    /// forgotten by the node), or still waiting at the node.
    enum SwapFate { case landed(UInt256?), never, waiting }

    func fate(of hash: String, _ account: OwnCapitalAccount) async -> SwapFate {
        guard !hash.isEmpty else { return .never }
        if let receipt = await LegReceipt.fetch(hash, on: account.eth) {
            return receipt.status == 1 ? .landed(LegReceipt.sold(receipt.logs, executor: account.executor)) : .never
        }
        // Whether the node still holds it (an unread answer counts as holding it).
        return (try? await account.eth.knows(transaction: hash)) ?? true ? .waiting : .never
    }

    /// An opening swap's fate: open with what it bought, failed, or still opening.
    func settleOpening(_ p: inout StatPosition, _ account: OwnCapitalAccount) async {
        switch await fate(of: p.openTx, account) {
        case .landed(let bought): (p.amountBought, p.status) = (bought, .open)
        case .never: p.status = .failed
        case .waiting: break
        }
    }

    /// A closing swap's fate: closed with its proceeds, open again, or still closing.
    func settleClosing(_ p: inout StatPosition, _ account: OwnCapitalAccount) async {
        switch await fate(of: p.closeTx, account) {
        case .landed(let proceeds): (p.proceeds, p.status) = (proceeds, .closed)
        case .never: p.status = .open
        case .waiting: break
        }
    }

    func record(_ p: StatPosition) {
        do {
            try journal.record(position: p, at: WallClock.nanoseconds())
        } catch {
            logger.error("position not journaled", metadata: ["arb.pair": "\(p.pair)", "error": "\(error)"])
        }
    }
}
