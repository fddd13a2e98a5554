import EVMPrimitives

/// Every arbitrage cycle of one chain's pools, precomputed, and for each pool the cycles through
/// it: a pool update re-evaluates only those.
///
/// A cycle starts and ends at a *start asset* (one a flash loan can lend), goes through 2 to
/// `maxHops` distinct pools and visits no token twice. Each way round is its own cycle. A cycle
/// through several start assets is listed once, from the one that comes first in `startAssets`,
/// so the same trade is not found under two assets. Two hops are a cross-DEX trade (one pair, two
/// pools), three triangular, four and five multi-leg.
///
/// Work is bounded: at most `maxCyclesPerPool` cycles per pool (shorter cycles are found first,
/// and an expansion looks at no more than `maxBranching` pools per token), so dense graphs cost a
/// known amount per update.
public struct CycleIndex: Sendable {
    public struct Options: Sendable {
        public var maxHops = 5
        public var maxCyclesPerPool = 64
        /// Pools followed out of each intermediate token (the original's "15 candidates per hop").
        public var maxBranching = 15
        public init() {}
    }

    /// One way round a cycle: hop `k` sells `tokens[k]` into `pools[k]` (`zeroForOne[k]` when
    /// that is the pool's token0) for `tokens[k + 1]`; `tokens.last == tokens.first`.
    public struct Cycle: Hashable, Sendable {
        public var pools: [Int32]
        public var zeroForOne: [Bool]
        public var tokens: [Address]
        public var hops: Int { pools.count }
    }

    public let options: Options
    public private(set) var cycles: [Cycle] = []
    /// `byPool[p]`: indices into `cycles` of the cycles through pool `p`.
    public private(set) var byPool: [[Int32]] = []

    /// Builds the index of `pools` (pool index = position, matching the `PoolBook`'s ids; nil:
    /// not a pool to trade through). `startAssets` in order of preference.
    public init(pools: [PoolRef?], startAssets: [Address], options: Options = Options()) {
        self.options = options
        byPool = Array(repeating: [], count: pools.count)
        // token → [(pool, other token, zeroForOne)], in pool order.
        var adjacency: [Address: [(pool: Int32, to: Address, zeroForOne: Bool)]] = [:]
        for (i, ref) in pools.enumerated() {
            guard let ref, ref.token0 != ref.token1 else { continue }
            adjacency[ref.token0, default: []].append((Int32(i), ref.token1, true))
            adjacency[ref.token1, default: []].append((Int32(i), ref.token0, false))
        }
        let rank = Dictionary(startAssets.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<[Int32]>()
        for length in 2...max(2, options.maxHops) {
            for (r, start) in startAssets.enumerated() where adjacency[start] != nil {
                var pools: [Int32] = []
                var directions: [Bool] = []
                var tokens: [Address] = [start]
                search(from: start, start: start, rank: r, ranks: rank, length: length, adjacency: adjacency,
                       pools: &pools, directions: &directions, tokens: &tokens, seen: &seen)
            }
        }
    }

    private mutating func search(from token: Address, start: Address, rank r: Int, ranks: [Address: Int], length: Int,
                                 adjacency: [Address: [(pool: Int32, to: Address, zeroForOne: Bool)]],
                                 pools: inout [Int32], directions: inout [Bool], tokens: inout [Address], seen: inout Set<[Int32]>) {
        let edges = adjacency[token] ?? []
        let limit = pools.isEmpty ? edges.count : min(edges.count, options.maxBranching)
        for e in edges.prefix(limit) {
            guard !pools.contains(e.pool), byPool[Int(e.pool)].count < options.maxCyclesPerPool else { continue }
            let closing = pools.count + 1 == length
            if closing {
                guard e.to == start else { continue }
            } else {
                // No token twice, and no start asset preferred to this one in the middle.
                guard e.to != start, !tokens.contains(e.to), (ranks[e.to] ?? .max) > r else { continue }
            }
            pools.append(e.pool)
            directions.append(e.zeroForOne)
            tokens.append(e.to)
            if closing {
                add(Cycle(pools: pools, zeroForOne: directions, tokens: tokens), seen: &seen)
            } else {
                search(from: e.to, start: start, rank: r, ranks: ranks, length: length, adjacency: adjacency,
                       pools: &pools, directions: &directions, tokens: &tokens, seen: &seen)
            }
            pools.removeLast()
            directions.removeLast()
            tokens.removeLast()
        }
    }

    private mutating func add(_ cycle: Cycle, seen: inout Set<[Int32]>) {
        guard cycle.pools.allSatisfy({ byPool[Int($0)].count < options.maxCyclesPerPool }), seen.insert(cycle.pools).inserted else { return }
        let id = Int32(cycles.count)
        cycles.append(cycle)
        for p in cycle.pools { byPool[Int(p)].append(id) }
    }
}

/// A pool as detection sees it: where it is and what it trades. Its state lives in the `PoolBook`.
public struct PoolRef: Hashable, Sendable {
    public var address: Address
    public var token0: Address
    public var token1: Address
    /// The venue number (a DEX, with its fee tier), as in the PriceMatrix key.
    public var venue: UInt32

    public init(address: Address, token0: Address, token1: Address, venue: UInt32) {
        self.address = address
        self.token0 = token0
        self.token1 = token1
        self.venue = venue
    }
}
