import AMMMath
import EVMPrimitives
import Opportunities
import SolanaPrimitives

/// Cross-venue and triangular cycles through the book's pools, from each configured start mint
/// (SOL by default), each touching a pool that just changed: screened by their marginal rates,
/// sized at the exact integer optimum by the same optimiser as the EVM cycles, and published as
/// `solana` opportunities when what is left after the expected fee and tip passes the minimum.
/// Synchronous and deterministic: the service around it feeds it the book and the slot.
public struct SolanaCycleDetector: Sendable {
    public struct Start: Sendable, Equatable {
        /// Least profit after costs, in the mint's raw units.
        public var minProfit: UInt64
        /// Largest input, in the mint's raw units.
        public var maxIn: UInt64
        /// What a trade is expected to pay in fees and tip, in the mint's raw units.
        public var costs: UInt64
        public init(minProfit: UInt64, maxIn: UInt64, costs: UInt64) {
            (self.minProfit, self.maxIn, self.costs) = (minProfit, maxIn, costs)
        }
    }

    public struct Configuration: Sendable {
        public var starts: [PublicKey: Start]
        /// 2 (cross-venue) or 3 (triangular) pools.
        public var maxHops: Int
        /// How long a published opportunity stays valid (nanoseconds).
        public var lifetime: UInt64
        public init(starts: [PublicKey: Start], maxHops: Int = 3, lifetime: UInt64 = 4_000_000_000) {
            (self.starts, self.maxHops, self.lifetime) = (starts, min(max(maxHops, 2), Opportunity.Solana.maxLegs), lifetime)
        }
    }

    public struct Counts: Sendable, Equatable {
        public init() {}
        public var cycles = 0
        public var screenedOut = 0
        public var sized = 0
        public var belowMinimum = 0
        public var repeated = 0
        public var published = 0
    }

    public let configuration: Configuration
    public private(set) var counts = Counts()
    /// The newest state each cycle was published on (by its pools, in order).
    var published: [[PublicKey]: [UInt64]] = [:]
    /// Every cycle from every start over the book's pools, and which go through each pool: built
    /// when the book's pools change (its `generation`), not per update.
    var cycles: [(start: PublicKey, edges: [Edge])] = []
    var through: [PublicKey: [Int]] = [:]
    var indexed: Int? = nil
    /// Each indexed pool's position, and its marginal rates (output per unit input, fees in) at
    /// `rates[2·position]` (token0 in) and `[2·position + 1]`: refreshed for the pools a write
    /// changed, so screening a cycle reads two or three numbers and copies no pool.
    var positions: [PublicKey: Int] = [:]
    var rates: [Double] = []
    /// The book's clock when the rates were measured (a DLMM pair's fee decays with it).
    var measuredAt: Int64 = .min

    public init(configuration: Configuration) { self.configuration = configuration }

    struct Edge {
        var pool: PublicKey
        var other: PublicKey
        var zeroForOne: Bool
        /// Where the pool's rate in this direction is in `rates`.
        var rate: Int
    }

    /// The opportunities `changed` pools open at `slot`, best first.
    public mutating func detect(_ book: SolanaPoolBook, changed: [PublicKey], slot: UInt64, now: UInt64) -> [Opportunity] {
        guard !changed.isEmpty else { return [] }
        if indexed != book.generation {
            index(book)
        } else if measuredAt != book.clock {
            for pool in positions.keys { measure(pool, book) }
        } else {
            for pool in changed { measure(pool, book) }
        }
        measuredAt = book.clock
        let chosen: [Int]
        if changed.count == 1 {
            chosen = through[changed[0]] ?? []
        } else {
            var all: [Int] = []
            for pool in changed { all += through[pool] ?? [] }
            chosen = Array(Set(all)).sorted()
        }
        var out: [Opportunity] = []
        for i in chosen {
            let (start, cycle) = cycles[i]
            counts.cycles += 1
            if let o = evaluate(cycle, start: start, configuration.starts[start]!, book: book, slot: slot, now: now) { out.append(o) }
        }
        return out.sorted { $0.netProfit > $1.netProfit }
    }

    /// Lists every cycle over the book's pools, from each start, and indexes them by pool.
    mutating func index(_ book: SolanaPoolBook) {
        var edges: [PublicKey: [Edge]] = [:]
        positions = [:]
        let pools = book.entries.values.sorted(by: { $0.address < $1.address })
        rates = [Double](repeating: 0, count: 2 * pools.count)
        for (i, e) in pools.enumerated() {
            positions[e.address] = i
            edges[e.mint0, default: []].append(Edge(pool: e.address, other: e.mint1, zeroForOne: true, rate: 2 * i))
            edges[e.mint1, default: []].append(Edge(pool: e.address, other: e.mint0, zeroForOne: false, rate: 2 * i + 1))
            measure(e.address, book)
        }
        (cycles, through) = ([], [:])
        for start in configuration.starts.keys.sorted() {
            var found: [[Edge]] = []
            walk(from: start, at: start, edges: edges, path: [], into: &found)
            for cycle in found {
                for pool in Set(cycle.map(\.pool)) { through[pool, default: []].append(cycles.count) }
                cycles.append((start, cycle))
            }
        }
        indexed = book.generation
    }

    /// The pool's marginal rates as it stands in the book.
    mutating func measure(_ pool: PublicKey, _ book: SolanaPoolBook) {
        guard let i = positions[pool], let e = book.entries[pool] else { return }
        func rate(_ zeroForOne: Bool) -> Double {
            let (rIn, rOut, g) = e.pool.local(zeroForOne: zeroForOne)
            return rIn > 0 ? g * rOut / rIn : 0
        }
        (rates[2 * i], rates[2 * i + 1]) = (rate(true), rate(false))
    }

    /// Every simple cycle from `start` of 2…maxHops pools, each pool once.
    func walk(from start: PublicKey, at mint: PublicKey, edges: [PublicKey: [Edge]], path: [Edge], into cycles: inout [[Edge]]) {
        for e in edges[mint] ?? [] where !path.contains(where: { $0.pool == e.pool }) {
            let next = path + [e]
            if e.other == start {
                if next.count >= 2 { cycles.append(next) }
            } else if next.count < configuration.maxHops, !path.contains(where: { $0.other == e.other }) {
                walk(from: start, at: e.other, edges: edges, path: next, into: &cycles)
            }
        }
    }

    mutating func evaluate(_ cycle: [Edge], start: PublicKey, _ s: Start, book: SolanaPoolBook, slot: UInt64, now: UInt64) -> Opportunity? {
        // Screen: the product of marginal rates (fees included) must pass 1.
        var rate = 1.0
        for e in cycle { rate *= rates[e.rate] }
        guard rate > 1 else { counts.screenedOut += 1; return nil }
        let entries = cycle.map { book.entries[$0.pool]! }
        let path = Path(zip(cycle, entries).map { Path.Hop(pool: $1.pool, zeroForOne: $0.zeroForOne) })
        guard let sizing = Optimizer.optimize(path, maxIn: UInt256(s.maxIn)) else { counts.screenedOut += 1; return nil }
        counts.sized += 1
        let gross = sizing.grossProfit
        guard gross.w1 | gross.w2 | gross.w3 == 0, gross.w0 >= s.costs &+ s.minProfit, gross.w0 >= s.costs else {
            counts.belowMinimum += 1
            return nil
        }
        let key = cycle.map(\.pool), state = entries.map(\.slot)
        guard published[key] != state else { counts.repeated += 1; return nil }
        published[key] = state
        var legs: [Opportunity.Solana.Leg] = []
        var mintIn = start
        for (i, e) in cycle.enumerated() {
            legs.append(.init(pool: e.pool.bytes, mintIn: mintIn.bytes, mintOut: e.other.bytes, amountOut: sizing.amounts[i + 1].w0))
            mintIn = e.other
        }
        counts.published += 1
        let amountIn = sizing.amountIn.w0
        return Opportunity(id: Opportunity.makeID(slot: slot, legs: legs, amountIn: amountIn), kind: .solana, chains: [Opportunity.solanaChainID],
                           path: [], amountIn: sizing.amountIn, grossProfit: Int256(bitPattern: gross), netProfit: Int256(bitPattern: gross - UInt256(s.costs)),
                           grossProfitMicroUSD: 0, netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: UInt256(s.costs), flashSource: .none, blockNumber: slot,
                           timestamps: .init(stateApplied: now, detected: now, published: now), expiresAt: now + configuration.lifetime,
                           confidence: 0.9, solana: .init(legs: legs))
    }
}
