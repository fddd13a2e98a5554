import Dispatch
import EVMPrimitives
import MarketState
import Synchronization
import Testing

@Suite struct PriceMatrixTests {
    static func token(_ n: UInt64) -> Address {
        try! Address(bytes: (0..<12).map { _ in UInt8(0) } + withUnsafeBytes(of: n.bigEndian, Array.init))
    }

    @Test func slotsAreStableAndKeysSorted() {
        let m = PriceMatrix(expected: 4)
        let a = Self.token(1), b = Self.token(2)
        let s = m.slot(for: .init(chainID: 1, tokenA: b, tokenB: a, venue: 7))
        #expect(m.slot(for: .init(chainID: 1, tokenA: a, tokenB: b, venue: 7)) == s)
        #expect(m.slot(for: .init(chainID: 1, tokenA: a, tokenB: b, venue: 8)) != s)
        #expect(m.existingSlot(for: .init(chainID: 10, tokenA: a, tokenB: b, venue: 7)) == nil)
        #expect(m.read(s) == nil)
        let e = PriceMatrix.Entry(price: 2_000.5, block: 19_000_000, writtenAt: 42, source: .dex)
        m.write(s, e)
        #expect(m.read(s) == e)
    }

    /// A pool's price and the exchange's for the same pair sit side by side (the exchange under
    /// its own venue); the exchange's ages out after its limit, the pool's does not.
    @Test func sourcesSitSideBySideAndOnlyTheExchangesAges() {
        let m = PriceMatrix(expected: 4)
        let a = Self.token(1), b = Self.token(2)
        let pool = m.slot(for: .init(chainID: 1, tokenA: a, tokenB: b, venue: 3))
        let cex = m.slot(for: .init(chainID: 1, tokenA: a, tokenB: b, venue: PriceMatrix.cexBinanceVenue))
        #expect(pool != cex)
        m.write(pool, .init(price: 2_000, block: 10, writtenAt: 1_000, source: .dex))
        m.write(cex, .init(price: 2_010, block: 0, writtenAt: 1_000, source: .cexBinance))
        let limits = PriceMatrix.Staleness()
        let tenSeconds: UInt64 = 10_000_000_000
        #expect(m.read(cex, freshAt: 1_000 + tenSeconds, staleness: limits)?.price == 2_010)
        #expect(m.read(cex, freshAt: 1_001 + tenSeconds, staleness: limits) == nil)
        #expect(m.read(pool, freshAt: 1_000 + 100 * tenSeconds, staleness: limits)?.source == .dex)
        var strict = PriceMatrix.Staleness()
        strict.maxAge[.dex] = 5
        #expect(m.read(pool, freshAt: 1_006, staleness: strict) == nil)
    }

    /// Writers on two threads keep adding slots (the directory grows past its first size) and
    /// rewriting them while two readers read: every entry read is one a writer wrote whole.
    @Test func readersNeverSeeATornEntry() {
        let m = PriceMatrix(expected: 16)
        let slots = 20_000
        let torn = Mutex(0), seen = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker < 2 {
                for round in 1...3 {
                    for i in stride(from: worker, to: slots, by: 2) {
                        let s = m.slot(for: .init(chainID: 1, tokenA: Self.token(UInt64(i)), tokenB: Self.token(1 << 40), venue: 0))
                        let k = UInt64(i * 10 + round)
                        m.write(s, .init(price: Double(k), block: k, writtenAt: k &* 3, source: .dex))
                    }
                }
            } else {
                var local = 0, bad = 0
                for _ in 0..<200_000 {
                    let n = m.count
                    guard n > 0 else { continue }
                    if let slot = m.slot(at: Int.random(in: 0..<n)), let e = m.read(slot) {
                        local += 1
                        if UInt64(e.price) != e.block || e.writtenAt != e.block &* 3 { bad += 1 }
                    }
                }
                seen.withLock { $0 += local }
                torn.withLock { $0 += bad }
            }
        }
        #expect(m.count == slots)
        #expect(torn.withLock { $0 } == 0 && seen.withLock { $0 } > 1000)
        // Every slot holds its last write.
        for i in [0, 1, 9_999, 19_999] {
            let s = m.existingSlot(for: .init(chainID: 1, tokenA: Self.token(UInt64(i)), tokenB: Self.token(1 << 40), venue: 0))!
            #expect(m.read(s)?.block == UInt64(i * 10 + 3))
        }
    }

    /// One slot rewritten as fast as possible while another thread reads it: the case a torn read
    /// needs (without the version check this fails within a few hundred thousand reads).
    @Test func oneHotSlotIsNeverTorn() {
        let m = PriceMatrix(expected: 1)
        let s = m.slot(for: .init(chainID: 1, tokenA: Self.token(1), tokenB: Self.token(2), venue: 0))
        m.write(s, .init(price: 0, block: 0, writtenAt: 0, source: .dex))
        let torn = Mutex(0), reads = Mutex(0)
        let done = Atomic<Bool>(false), started = Atomic<Int>(0)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            started.add(1, ordering: .relaxed)
            while started.load(ordering: .relaxed) < 2 {}
            for k in 1...1_000_000 as ClosedRange<UInt64> { m.write(s, .init(price: Double(k), block: k, writtenAt: k &* 3, source: .dex)) }
            done.store(true, ordering: .releasing)
        }
        DispatchQueue.global().async(group: group) {
            started.add(1, ordering: .relaxed)
            while started.load(ordering: .relaxed) < 2 {}
            var bad = 0, n = 0
            while !done.load(ordering: .acquiring) {
                let e = m.read(s)!
                if UInt64(e.price) != e.block || e.writtenAt != e.block &* 3 { bad += 1 }
                n += 1
            }
            torn.withLock { $0 = bad }
            reads.withLock { $0 = n }
        }
        group.wait()
        #expect(torn.withLock { $0 } == 0 && reads.withLock { $0 } > 10_000)
        #expect(m.read(s)?.block == 1_000_000)
    }
}
