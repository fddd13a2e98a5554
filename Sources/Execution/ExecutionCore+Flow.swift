import EVMPrimitives
import EVMSigning
import Opportunities

/// A trade from its locks to its submission as the core's state transitions: each `advance` takes
/// what the driver learned and returns the next action (read the state, fetch the gas price, plan,
/// read the L1 fee, reserve a nonce, sign, simulate, submit, track) or the refusal that ended it.
/// The driver (`ExecutionDriver`) performs the actions; nothing here waits or reads the network.
extension ExecutionCore {
    /// A nonce held for a trade and its journal row.
    public struct Reservation: Sendable, Equatable {
        public var nonce: UInt64
        public var submission: Int64
        public init(nonce: UInt64, submission: Int64) {
            self.nonce = nonce
            self.submission = submission
        }
    }

    /// What the driver does next for a trade.
    public enum Action: Sendable {
        /// Read the chain's state; `waiting`: it was short of the detected block, pause briefly first.
        case readState(waiting: Bool)
        case fetchGas(block: UInt64)
        /// Ask the lease's strategies, in order, for a plan of the re-quoted path.
        case plan(Requote)
        /// Read the L1 data fee (OP stack) of the unsigned transaction.
        case l1Fee(Transaction)
        case reserveNonce
        /// Sign with the lease's sender and journal the reservation as signed.
        case sign(Transaction)
        /// `eth_call` of the trade (and `eth_callBundle` for bundles) for `target`.
        case simulate(target: UInt64)
        /// Outrun while simulating or sending: read the chain's head.
        case readHead
        /// Read the chain's state once it reaches `block` (to re-quote after being outrun).
        case readStateAt(UInt64)
        case submit(target: UInt64)

        /// The stage a performed action is timed as (nil: its time goes to the next one), and whether it is a network stage.
        public var timing: (stage: String, rpc: Bool)? {
            switch self {
            case .readState, .readStateAt, .readHead: nil
            case .fetchGas: ("gas", true)
            case .plan: ("strategy", true)
            case .l1Fee: ("l1fee", true)
            case .reserveNonce: ("nonce", false)
            case .sign: ("sign", false)
            case .simulate: ("simulate", true)
            case .submit: ("submit", true)
            }
        }
    }

    /// After a transition: an action to perform, or the trade's end here.
    public enum Next: Sendable {
        case perform(Action)
        /// Sent: follow it to inclusion (the tracker ends the lease). `unanswered`: the send had no
        /// answer and may have been taken, so it is followed as sent.
        case track(target: UInt64, unanswered: Refusal?)
        /// Refused: the lease has ended in the core; `release` is the nonce the driver gives back.
        case refused(Refusal, release: Reservation?)
    }

    /// What an action came to.
    public enum Event: Sendable {
        case state(ChainState?)
        case gas(Result<GasOracle.Quote, GasOracle.Failure>)
        case planned(Result<TradePlan, Refusal>)
        /// nil: the oracle did not answer.
        case l1Fee(UInt256?)
        case reserved(Result<Reservation, Refusal>)
        case signed(SignedTransaction)
        case simulated(Result<Void, Refusal>)
        case head(UInt64?)
        case submitted(Result<Void, Refusal>)
    }

    /// One trade between its locks and its submission: what the driver has told the core so far.
    public struct Flow: Sendable {
        public enum Stage: Sendable, Equatable {
            case staleness, gas, plan, l1Fee, nonce, sign, simulate, outrunHead, outrunState, submit, done
        }

        public let opportunity: Opportunity
        public internal(set) var lease: Lease
        public internal(set) var stage: Stage = .staleness
        /// When the trade was received (nanoseconds): expiry, risk, and the contract's deadline.
        public let startedAt: UInt64
        public internal(set) var state: ChainState?
        public internal(set) var fees: GasOracle.Quote?
        public internal(set) var plan: TradePlan?
        public internal(set) var transaction: Transaction?
        /// The L1 data fee read for it (wei), on an OP-stack chain.
        public internal(set) var l1Fee: UInt256?
        public internal(set) var reservation: Reservation?
        public internal(set) var signed: SignedTransaction?
        public internal(set) var target: UInt64 = 0
        /// Times the trade was outrun and went again for a later block.
        public internal(set) var outruns = 0
        /// The in-process step the last transition completed (`validate`, `staleness`, `requote`, `build`), for timing.
        public internal(set) var completed: String?
        var lastOutrun: Refusal?
    }

    /// Receive (validate, strategy kinds, dedup, locks), then the first action: read the state.
    public mutating func start(_ o: Opportunity, now: UInt64) -> Result<(Flow, Next), Refusal> {
        switch receive(o) {
        case .failure(let r): return .failure(r)
        case .success(let lease):
            var flow = Flow(opportunity: o, lease: lease, startedAt: now)
            flow.completed = "validate"
            return .success((flow, .perform(.readState(waiting: false))))
        }
    }

    /// The next action after `event` (at `now`, nanoseconds); a refusal has already ended the lease.
    public mutating func advance(_ f: inout Flow, _ event: Event, now: UInt64) -> Next {
        f.completed = nil
        switch (f.stage, event) {
        case (.staleness, .state(let s)): return staleness(&f, s, now: now)
        case (.gas, .gas(let g)): return priced(&f, g)
        case (.plan, .planned(let p)): return planned(&f, p, now: now)
        case (.l1Fee, .l1Fee(let fee)): return l1Checked(&f, fee, now: now)
        case (.nonce, .reserved(let r)): return reserved(&f, r, now: now)
        case (.sign, .signed(let s)):
            f.signed = s
            f.stage = .simulate
            f.target = f.state!.block + 1
            return .perform(.simulate(target: f.target))
        case (.simulate, .simulated(.success)):
            f.stage = .submit
            return .perform(.submit(target: f.target))
        case (.simulate, .simulated(.failure(let r))) where r.reason == "outrun": return outrun(&f, r, now: now)
        case (.submit, .submitted(.failure(let r))) where r.reason == "outrun": return outrun(&f, r, now: now)
        case (.simulate, .simulated(.failure(let r))): return failed(&f, r, now: now)
        case (.submit, .submitted(.success)):
            f.stage = .done
            return .track(target: f.target, unanswered: nil)
        case (.submit, .submitted(.failure(let r))) where r.reason == "unanswered":
            f.stage = .done
            return .track(target: f.target, unanswered: r)
        case (.submit, .submitted(.failure(let r))): return failed(&f, r, now: now)
        case (.outrunHead, .head(let head)):
            guard let head else { return failed(&f, f.lastOutrun!, now: now) }
            f.stage = .outrunState
            return .perform(.readStateAt(head))
        case (.outrunState, .state(let s)):
            // The same signed trade goes for the next block if the path still quotes as detected there.
            guard let s, case .success(let q) = Requote.quote(f.opportunity.path, amountIn: f.opportunity.amountIn, on: s),
                  q.amountOut == f.opportunity.path.last!.amountOut else { return failed(&f, f.lastOutrun!, now: now) }
            f.stage = .simulate
            f.target = s.block + 1
            return .perform(.simulate(target: f.target))
        default:
            return failed(&f, Refusal("core", "unexpected", "\(event) at \(f.stage)"), now: now)
        }
    }

    // MARK: transitions

    /// Fresh state, or a wait for it while it may still catch up (`catchUp` from the start).
    private mutating func staleness(_ f: inout Flow, _ s: ChainState?, now: UInt64) -> Next {
        let waitedOut = now >= f.startedAt &+ configuration.catchUpNanoseconds
        switch staleness(f.lease, f.opportunity, state: s, now: f.startedAt, waitedOut: waitedOut) {
        case .refused(let r):
            f.stage = .done
            return .refused(r, release: nil)
        case .waitFor: return .perform(.readState(waiting: true))
        case .ready(let ready):
            f.state = ready
            f.stage = .gas
            f.completed = "staleness"
            return .perform(.fetchGas(block: ready.block))
        }
    }

    private mutating func priced(_ f: inout Flow, _ gas: Result<GasOracle.Quote, GasOracle.Failure>) -> Next {
        switch price(&f.lease, f.opportunity, gas: gas, state: f.state!, now: f.startedAt) {
        case .failure(let r):
            f.stage = .done
            return .refused(r, release: nil)
        case .success(let (fees, q)):
            f.fees = fees
            f.stage = .plan
            f.completed = "requote"
            return .perform(.plan(q))
        }
    }

    /// The plan built into the unsigned transaction (gas limit: detection's estimate with the
    /// chain's headroom, within its bounds); then its L1 fee, or straight to the nonce.
    private mutating func planned(_ f: inout Flow, _ p: Result<TradePlan, Refusal>, now: UInt64) -> Next {
        let plan: TradePlan
        switch p {
        case .failure(let r): return withdrawn(&f, r, now: now)
        case .success(let planned): plan = planned
        }
        let chain = chains[f.lease.chainID]!, fees = f.fees!
        let gasLimit = min(max(f.opportunity.gasUnits * chain.gasHeadroom.numerator / chain.gasHeadroom.denominator, chain.gasLimitBounds.lowerBound),
                           chain.gasLimitBounds.upperBound)
        let tx = Transaction(type: .dynamicFee, chainId: f.lease.chainID, nonce: 0, maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
                             maxFeePerGas: fees.maxFeePerGas, gasLimit: gasLimit, to: plan.executor, value: .zero, data: plan.calldata)
        f.plan = plan
        f.transaction = tx
        f.completed = "build"
        if chain.l1Fee {
            f.stage = .l1Fee
            return .perform(.l1Fee(tx))
        }
        f.stage = .nonce
        return .perform(.reserveNonce)
    }

    private mutating func l1Checked(_ f: inout Flow, _ fee: UInt256?, now: UInt64) -> Next {
        guard let fee else { return withdrawn(&f, Refusal("gas", "l1FeeUnavailable", "getL1Fee failed"), now: now) }
        if let r = Self.l1Fee(fee, f.opportunity, f.plan!) { return withdrawn(&f, r, now: now) }
        f.l1Fee = fee
        f.stage = .nonce
        return .perform(.reserveNonce)
    }

    private mutating func reserved(_ f: inout Flow, _ r: Result<Reservation, Refusal>, now: UInt64) -> Next {
        switch r {
        case .failure(let refusal): return withdrawn(&f, refusal, now: now)
        case .success(let reservation):
            f.reservation = reservation
            f.transaction!.nonce = reservation.nonce
            f.stage = .sign
            return .perform(.sign(f.transaction!))
        }
    }

    /// Outrun by a block: again for the next one while the path still quotes as detected (twice at most).
    private mutating func outrun(_ f: inout Flow, _ r: Refusal, now: UInt64) -> Next {
        // A backrun goes only right behind its target: a later block is the detector's to judge again.
        guard f.outruns < 2, f.opportunity.backrun == nil else { return failed(&f, r, now: now) }
        f.outruns += 1
        f.lastOutrun = r
        f.stage = .outrunHead
        return .perform(.readHead)
    }

    /// Given up before anything was signed: the risk slot goes back without a verdict.
    private mutating func withdrawn(_ f: inout Flow, _ r: Refusal, now: UInt64) -> Next {
        f.stage = .done
        return .refused(end(f.lease, .withdrawn, r, now: now), release: nil)
    }

    /// Signed and not sent: the nonce goes back. Outrun by the next block, or by transactions
    /// ahead of ours, is competition, not a fault of the chain's setup; anything else counts for
    /// its circuit breaker.
    private mutating func failed(_ f: inout Flow, _ r: Refusal, now: UInt64) -> Next {
        let ending: Ending = r.reason == "outrun" || r.reason == "pendingMoved" || f.signed == nil ? .withdrawn : .failed
        f.stage = .done
        return .refused(end(f.lease, ending, r, now: now), release: f.reservation)
    }
}
