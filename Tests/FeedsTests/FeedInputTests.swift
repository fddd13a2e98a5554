import ArbiterTestKit
import Feeds
import Testing

/// The feed's recorded changes (`FeedInput`): each kind's bytes round-trip, every cut is an error,
/// and a state fed the decoded changes reaches the books a state fed the same frames directly did.
@Suite struct FeedInputTests {
    static func ticker(_ u: UInt64, _ bid: String, _ ask: String) -> [UInt8] {
        Array(#"{"stream":"ethusdt@bookTicker","data":{"u":\#(u),"s":"ETHUSDT","b":"\#(bid)","B":"1","a":"\#(ask)","A":"2"}}"#.utf8)
    }

    static func trade(_ a: UInt64) -> [UInt8] {
        Array(#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1000,"s":"BTCUSDT","a":\#(a),"p":"60000.5","q":"1","f":\#(a),"l":\#(a),"T":1000,"m":false}}"#.utf8)
    }

    @Test func everyKindRoundTripsAndEveryCutIsAnError() throws {
        var rng = SeededGenerator(seed: 32)
        func decimal() -> CexDecimal { CexDecimal(significand: rng.next() >> 4, scale: UInt8(rng.next() % 19)) }
        for _ in 0..<50 {
            let inputs: [FeedInput] = [
                .frame(rng.bytes(Int(rng.next() % 300)), at: rng.next(), wallMillis: rng.next()),
                .depth(symbol: Int(rng.next() % 9), lastUpdateID: rng.next(), bids: (0..<Int(rng.next() % 5)).map { _ in .init(price: decimal(), quantity: decimal()) },
                       asks: (0..<Int(rng.next() % 5)).map { _ in .init(price: decimal(), quantity: decimal()) }, at: rng.next()),
                .recoveredTrades(symbol: Int(rng.next() % 9), ids: (0..<Int(rng.next() % 6)).map { _ in rng.next() }),
                .disconnected((0..<Int(rng.next() % 4)).map { _ in Int(rng.next() % 100) }),
                .resynced(Int(rng.next() % 100)),
                .sweep(at: rng.next()),
                .symbols(["ETHUSDT", "BTCUSDT", "USDCUSDT"].filter { _ in rng.next() % 2 == 0 }),
            ]
            for input in inputs {
                let bytes = input.encoded()
                #expect(try FeedInput(kind: input.kind, payload: bytes) == input)
                switch input {
                case .frame, .symbols: continue  // their tail is free-form: only the clocks can be cut
                default:
                    for cut in Set([0, 1, bytes.count / 2, bytes.count - 1]) where cut < bytes.count {
                        #expect(throws: FeedInput.Malformed.self) { _ = try FeedInput(kind: input.kind, payload: Array(bytes.prefix(cut))) }
                    }
                    #expect(throws: FeedInput.Malformed.self) { _ = try FeedInput(kind: input.kind, payload: bytes + [0]) }
                }
            }
            #expect(throws: FeedInput.Malformed.self) { _ = try FeedInput(kind: 1, payload: Array(repeating: 0, count: 15)) }
        }
        #expect(throws: FeedInput.Malformed.self) { _ = try FeedInput(kind: 9, payload: []) }
        // A count past the payload is refused before anything is allocated for it.
        #expect(throws: FeedInput.Malformed.self) { _ = try FeedInput(kind: 4, payload: [0xff, 0xff, 0xff, 0x7f]) }
    }

    @Test func aStateFedTheRecordedChangesReachesTheSameBooks() throws {
        let symbols = ["ETHUSDT", "BTCUSDT"]
        var live = CexFeedState(symbols: symbols), replayed: CexFeedState? = nil
        var recorded: [(UInt8, [UInt8])] = [(FeedInput.symbols(symbols).kind, FeedInput.symbols(symbols).encoded())]
        func change(_ input: FeedInput) {
            recorded.append((input.kind, input.encoded()))
            live.perform(input)
        }
        change(.frame(Self.ticker(1, "100.10", "100.2"), at: 10, wallMillis: 1_000))
        change(.frame(Self.trade(5), at: 11, wallMillis: 1_001))
        change(.frame(Self.trade(9), at: 12, wallMillis: 1_002))  // a gap: 6…8
        change(.depth(symbol: 1, lastUpdateID: 77, bids: [.init(price: CexDecimal("59999")!, quantity: CexDecimal("2")!)],
                      asks: [.init(price: CexDecimal("60001")!, quantity: CexDecimal("1.5")!)], at: 13))
        change(.recoveredTrades(symbol: 1, ids: [6, 7, 8]))
        change(.resynced(1))
        change(.frame(Self.ticker(2, "100.3", "100.4"), at: 14, wallMillis: 1_003))
        change(.frame(Array("not json".utf8), at: 15, wallMillis: 1_004))
        change(.disconnected([0]))
        change(.sweep(at: 16))
        for (kind, bytes) in recorded {
            let input = try FeedInput(kind: kind, payload: bytes)
            if case .symbols(let names) = input { replayed = CexFeedState(symbols: names) } else { replayed!.perform(input) }
        }
        let again = try #require(replayed)
        #expect(again.books.map(\.bid) == live.books.map(\.bid) && again.books.map(\.ask) == live.books.map(\.ask))
        #expect(again.books.map(\.bids) == live.books.map(\.bids) && again.books.map(\.asks) == live.books.map(\.asks))
        #expect(again.books.map(\.missing) == live.books.map(\.missing) && again.counters == live.counters)
        // And the frames themselves did what they say: the ticker's second update, the trade gap filled.
        #expect(live.books[0].bid == CexDecimal("100.3") && live.counters.gaps == 1 && live.counters.malformed == 1 && !live.books[1].needsResync)
    }
}
