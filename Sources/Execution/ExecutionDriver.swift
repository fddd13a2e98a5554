import Opportunities

/// Performs the decision core's actions (`ExecutionCore.Action`) and feeds back what came of them:
/// the chain, the keys and the journal are the driver's; every decision is the core's.
/// `ExecutionEngine` is the live driver (RPC, signing, SQLite); a backtest drives the same core
/// with a driver that answers from a recording and its own clock.
///
/// Each `perform` is bounded in time (RPC timeouts, bounded waits): a trade's walk through the
/// stages always ends, in `follow` (sent) or a refusal.
public protocol ExecutionDriver: Actor {
    var core: ExecutionCore { get set }
    /// The clock the core decides by, in nanoseconds since the epoch (a backtest's is the recording's).
    func now() -> UInt64
    /// Performs one action for the trade `flow` and returns what came of it.
    func perform(_ action: ExecutionCore.Action, _ flow: ExecutionCore.Flow) async -> ExecutionCore.Event
    /// The trade was sent (or sent without an answer): follow it to inclusion, which ends its lease.
    func follow(_ flow: ExecutionCore.Flow, unanswered: Refusal?)
    /// Gives back a nonce reserved for a trade that was not sent.
    func release(_ reservation: ExecutionCore.Reservation, _ flow: ExecutionCore.Flow)
    /// The time spent in a stage (`rpc:` names network stages; `detectedToSigned` the in-process
    /// total from the first stage to the signature).
    func timed(_ stage: String, nanoseconds: UInt64)
}

extension ExecutionDriver {
    /// One opportunity through the core: receive, then each action performed and its result handed
    /// back until the trade is sent or refused. Returns the refusal, if any (its lease has ended).
    public func drive(_ o: Opportunity) async -> Result<Void, Refusal> {
        var clock = StageClock()
        var flow: ExecutionCore.Flow, next: ExecutionCore.Next
        switch core.start(o, now: now()) {
        case .failure(let r): return .failure(r)
        case .success(let started): (flow, next) = started
        }
        while true {
            if let stage = flow.completed { mark(&clock, stage, rpc: false) }
            switch next {
            case .refused(let r, let reservation):
                if let reservation { release(reservation, flow) }
                return .failure(r)
            case .track(_, let unanswered):
                follow(flow, unanswered: unanswered)
                return .success(())
            case .perform(let action):
                let event = await perform(action, flow)
                if let (stage, rpc) = action.timing { mark(&clock, stage, rpc: rpc) }
                if case .sign = action { timed("detectedToSigned", nanoseconds: StageClock.nanoseconds(clock.inProcess)) }
                next = core.advance(&flow, event, now: now())
            }
        }
    }

    private func mark(_ clock: inout StageClock, _ stage: String, rpc: Bool) {
        let ns = clock.mark()
        if !rpc { clock.inProcess += .nanoseconds(Int64(ns)) }
        timed(rpc ? "rpc:" + stage : stage, nanoseconds: ns)
    }
}
