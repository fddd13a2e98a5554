import ArbiterTestKit
import Detection
import EVMPrimitives
import Testing

func token(_ n: UInt64) -> Address { Address(truncating: UInt256(n)) }

/// Every simple cycle by brute force: all sequences of distinct pools from each start asset, kept
/// when the tokens close the loop without repeating and no more-preferred start asset sits in the
/// middle. Slow and obviously right; the index must find exactly these.
func bruteForceCycles(_ pools: [PoolRef?], starts: [Address], maxHops: Int) -> Set<[Int32]> {
    var found = Set<[Int32]>()
    func walk(_ start: Address, _ rank: Int, _ at: Address, _ path: [Int32], _ seenTokens: [Address]) {
        if path.count >= 2, at == start { found.insert(path); return }
        guard path.count < maxHops, path.isEmpty || at != start else { return }
        for (i, ref) in pools.enumerated() {
            guard let ref, !path.contains(Int32(i)), ref.token0 != ref.token1 else { continue }
            let next: Address
            if ref.token0 == at { next = ref.token1 } else if ref.token1 == at { next = ref.token0 } else { continue }
            if next != start {
                if seenTokens.contains(next) { continue }
                if let r = starts.firstIndex(of: next), r < rank { continue }
            } else if path.count + 1 < 2 {
                continue
            }
            walk(start, rank, next, path + [Int32(i)], seenTokens + [next])
        }
    }
    for (r, s) in starts.enumerated() { walk(s, r, s, [], [s]) }
    return found
}

@Suite struct CycleIndexTests {
    @Test func findsExactlyTheSimpleCyclesOfRandomGraphs() {
        var rng = SeededGenerator(seed: 0xC1C1E)
        for round in 0..<60 {
            let tokens = (1...UInt64.random(in: 3...6, using: &rng)).map(token)
            let pools: [PoolRef?] = (0..<Int.random(in: 3...9, using: &rng)).map { i in
                if Int.random(in: 0..<10, using: &rng) == 0 { return nil }
                let a = tokens.randomElement(using: &rng)!
                var b = tokens.randomElement(using: &rng)!
                while b == a { b = tokens.randomElement(using: &rng)! }
                return PoolRef(address: token(1000 + UInt64(i)), token0: min(a, b), token1: max(a, b), venue: UInt32(i))
            }
            let starts = Array(tokens.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng)))
            var options = CycleIndex.Options()
            options.maxCyclesPerPool = .max
            options.maxBranching = .max
            let index = CycleIndex(pools: pools, startAssets: starts, options: options)
            let got = Set(index.cycles.map(\.pools))
            #expect(got.count == index.cycles.count, "round \(round): a cycle listed twice")
            #expect(got == bruteForceCycles(pools, starts: starts, maxHops: 5), "round \(round)")
            for (c, cycle) in index.cycles.enumerated() {
                // Each hop trades the token it holds, and the loop closes at a start asset.
                #expect(cycle.tokens.first == cycle.tokens.last && starts.contains(cycle.tokens[0]))
                for k in 0..<cycle.hops {
                    let ref = pools[Int(cycle.pools[k])]!
                    let (i, o) = cycle.zeroForOne[k] ? (ref.token0, ref.token1) : (ref.token1, ref.token0)
                    #expect(i == cycle.tokens[k] && o == cycle.tokens[k + 1])
                }
                for p in cycle.pools { #expect(index.byPool[Int(p)].contains(Int32(c))) }
            }
            let listed = index.byPool.reduce(0) { $0 + $1.count }
            #expect(listed == index.cycles.reduce(0) { $0 + $1.hops })
            // The records detection screens from: per pool, its cycles in `byPool`'s order, each
            // with its hops (pool and direction) and start asset as the cycle has them.
            #expect(index.screenStart.count == pools.count + 1)
            for p in pools.indices {
                var k = Int(index.screenStart[p]), listed: [Int32] = []
                while k < Int(index.screenStart[p + 1]) {
                    let c = Int(index.screenRecords[k]), n = Int(index.screenRecords[k + 1])
                    listed.append(Int32(c))
                    #expect(n == index.cycles[c].hops && index.screenRecords[k + 2] == index.startAsset[c])
                    let hops = index.screenRecords[(k + 3)..<(k + 3 + n)].map { (pool: $0 >> 1, zeroForOne: $0 & 1 == 1) }
                    #expect(hops.map(\.pool) == index.cycles[c].pools && hops.map(\.zeroForOne) == index.cycles[c].zeroForOne, "round \(round) cycle \(c)")
                    k += 3 + n
                }
                #expect(k == Int(index.screenStart[p + 1]) && listed == index.byPool[p], "round \(round) pool \(p)")
            }
        }
    }

    @Test func twoPoolsOfOnePairAreTwoCrossDexCyclesOneEachWay() {
        let (w, u) = (token(1), token(2))
        let pools: [PoolRef?] = [PoolRef(address: token(100), token0: w, token1: u, venue: 1),
                                 PoolRef(address: token(101), token0: w, token1: u, venue: 2)]
        let index = CycleIndex(pools: pools, startAssets: [w, u])
        #expect(Set(index.cycles.map(\.pools)) == [[0, 1], [1, 0]])
        #expect(index.cycles.allSatisfy { $0.tokens == [w, u, w] })
    }

    @Test func capsCyclesPerPoolShortestFirst() {
        // A dense graph: 6 tokens, every pair on two venues.
        let tokens = (1...6).map { token(UInt64($0)) }
        var pools: [PoolRef?] = []
        for i in tokens.indices { for j in tokens.indices where i < j { for v in 0..<2 {
            pools.append(PoolRef(address: token(UInt64(100 + pools.count)), token0: tokens[i], token1: tokens[j], venue: UInt32(v)))
        } } }
        var options = CycleIndex.Options()
        options.maxCyclesPerPool = 50
        let index = CycleIndex(pools: pools, startAssets: [tokens[0]], options: options)
        #expect(index.byPool.allSatisfy { $0.count <= 50 })
        #expect(index.byPool.contains { $0.count == 50 })
        // Every two-hop cycle of the start asset is kept before any longer one.
        let twoHop = index.cycles.filter { $0.hops == 2 }.count
        #expect(twoHop == 5 * 2)
        let lengths = index.cycles.map(\.hops)
        #expect(lengths == lengths.sorted())
    }
}
