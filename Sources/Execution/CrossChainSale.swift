import EVMPrimitives

/// Selling an asset that arrived over the bridge, as decisions with no I/O: the executor reads
/// our state, the chain and the node as this asks, and hands each result back.
///
/// The sale goes at exactly what the chain says it fetches now (`sell` simulated with no
/// minimum), once that returns at least the quote spent, or at the market once the position has
/// been held `maxHold` (it is not held open-ended). A price that is short by our own state is
/// waited for without asking the chain. A failed simulation or sale counts as an attempt; after
/// `maxAttempts` the asset is held for the next start. A sale sent and still pending when its
/// wait ended may land yet: while the node knows it, no other sale is sent (it would spend a
/// second nonce on a sale that can only revert), and past `maxReceiptWait` it counts as an attempt.
public struct CrossChainSale: Sendable {
    public struct Limits: Sendable {
        public var maxAttempts = 5
        public var maxHoldNanoseconds: UInt64 = 600_000_000_000
        public var maxReceiptWaitNanoseconds: UInt64 = 120_000_000_000
        public init() {}
    }

    /// A sale sent and not known to have landed.
    public struct Pending: Sendable, Equatable {
        public var hash: String
        public var proceeds: UInt256
        public var since: UInt64
    }

    public enum Action: Sendable, Equatable {
        /// Look for a receipt (status 1) of any of these sales.
        case findPending([Pending])
        /// Whether the node still knows any of these hashes (mined or waiting).
        case knowsPending([String])
        /// Quote the sale on our own state of the destination chain.
        case quote
        /// `eth_call` of `sell` with no minimum and this deadline (seconds): what the chain gives now.
        case fetch(Requote, deadline: UInt64)
        /// Send `sell` with `minimum` (what the chain gave) and the same deadline.
        case sell(Requote, minimum: UInt256, deadline: UInt64)
        /// Wait one poll.
        case pause
        /// Sold: the sale's hash and proceeds (its `Sold` event's, else as simulated, with a note).
        case sold(hash: String, proceeds: UInt256, note: String?)
        /// Not sold within the attempts: held for the next start.
        case held(String)
    }

    public enum Event: Sendable {
        case pendingLanded((hash: String, proceeds: UInt256)?)
        case known(Bool)
        /// nil: no state to quote on.
        case quoted(Requote?)
        case fetched(Result<UInt256, Refusal>)
        /// The sale landed with status 1 (`event`: its `Sold` proceeds), or why not.
        case sent(Result<(hash: String, event: UInt256?), Refusal>)
        case paused
        /// Another trade of ours is on its way through the pool (it waited `poll` for it): no attempt
        /// spent, the asset held after the hold limit as for a price.
        case poolBusy
    }

    public let limits: Limits
    /// What leg one spent (the quote token): the least a sale must return before `maxHold`.
    public let spent: UInt256
    public let began: UInt64
    public private(set) var attempts = 0
    public private(set) var lastQuote = "none"
    public private(set) var pending: [Pending] = []
    /// The quote being fetched or sold and its deadline; what the sale in flight expects.
    private var quoted: (q: Requote, deadline: UInt64)?
    private var sending = UInt256.zero

    public init(limits: Limits, spent: UInt256, began: UInt64) {
        self.limits = limits
        self.spent = spent
        self.began = began
    }

    /// What to do first, and after each pause.
    public var next: Action {
        if attempts >= limits.maxAttempts { return .held("held after \(attempts) sale attempt(s): last quote \(lastQuote); sold at the next start") }
        return pending.isEmpty ? .quote : .findPending(pending)
    }

    public mutating func advance(_ event: Event, now: UInt64) -> Action {
        switch event {
        case .pendingLanded(let landed?): return .sold(hash: landed.hash, proceeds: landed.proceeds, note: nil)
        case .pendingLanded(nil): return .knowsPending(pending.map(\.hash))
        case .known(true):
            if let oldest = pending.first, now &- oldest.since > limits.maxReceiptWaitNanoseconds {
                attempts += 1
                pending.removeAll()
            }
            return .pause
        case .known(false):
            pending.removeAll()
            return .quote
        case .quoted(nil): return attempt("no state to quote the sale on")
        case .quoted(let q?):
            if q.amountOut < spent && !heldTooLong(now) {
                // At a loss by our own state: wait for the price (no call to the chain), up to the hold limit.
                lastQuote = "\(q.amountOut) by our state (minimum \(spent))"
                return .pause
            }
            quoted = (q, now / 1_000_000_000 + 300)
            return .fetch(q, deadline: quoted!.deadline)
        case .fetched(.failure(let r)): return attempt(r.detail)
        case .fetched(.success(let fetches)):
            let (q, deadline) = quoted!
            lastQuote = "\(fetches) (our state: \(q.amountOut); minimum \(spent))"
            // At a loss on the chain's state (ours trails it): an attempt; the price is awaited.
            if fetches < spent && !heldTooLong(now) { return attempt(lastQuote) }
            sending = fetches
            return .sell(q, minimum: fetches, deadline: deadline)
        case .sent(.success(let landed)):
            // The sale landed: it is never sent again. Without our `Sold` event (a contract other than ours) the simulated proceeds stand, said so.
            return .sold(hash: landed.hash, proceeds: landed.event ?? sending, note: landed.event == nil ? "no Sold event in the sale's receipt: proceeds as simulated" : nil)
        case .sent(.failure(let r)):
            attempts += 1
            if r.stage == "inclusion", r.reason == "pending" { pending.append(Pending(hash: r.detail, proceeds: sending, since: now)) }
            return .pause
        case .paused: return next
        case .poolBusy: return heldTooLong(now) ? attempt("a trade of ours through the pool stayed on its way") : .pause
        }
    }

    private func heldTooLong(_ now: UInt64) -> Bool { now &- began >= limits.maxHoldNanoseconds }

    private mutating func attempt(_ quote: String) -> Action {
        attempts += 1
        lastQuote = quote
        return .pause
    }
}
