import EVMPrimitives
import Synchronization

/// The pools our trades are on their way through, shared by every executor of one process: the
/// flash-loan engine, the CEX–DEX legs, the statistical positions and the cross-chain legs.
///
/// Two of our trades through one pool in one block are not the trades either was simulated as:
/// the second runs on the state the first left (a CEX–DEX leg's bundle and a triangle's bundle for
/// the same block made the triangle realize five times its simulation). A trade claims its pools
/// before it is quoted for sending and gives them back when it settles; a claim that finds one of
/// them held takes none and is refused `lock:poolBusy`.
public final class PoolClaims: Sendable {
    public struct Pool: Hashable, Sendable {
        public let chain: UInt64
        public let address: Address
        public init(chain: UInt64, address: Address) {
            self.chain = chain
            self.address = address
        }
    }

    private let held = Mutex<Set<Pool>>([])

    public init() {}

    /// Claims every one of `pools` on `chain`, or none if one is held already (false).
    public func claim(_ pools: some Sequence<Address>, chain: UInt64) -> Bool {
        let wanted = Set(pools.map { Pool(chain: chain, address: $0) })
        return held.withLock { held in
            guard held.isDisjoint(with: wanted) else { return false }
            held.formUnion(wanted)
            return true
        }
    }

    /// Claims every one of `pools` on `chain` once none is held (tried every 50 ms), or false
    /// after `limit` or at a cancellation: for trades that can wait their turn (a position's swap,
    /// an arrived asset's sale) behind another of ours that holds a pool for a few blocks.
    public func claim(_ pools: [Address], chain: UInt64, waiting limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !claim(pools, chain: chain) {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Gives back `pools` on `chain` (claimed earlier by the same trade).
    public func release(_ pools: some Sequence<Address>, chain: UInt64) {
        held.withLock { held in
            for p in pools { held.remove(Pool(chain: chain, address: p)) }
        }
    }

    /// Whether a trade of ours holds `pool` on `chain`.
    public func isHeld(_ pool: Address, chain: UInt64) -> Bool {
        held.withLock { $0.contains(Pool(chain: chain, address: pool)) }
    }

    public var count: Int { held.withLock { $0.count } }
}
