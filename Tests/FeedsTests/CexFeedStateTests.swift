import Feeds
import Testing

@Suite struct CexFeedStateTests {
    static let s: UInt64 = 1_000_000_000

    func ticker(_ u: UInt64, _ bid: String, _ ask: String) -> [UInt8] {
        Array(#"{"stream":"ethusdt@bookTicker","data":{"u":\#(u),"s":"ETHUSDT","b":"\#(bid)","B":"1","a":"\#(ask)","A":"2"}}"#.utf8)
    }

    func trade(_ a: UInt64, _ p: String = "100.5") -> [UInt8] {
        Array(#"{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1000,"s":"ETHUSDT","a":\#(a),"p":"\#(p)","q":"1","f":\#(a),"l":\#(a),"T":1000,"m":false}}"#.utf8)
    }

    @Test func anOlderBookFrameIsDroppedAndTheMidIsExact() {
        var st = CexFeedState(symbols: ["ETHUSDT"])
        do { let r = st.ingest(ticker(10, "100.10", "100.2"), at: 1); #expect(r == .applied(symbol: 0)) }
        do { let r = st.ingest(ticker(9, "90", "91"), at: 2); #expect(r == .old(symbol: 0)) }
        do { let r = st.ingest(ticker(10, "90", "91"), at: 2); #expect(r == .old(symbol: 0)) }
        #expect(st.books[0].bid == CexDecimal("100.1"))
        let mid = st.books[0].mid!
        // (100.10 + 100.20) / 2 = 100.15
        #expect(mid.numerator * 100 == 10015 * mid.denominator)
        #expect(st.counters.oldBook == 2 && st.counters.applied == 1)
    }

    @Test func aTradeIDJumpIsAGapUntilTheMissingTradesAreRecovered() {
        var st = CexFeedState(symbols: ["ETHUSDT"])
        _ = st.ingest(trade(5), at: 1)
        _ = st.ingest(trade(6), at: 2)
        do { let r = st.ingest(trade(6), at: 3); #expect(r == .old(symbol: 0)) }
        do { let r = st.ingest(trade(10), at: 4); #expect(r == .gap(symbol: 0, from: 7, to: 9)) }
        #expect(st.counters.gaps == 1 && st.counters.missedTrades == 3)
        #expect(st.books[0].needsResync && st.books[0].missingFrom == 7)
        // A partial answer leaves the rest missing; a full one completes the resync.
        do { let r = st.applyRecoveredTrades(0, ids: [7]); #expect(!r) }
        #expect(st.books[0].missingFrom == 8)
        // A second hole before the resync: ids streamed between the holes are not counted twice.
        _ = st.ingest(trade(11), at: 5)
        do { let r = st.ingest(trade(14), at: 6); #expect(r == .gap(symbol: 0, from: 12, to: 13)) }
        #expect(st.books[0].missing == [8...9, 12...13])
        do { let r = st.applyRecoveredTrades(0, ids: [8, 9, 10, 11, 12]); #expect(!r) }
        #expect(st.books[0].missing == [13...13])
        do { let r = st.applyRecoveredTrades(0, ids: [13, 14]); #expect(r) }
        #expect(!st.books[0].needsResync && st.counters.recoveredTrades == 5 && st.counters.resyncs == 1)
        let b = st.books[0]
        #expect(b.tradesStreamed + b.tradesRecovered == b.aggID - b.firstAggID + 1)
    }

    @Test func aBookIsStaleAfterMaxAgeAndFrozenWhenTradesPrintAgainstAStillTop() {
        var o = CexFeedState.Options()
        o.maxAge = 10 * Self.s
        o.frozenAfter = 5 * Self.s
        o.frozenTrades = 3
        var st = CexFeedState(symbols: ["ETHUSDT"], options: o)
        #expect(st.status(0, at: 0) == .noData)
        _ = st.ingest(ticker(1, "100", "101"), at: 1 * Self.s)
        #expect(st.status(0, at: 11 * Self.s) == .fresh)
        #expect(st.status(0, at: 11 * Self.s + 1) == .stale)
        #expect(st.usable(0, at: 12 * Self.s) == nil)
        // The same top re-sent keeps the book fresh but not changed; trades print meanwhile.
        for k in 0..<4 {
            _ = st.ingest(ticker(UInt64(2 + k), "100", "101"), at: UInt64(2 + k) * Self.s)
            _ = st.ingest(trade(UInt64(1 + k)), at: UInt64(2 + k) * Self.s)
        }
        #expect(st.status(0, at: 6 * Self.s) == .fresh)
        #expect(st.status(0, at: 6 * Self.s + 1) == .frozen)
        do { let r = st.sweepFrozen(at: 7 * Self.s); #expect(r == [0]) }
        do { let r = st.sweepFrozen(at: 7 * Self.s); #expect(r == []) }  // one event per freeze
        _ = st.ingest(ticker(9, "100.5", "101"), at: 8 * Self.s)
        #expect(st.status(0, at: 8 * Self.s) == .fresh)
        #expect(st.counters.frozenEvents == 1)
    }

    @Test func malformedFramesAreCountedByReasonAndChangeNothing() {
        var st = CexFeedState(symbols: ["ETHUSDT"])
        _ = st.ingest(ticker(1, "100", "101"), at: 1)
        let before = st.books[0]
        for bad in ["{", #"{"stream":"ethusdt@bookTicker","data":{"u":2,"s":"ETHUSDT","b":"102","B":"1","a":"101","A":"1"}}"#] {
            guard case .malformed = st.ingest(Array(bad.utf8), at: 2) else { Issue.record("accepted \(bad)"); continue }
        }
        #expect(st.books[0].bid == before.bid && st.books[0].bookTickerID == 1 && st.books[0].bookAt == 1)
        #expect(st.counters.malformed == 2)
        #expect(st.counters.malformedByCode[FrameError.Code.crossedBook.index] == 1)
    }

    @Test func eventAgeP99IsTheNearestRank() {
        var st = CexFeedState(symbols: ["ETHUSDT"])
        // E = 1000 ms; arrival wall clock 1000 + k ms for k = 1…100.
        for k in 1...100 { _ = st.ingest(trade(UInt64(k)), at: UInt64(k), wallMillis: 1000 + UInt64(k)) }
        #expect(st.health.ageP99Millis == 99)
        #expect(st.health.ageP50Millis == 50)
    }
}
