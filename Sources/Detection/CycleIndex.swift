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
/// Work is bounded: at most `maxCyclesPerPool` cycles per pool (shorter cycles are found first),
/// so dense graphs cost a known amount per update, and building visits a bounded number of paths.
public struct CycleIndex: Sendable {
    public struct Options: Sendable {
        public var maxHops = 5
        public var maxCyclesPerPool = 64
        /// Neighbour tokens followed out of each intermediate token (the original's "15
        /// candidates per hop").
        public var maxBranching = 15
        /// Token paths and pool combinations visited per chain while building.
        public var maxVisits = 1_000_000
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
    /// The rank of each cycle's start asset in `startAssets`.
    public private(set) var startAsset: [Int32] = []
    /// What screening a changed pool reads, laid out for it: the records of the cycles through
    /// pool `p` are `screenRecords[screenStart[p]..<screenStart[p + 1]]`, one after another, each
    /// the cycle's index, its hop count n, its start asset's rank, then its n hops as
    /// `pool << 1 | (zeroForOne ? 1 : 0)`. A changed pool's cycles are read in one sequential
    /// sweep (laid out by cycle instead, each cycle's hops would sit somewhere else in a large array).
    public private(set) var screenStart: [Int32] = [0]
    public private(set) var screenRecords: [Int32] = []

    /// Builds the index of `pools` (pool index = position, matching the `PoolBook`'s ids; nil:
    /// not a pool to trade through). `startAssets` in order of preference.
    ///
    /// The search walks token paths (a pair of tokens is one step, whatever number of pools
    /// trade it), then lays pools on each path in every combination. It visits at most
    /// `maxBranching` neighbour tokens out of each intermediate token and at most `maxVisits`
    /// token paths per chain, so building stays bounded on dense graphs.
    public init(pools: [PoolRef?], startAssets: [Address], options: Options = Options()) {
        self.options = options
        byPool = Array(repeating: [], count: pools.count)
        var graph = Graph()
        for (i, ref) in pools.enumerated() {
            guard let ref, ref.token0 != ref.token1 else { continue }
            graph.add(pool: Int32(i), ref.token0, ref.token1)
        }
        let ranks = startAssets.map { graph.ids[$0] }
        var budget = options.maxVisits
        for length in 2...max(2, options.maxHops) {
            for (r, start) in startAssets.enumerated() {
                guard let s = graph.ids[start] else { continue }
                // A token preferred to this start asset may not sit in the middle of its cycles.
                let barred = Set(ranks.prefix(r).compactMap { $0 })
                var path = [s]
                walk(graph, path: &path, length: length, rank: r, barred: barred, budget: &budget)
            }
        }
        for list in byPool {
            for c in list.map(Int.init) {
                let cycle = cycles[c]
                screenRecords += [Int32(c), Int32(cycle.hops), startAsset[c]]
                screenRecords += zip(cycle.pools, cycle.zeroForOne).map { $0 << 1 | ($1 ? 1 : 0) }
            }
            screenStart.append(Int32(screenRecords.count))
        }
    }

    /// Tokens as dense ids; for each token its neighbours in first-seen order, and for each
    /// ordered pair the pools between them with the direction that sells the first.
    struct Graph {
        var ids: [Address: Int32] = [:]
        var tokens: [Address] = []
        var neighbours: [[Int32]] = []
        var pairs: [UInt64: [(pool: Int32, zeroForOne: Bool)]] = [:]

        mutating func id(_ a: Address) -> Int32 {
            if let i = ids[a] { return i }
            let i = Int32(tokens.count)
            ids[a] = i
            tokens.append(a)
            neighbours.append([])
            return i
        }

        static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

        mutating func add(pool: Int32, _ token0: Address, _ token1: Address) {
            let a = id(token0), b = id(token1)
            if pairs[Self.key(a, b)] == nil {
                neighbours[Int(a)].append(b)
                neighbours[Int(b)].append(a)
            }
            pairs[Self.key(a, b), default: []].append((pool, true))
            pairs[Self.key(b, a), default: []].append((pool, false))
        }
    }

    private mutating func walk(_ g: Graph, path: inout [Int32], length: Int, rank: Int, barred: Set<Int32>, budget: inout Int) {
        guard budget > 0 else { return }
        budget -= 1
        let here = path[path.count - 1]
        if path.count == length {
            if length == 2 || g.pairs[Graph.key(here, path[0])] != nil { lay(g, path, rank: rank, budget: &budget) }
            return
        }
        var taken = 0
        for next in g.neighbours[Int(here)] {
            if path.count > 1 && taken >= options.maxBranching { break }
            guard next != path[0], !path.contains(next), !barred.contains(next) else { continue }
            taken += 1
            path.append(next)
            walk(g, path: &path, length: length, rank: rank, barred: barred, budget: &budget)
            path.removeLast()
        }
    }

    /// Every choice of pools along the closed token path `path` → `path[0]` whose pools all
    /// have room, in odometer order; for two hops, two different pools of the pair.
    private mutating func lay(_ g: Graph, _ path: [Int32], rank: Int, budget: inout Int) {
        let steps = path.count
        var choices: [[(pool: Int32, zeroForOne: Bool)]] = []
        for k in 0..<steps {
            guard let c = g.pairs[Graph.key(path[k], path[(k + 1) % steps])] else { return }
            choices.append(c)
        }
        var digit = Array(repeating: 0, count: steps)
        let tokens = path.map { g.tokens[Int($0)] } + [g.tokens[Int(path[0])]]
        while budget > 0 {
            budget -= 1
            let hops = (0..<steps).map { choices[$0][digit[$0]] }
            let pools = hops.map(\.pool)
            if Set(pools).count == steps, pools.allSatisfy({ byPool[Int($0)].count < options.maxCyclesPerPool }) {
                add(Cycle(pools: pools, zeroForOne: hops.map(\.zeroForOne), tokens: tokens), rank: rank)
            }
            var k = steps - 1
            while k >= 0 {
                digit[k] += 1
                if digit[k] < choices[k].count { break }
                digit[k] = 0
                k -= 1
            }
            if k < 0 { return }
        }
    }

    /// `rank`: the start asset's place in `startAssets`.
    private mutating func add(_ cycle: Cycle, rank: Int) {
        let id = Int32(cycles.count)
        cycles.append(cycle)
        for p in cycle.pools { byPool[Int(p)].append(id) }
        startAsset.append(Int32(rank))
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
