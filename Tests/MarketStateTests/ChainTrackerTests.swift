import EVMPrimitives
import MarketState
import Testing

/// The chain tracker over scripted chains: extension, gaps, duplicates, shallow and deep reorgs.
@Suite struct ChainTrackerTests {
    /// A chain of headers from block 1 to `length`, hashes made distinct by `fork` from block `from` on.
    static func chain(_ length: UInt64, fork: UInt64 = 0, from: UInt64 = .max) -> [ChainTracker.Header] {
        var out: [ChainTracker.Header] = []
        var parent = UInt256(0xface)
        for n in 1...length {
            let h = UInt256(n) << 64 | UInt256(n >= from ? fork : 0)
            out.append(.init(number: n, hash: h, parentHash: parent))
            parent = h
        }
        return out
    }

    @Test func extendsSkipsAndIgnores() {
        var t = ChainTracker(depth: 16)
        let c = Self.chain(10)
        #expect(t.observe(c[0]) == .advance(1))
        #expect(t.observe(c[1]) == .advance(2))
        #expect(t.observe(c[1]) == .ignore)
        #expect(t.observe(c[5]) == .backfill(from: 3, to: 6))
        #expect(t.observe(c[6]) == .advance(7))
        #expect(t.head == 7)
    }

    @Test func aOneBlockReorgIsFoundFromTheParent() {
        var t = ChainTracker(depth: 16)
        for h in Self.chain(10) { _ = t.observe(h) }
        let other = Self.chain(10, fork: 1, from: 10)
        // Block 10 replaced by a sibling whose parent is our block 9.
        #expect(t.observe(other[9]) == .reorg(forkPoint: 9, head: 10))
        #expect(t.hash(at: 10) == other[9].hash)
    }

    @Test func aThreeBlockReorgWalksAncestors() {
        var t = ChainTracker(depth: 16)
        for h in Self.chain(10) { _ = t.observe(h) }
        let other = Self.chain(11, fork: 7, from: 8)  // blocks 8… differ
        #expect(t.observe(other[10]) == .fetchAncestor(10))
        #expect(t.ancestor(other[9]) == .fetchAncestor(9))
        #expect(t.ancestor(other[8]) == .fetchAncestor(8))
        // A wrong answer (not the parent asked for) asks again.
        #expect(t.ancestor(Self.chain(10)[6]) == .fetchAncestor(8))
        #expect(t.ancestor(other[7]) == .reorg(forkPoint: 7, head: 11))
        for n in 8...11 { #expect(t.hash(at: UInt64(n)) == other[n - 1].hash) }
        #expect(t.head == 11)
        #expect(t.observe(Self.chain(12, fork: 7, from: 8)[11]) == .advance(12))
    }

    @Test func aReorgDeeperThanTheHashesKeptMeansResync() {
        var t = ChainTracker(depth: 4)
        for h in Self.chain(20) { _ = t.observe(h) }
        let other = Self.chain(21, fork: 3, from: 14)  // diverges 7 blocks down, beyond depth 4
        var action = t.observe(other[20])
        var asked = 0
        while case .fetchAncestor(let n) = action {
            asked += 1
            action = t.ancestor(other[Int(n) - 1])
        }
        #expect(action == .resync && asked <= 4)
        #expect(t.head == nil)
        #expect(t.observe(other[20]) == .advance(21))
    }
}
