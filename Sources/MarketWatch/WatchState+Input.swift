import EVMPrimitives
import MarketState

/// What a step gives back to the watcher driving it.
enum WatchOutcome {
    case none
    /// The tracker's verdict on a head or ancestor.
    case action(ChainTracker.Action)
    /// Pools the logs' factories created (to be read).
    case created([WatchedPool])
    case snapshot(ChainWatcher.Snapshot)
}

extension WatchState {
    /// Applies one step. Every change a `ChainWatcher` makes to its state goes through here, so
    /// that the steps recorded and fed again to a fresh state reach the same snapshots.
    mutating func perform(_ input: WatchInput, matrix: PriceMatrix) -> WatchOutcome {
        switch input {
        case .reset(let head, let reads):
            reset(head: head, reads: reads.map(Read.init), matrix: matrix)
            return .none
        case .observe(let h):
            return .action(tracker.observe(h))
        case .ancestor(let h):
            return .action(tracker.ancestor(h))
        case .logs(let logs):
            return .created(apply(logs, matrix: matrix))
        case .register(let block, let reads):
            register(reads.map(Read.init), at: block, matrix: matrix)
            return .none
        case .finish(let block):
            finish(block: block)
            return .none
        case .rollBack(let block):
            rollBack(toBefore: block, matrix: matrix)
            return .none
        case .publish(let received, let applied, let fee):
            headReceivedAt = received
            baseFee = fee
            return .snapshot(snapshot(appliedAt: applied))
        }
    }
}

extension WatchState.Read {
    init(_ r: PoolRead) { self.init(pool: r.pool, state: r.state, tickGross: r.tickGross, covered: r.covered) }
    var recorded: PoolRead { PoolRead(pool: pool, state: state, tickGross: tickGross, covered: covered) }
}

/// A chain watcher's recorded steps fed again to a fresh state of the same configuration: the
/// snapshots it published, the same to the wei and the nanosecond, without a chain (replay).
public struct WatchReplay {
    var state: WatchState
    let matrix: PriceMatrix
    /// Snapshots published so far (the next one's sequence is this plus one, as live).
    public private(set) var published: UInt64 = 0

    /// The last block whose logs are applied.
    public var block: UInt64 { state.applied }

    public init(_ configuration: ChainWatcher.Configuration) {
        state = WatchState(configuration)
        matrix = configuration.matrix
    }

    /// Applies `input`; the snapshot, when it is a publish.
    public mutating func apply(_ input: WatchInput) -> ChainWatcher.Snapshot? {
        guard case .snapshot(var snapshot) = state.perform(input, matrix: matrix) else { return nil }
        published += 1
        snapshot.sequence = published
        return snapshot
    }
}
