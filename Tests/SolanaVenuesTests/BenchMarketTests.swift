import DetectBench
import SolanaDetection
import SolanaPrimitives
import SolanaVenues
import Testing

/// The Solana benchmark's synthetic market is made of real accounts: every pool of every venue
/// decodes into the book (a CLMM pool with its config and the tick arrays its bitmap marks), and
/// a Phoenix market's two sides are red-black trees (a black root, no red node with a
/// red child, the same number of black nodes on every path down) holding the maker's ladder in
/// the book's order around the reference; a re-quote moves the ladder with the written move.
@Suite struct BenchMarketTests {
    static func u32(_ d: [UInt8], _ o: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(d[o + $1]) << (8 * UInt32($1)) } }

    /// The black height below node `i` of the tree at `base` (nil if a rule is broken).
    static func blackHeight(_ d: [UInt8], base: Int, _ i: UInt32, parentRed: Bool) -> Int? {
        guard i != 0 else { return 1 }
        let o = base + 32 + 64 * Int(i - 1)
        let red = u32(d, o + 12) == 1
        if red && parentRed { return nil }
        guard let l = blackHeight(d, base: base, u32(d, o), parentRed: red), let r = blackHeight(d, base: base, u32(d, o + 4), parentRed: red), l == r else {
            return nil
        }
        return l + (red ? 0 : 1)
    }

    @Test func everyVenueOfTheBenchDecodesAndItsPhoenixBooksAreRedBlackTreesOfTheLadder() throws {
        var market = try SolanaMarket(poolsPerVenue: 3, mints: 4, books: 2, clmm: true, seed: 7)
        let (book, _) = SolanaReplay.start(market)
        #expect(book.entries.count == market.pools.count && market.pools.filter { $0.1 == .phoenix }.count == 2)
        #expect(Set(market.pools.map(\.1)) == Set(SolanaPoolBook.Venue.allCases), "every venue")
        let key = try #require(market.pools.first { $0.1 == .phoenix }?.0)
        let data = try #require(market.initial.first { $0.key == key }?.data)
        let bidsAt = PhoenixMarketAccount.headerSize + 304, asksAt = bidsAt + 32 + 64 * 512
        for base in [bidsAt, asksAt] {
            let root = Self.u32(data, base)
            #expect(root != 0 && Self.u32(data, base + 32 + 64 * Int(root - 1) + 12) == 0, "a black root")
            #expect(Self.blackHeight(data, base: base, root, parentRed: false) != nil, "the red-black rules hold")
        }
        let m = try PhoenixMarketAccount(data: data)
        #expect(m.bids.count == 12 && m.asks.count == 12 && m.active)
        // The ladder: asks up and bids down from the mid, 3 bps a level apart.
        let (bestBid, bestAsk) = (Double(m.bids[0].priceInTicks), Double(m.asks[0].priceInTicks))
        #expect(bestBid < bestAsk && (bestAsk / bestBid - 1) > 0.0005 && (bestAsk / bestBid - 1) < 0.0007)
        #expect(zip(m.asks, m.asks.dropFirst()).allSatisfy { $0.priceInTicks < $1.priceInTicks })
        #expect(zip(m.bids, m.bids.dropFirst()).allSatisfy { $0.priceInTicks > $1.priceInTicks })
        // Re-quotes: each a whole market that decodes, its mid where the move put it.
        let writes = market.writes(4_000).filter { $0.key == key }
        #expect(!writes.isEmpty)
        for w in writes {
            let q = try PhoenixMarketAccount(data: w.data)
            let mid = (Double(q.bids[0].priceInTicks) + Double(q.asks[0].priceInTicks)) / 2
            let original = (bestBid + bestAsk) / 2
            #expect(abs(mid / original - 1) <= 0.0201, "a move of at most 2%")
        }
        #expect(Set(writes.map { $0.data }).count > 1, "the ladder moves")
    }
}
