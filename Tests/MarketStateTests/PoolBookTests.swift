import AMMMath
import ArbiterTestKit
import EVMCodec
import EVMPrimitives
import MarketState
import Testing

/// Market state against the real Uniswap V3 contract: pools driven through random mints, burns and
/// swaps on titanoboa (`python/oracle/gen_market_vectors.py`); applying the pool's logs to its
/// state right after `initialize` must give exactly the contract's state at the end.
@Suite struct PoolBookTests {
    struct Scenario {
        var pool: V3Pool
        var logs: [EVMLog]
        var final: JSONValue
    }

    static let poolAddress = try! Address(hex: "0x1f98431c8ad98523631ae4a59f267346ea31f984")

    static func scenarios() throws -> [Scenario] {
        try Fixtures.vectors("market/v3-events.json").map { v in
            let p = try #require(v["pool"])
            let pool = try V3Pool(sqrtPriceX96: try UInt256(decimal: try p.string("sqrtPriceX96")), tick: Int32(try #require(p["tick"]?.int)),
                                  liquidity: try UInt256(decimal: try p.string("liquidity")), feePips: UInt32(try #require(p["fee"]?.int)),
                                  tickSpacing: Int32(try #require(p["tickSpacing"]?.int)), ticks: [])
            // Eight logs to a block, so that reorg tests have blocks to drop.
            let logs = try (try #require(v["logs"]?.arrayValue)).enumerated().map { i, l in
                EVMLog(address: poolAddress, topics: try (try #require(l["topics"]?.arrayValue)).map { try UInt256(hex: try #require($0.stringValue)) },
                        data: try Hex.decode(try l.string("data")), blockNumber: UInt64(1 + i / 8), logIndex: UInt32(i % 8))
            }
            return Scenario(pool: pool, logs: logs, final: try #require(v["final"]))
        }
    }

    static func expectEqualsContract(_ book: PoolBook, _ id: PoolBook.PoolID, _ final: JSONValue, _ name: String) throws {
        guard case .uniswapV3(let p) = book[id] else { Issue.record("not a V3 pool"); return }
        #expect(p.sqrtPriceX96.description == final["sqrtPriceX96"]?.stringValue, "\(name) price")
        #expect(final["tick"]?.int == Int(p.tick), "\(name) tick")
        #expect(p.liquidity.description == final["liquidity"]?.stringValue, "\(name) liquidity")
        for t in try #require(final["ticks"]?.arrayValue) {
            let index = Int32(try #require(t["index"]?.int))
            if t["initialized"] == .bool(true) {
                #expect(p.liquidityNet(at: index)?.description == t["liquidityNet"]?.stringValue, "\(name) net at \(index)")
                #expect(book.liquidityGross(id, tick: index)?.description == t["liquidityGross"]?.stringValue, "\(name) gross at \(index)")
            } else {
                #expect(p.liquidityNet(at: index) == nil, "\(name): tick \(index) is not initialised")
                #expect(book.liquidityGross(id, tick: index) == nil)
            }
        }
    }

    @Test func logsTakeThePoolToTheContractsState() throws {
        let all = try Self.scenarios()
        #expect(all.count >= 10 && all.reduce(0) { $0 + $1.logs.count } > 400)
        for (n, s) in all.enumerated() {
            var book = PoolBook()
            let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
            for log in s.logs { #expect(book.apply(log) == .applied(id), "scenario \(n)") }
            try Self.expectEqualsContract(book, id, s.final, "scenario \(n)")
            // Every log again (a backfill overlapping the stream): nothing changes.
            let before = book[id]
            for log in s.logs { #expect(book.apply(log) == .duplicate) }
            #expect(book[id] == before && book.counters.duplicates == s.logs.count)
        }
    }

    /// Malformed logs (truncated, dirty padding, a topic too many) and other events interleaved with
    /// the real ones are counted and skipped; the state still ends equal to the contract's.
    @Test func badLogsAreCountedAndLeaveStateUnharmed() throws {
        var rng = SeededGenerator(seed: 7)
        for (n, s) in try Self.scenarios().enumerated() {
            var book = PoolBook()
            let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
            var bad = 0, foreign = 0
            for log in s.logs {
                // At the real log's position: were it applied, the real log would then be a duplicate.
                var broken = log
                switch rng.next() % 5 {
                case 0: broken.data.removeLast(Int(rng.next() % 32) + 1)
                case 1: broken.topics.append(.one)
                case 2:
                    // The high byte of a word narrower than 256 bits: Swap's sqrtPriceX96 (uint160),
                    // Mint's amount (uint128), Burn's amount (uint128).
                    let word = log.topics[0] == PoolTopics.v3Swap ? 2 : log.topics[0] == PoolTopics.v3Mint ? 1 : 0
                    broken.data[32 * word] = 0xff
                case 3:
                    broken.topics[0] = UInt256(0xddf2_52ad)  // some other event
                    foreign += 1
                    #expect(book.apply(broken) == .ignored)
                    #expect(book.apply(log) == .applied(id))
                    continue
                default:
                    #expect(book.apply(log) == .applied(id))
                    continue
                }
                bad += 1
                guard case .malformed = book.apply(broken) else { Issue.record("scenario \(n): a broken log was not refused"); continue }
                #expect(book.apply(log) == .applied(id))
            }
            #expect(book.counters.malformed == bad && book.counters.ignored == foreign && bad > 0)
            try Self.expectEqualsContract(book, id, s.final, "scenario \(n)")
            let other = EVMLog(address: .zero, topics: s.logs[0].topics, data: s.logs[0].data, blockNumber: 99, logIndex: 0)
            #expect(book.apply(other) == .unknownPool && book.counters.unknownPool == 1)
        }
    }

    /// A reorg that drops the last blocks: their logs come back with `removed: true`, the state
    /// returns to what it was before them, and re-applying the canonical logs reaches the contract's.
    @Test func removedLogsRollBackToTheForkPoint() throws {
        for (n, s) in try Self.scenarios().enumerated() {
            let lastBlock = s.logs.last!.blockNumber
            guard lastBlock >= 4 else { continue }
            let fork = lastBlock - 3  // blocks fork+1 … last are dropped
            var book = PoolBook()
            let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
            for log in s.logs where log.blockNumber <= fork { _ = book.apply(log) }
            let atFork = book
            for log in s.logs where log.blockNumber > fork { _ = book.apply(log) }
            var dropped = s.logs.filter { $0.blockNumber > fork }
            for i in dropped.indices { dropped[i].removed = true }
            // The node sends the removed logs newest block last; the first one undoes them all.
            guard case .rolledBack(let undone) = book.apply(dropped[0]) else { Issue.record("no rollback"); continue }
            #expect(undone == dropped.count, "scenario \(n)")
            for log in dropped.dropFirst() { #expect(book.apply(log) == .rolledBack(0)) }
            #expect(book[id] == atFork[id] && book.appliedThrough == atFork.appliedThrough, "scenario \(n)")
            for gross in try #require(s.final["ticks"]?.arrayValue) {
                let t = Int32(try #require(gross["index"]?.int))
                #expect(book.liquidityGross(id, tick: t) == atFork.liquidityGross(id, tick: t))
            }
            for log in s.logs where log.blockNumber > fork { #expect(book.apply(log) == .applied(id)) }
            try Self.expectEqualsContract(book, id, s.final, "scenario \(n) after the reorg")
        }
    }

    /// The journal keeps `reorgDepth` blocks; a reorg deeper than that marks the pools it touched
    /// stale instead of guessing.
    @Test func finalizedBlocksLeaveTheJournalAndDeeperReorgsMarkStale() throws {
        let s = try #require(try Self.scenarios().first)
        var book = PoolBook(reorgDepth: 2)
        let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
        for log in s.logs { _ = book.apply(log) }
        let head = s.logs.last!.blockNumber
        book.finalize(head: head)
        #expect(book.journalCount == s.logs.filter { $0.blockNumber >= head - 2 }.count)
        book.rollBack(toBefore: 1)
        #expect(book.stale.contains(id.index))
    }

    /// A snapshot's book is the block's state without the undo history: equal in every pool, with
    /// an empty journal, while the book it came from still undoes a reorg exactly.
    @Test func aBookWithoutItsUndoHistoryIsTheSameStateAndTheOriginalStillRollsBack() throws {
        let s = try #require(try Self.scenarios().first)
        var book = PoolBook()
        let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
        let fork = s.logs[s.logs.count / 2].blockNumber
        var atFork = book
        for log in s.logs where log.blockNumber < fork { _ = atFork.apply(log) }
        for log in s.logs { _ = book.apply(log) }
        let snapshot = book.withoutUndoHistory
        #expect(snapshot.journalCount == 0 && book.journalCount == s.logs.count)
        #expect(snapshot[id] == book[id] && snapshot.appliedThrough == book.appliedThrough && snapshot.count == book.count)
        book.rollBack(toBefore: fork)
        #expect(book[id] == atFork[id] && book.stale.isEmpty)
        // The snapshot is untouched by the owner's undo, and cannot undo itself: its pool goes stale.
        var copy = snapshot
        #expect(copy[id] != book[id] || s.logs.allSatisfy { $0.blockNumber < fork })
        #expect(copy.rollBack(toBefore: fork) == 0 && copy.stale == [id.index])
    }

    /// The book changes a pool's state in place only while nothing else holds it: copies taken
    /// between logs (snapshots) keep the state they were taken with while the book goes on, in
    /// place again once it holds the state alone, to the contract's state; and undoing the last
    /// block gives back, to the wei, the state of a book that never applied it.
    @Test func copiesKeepTheirStateWhileTheBookChangesInPlace() throws {
        for (n, s) in try Self.scenarios().prefix(4).enumerated() {
            var book = PoolBook()
            let id = book.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
            var copies: [(book: PoolBook, pool: Pool)] = []
            for (k, log) in s.logs.enumerated() {
                #expect(book.apply(log) == .applied(id))
                if k % 7 == 3 { copies.append((book.withoutUndoHistory, book[id])) }
            }
            #expect(copies.count > 3)
            for (i, c) in copies.enumerated() { #expect(c.book[id] == c.pool, "scenario \(n), copy \(i)") }
            try Self.expectEqualsContract(book, id, s.final, "scenario \(n)")
            let fork = s.logs.last!.blockNumber
            var before = PoolBook()
            _ = before.register(Self.poolAddress, pool: .uniswapV3(s.pool), at: LogPosition(block: 0, index: .max))
            for log in s.logs where log.blockNumber < fork { _ = before.apply(log) }
            copies = []
            #expect(book.rollBack(toBefore: fork) == s.logs.filter { $0.blockNumber >= fork }.count)
            #expect(book[id] == before[id] && book.appliedThrough == before.appliedThrough, "scenario \(n)")
            for log in s.logs where log.blockNumber >= fork { #expect(book.apply(log) == .applied(id)) }
            try Self.expectEqualsContract(book, id, s.final, "scenario \(n) after undoing and applying again")
        }
    }

    /// State read in a block that a reorg replaces cannot be undone from the journal: the pool is
    /// stale (read again), while a reorg above the read leaves it alone.
    @Test func reorgBelowARegistrationMarksThePoolStale() throws {
        var book = PoolBook()
        let id = book.register(Self.poolAddress, pool: .uniswapV2(try V2Pool(reserve0: 10, reserve1: 20)), at: LogPosition(block: 10, index: .max))
        book.rollBack(toBefore: 11)
        #expect(book.stale.isEmpty)
        book.rollBack(toBefore: 10)
        #expect(book.stale == [id.index])
    }

    /// Undo entries keep what each log overwrote; a pool read afresh (registered again) voids
    /// the entries of the state the read replaced: undoing back past the read leaves it stale (to
    /// be read again), never a mix of the old journal and the new read.
    @Test func aPoolReadAgainCannotBeUndoneIntoItsOldJournal() throws {
        var book = PoolBook()
        let a = try Address(hex: "0x00000000000000000000000000000000000000ab")
        func sync(_ r0: UInt256, _ r1: UInt256, block: UInt64) -> EVMLog {
            EVMLog(address: a, topics: [PoolTopics.v2Sync], data: r0.bigEndianBytes + r1.bigEndianBytes, blockNumber: block, logIndex: 0)
        }
        func pair(_ r0: UInt256, _ r1: UInt256) throws -> Pool { .uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: 3000)) }
        let (p10, p11, p500) = (try pair(10, 20), try pair(11, 21), try pair(500, 600))
        let id = book.register(a, pool: p10, at: LogPosition(block: 4, index: .max))
        #expect(book.apply(sync(11, 21, block: 5)) == .applied(id) && book.apply(sync(12, 22, block: 6)) == .applied(id))
        // Undone one block at a time while the journal holds them: the reserves before each.
        var copy = book
        #expect(copy.rollBack(toBefore: 6) == 1 && copy[id] == p11 && copy.stale.isEmpty)
        #expect(copy.rollBack(toBefore: 5) == 1 && copy[id] == p10 && copy.stale.isEmpty)
        // Read again at block 7, then a sync at 8: undoing 8 gives the read state back, exactly.
        _ = book.register(a, pool: p500, at: LogPosition(block: 7, index: .max))
        #expect(book.apply(sync(501, 601, block: 8)) == .applied(id))
        copy = book
        #expect(copy.rollBack(toBefore: 8) == 1 && copy[id] == p500 && copy.stale.isEmpty)
        // Back past the read: the voided entries restore nothing; the pool is stale.
        #expect(book.rollBack(toBefore: 5) == 3)
        #expect(book[id] == p500 && book.stale == [id.index])
    }

    @Test func v2AndSolidlySyncSetReserves() throws {
        var book = PoolBook()
        let pair = try V2Pool(reserve0: 10, reserve1: 20, feePips: 3000)
        let a = try Address(hex: "0x00000000000000000000000000000000000000aa")
        let id = book.register(a, pool: .uniswapV2(pair), at: LogPosition(block: 5, index: .max))
        let sync = EVMLog(address: a, topics: [PoolTopics.v2Sync], data: UInt256(1_000).bigEndianBytes + UInt256(2_000).bigEndianBytes, blockNumber: 6, logIndex: 3)
        #expect(book.apply(sync) == .applied(id))
        #expect(book[id] == .uniswapV2(try V2Pool(reserve0: 1_000, reserve1: 2_000, feePips: 3000)))
        var old = sync
        old.blockNumber = 5
        #expect(book.apply(old) == .duplicate)
        // A Solidly Sync on a V2 pair does not fit it: the pool is stale, its state untouched.
        var wrong = sync
        wrong.topics = [PoolTopics.solidlySync]
        wrong.logIndex = 4
        #expect(book.apply(wrong) == .stale(id))
        #expect(book.stale == [id.index])
    }
}

extension JSONValue {
    /// A JSON integer.
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
}
