import Feeds
import Testing

/// Frames in the shapes of Binance's spot stream documentation, and the ways they can be wrong.
@Suite struct BinanceFrameParserTests {
    static let symbols = ["ETHUSDT", "BTCUSDT"]

    func parse(_ text: String) throws(FrameError) -> BinanceFrameParser.Frame {
        var p = BinanceFrameParser(symbols: Self.symbols)
        return try p.parse(Array(text.utf8))
    }

    func code(_ text: String) -> FrameError.Code? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func aBookTickerIsReadExactly() throws {
        let f = try parse(#"{"stream":"ethusdt@bookTicker","data":{"u":400900217,"s":"ETHUSDT","b":"3456.78000000","B":"31.21000000","a":"3456.79000000","A":"40.66000000"}}"#)
        guard case .bookTicker(let t) = f else { Issue.record("not a book ticker: \(f)"); return }
        #expect(t.symbol == 0)
        #expect(t.updateID == 400_900_217)
        #expect(t.bid == CexDecimal("3456.78"))
        #expect(t.bid.significand == 345_678_000_000 && t.bid.scale == 8)
        #expect(t.askQty.description == "40.66000000")
    }

    @Test func anAggregateTradeIsReadExactly() throws {
        let f = try parse(#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BTCUSDT","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}}"#)
        guard case .aggTrade(let t) = f else { Issue.record("not a trade: \(f)"); return }
        #expect(t.symbol == 1 && t.aggID == 12345 && t.firstTradeID == 100 && t.lastTradeID == 105 && t.buyerIsMaker)
        #expect(t.price == CexDecimal("0.001") && t.eventTime == 1_672_515_782_136)
    }

    @Test func aPartialBookIsReadIntoTheParsersBuffers() throws {
        var p = BinanceFrameParser(symbols: Self.symbols)
        let f = try p.parse(Array(#"{"stream":"ethusdt@depth20@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"],["0.0023","5"]],"asks":[["0.0026","100"]]}}"#.utf8))
        #expect(f == .depth(symbol: 0, lastUpdateID: 160))
        #expect(p.bids.map(\.price.description) == ["0.0024", "0.0023"])
        #expect(p.asks.count == 1 && p.asks[0].quantity == CexDecimal("100"))
    }

    @Test func dataBeforeStreamAndUnknownFieldsAreAccepted() throws {
        let f = try parse(#"{"data":{"u":7,"s":"ETHUSDT","b":"1.5","B":"1","a":"1.6","A":"1","X":[1,{"y":null}]},"stream":"ethusdt@bookTicker"}"#)
        guard case .bookTicker(let t) = f else { Issue.record("\(f)"); return }
        #expect(t.updateID == 7)
    }

    @Test func serverShutdownAndControlAnswers() throws {
        #expect(try parse(#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#) == .serverShutdown(eventTime: 1_770_123_456_789))
        #expect(try parse(#"{"result":null,"id":1}"#) == .response(id: 1))
        #expect(try parse(#"{"code":2,"msg":"Invalid request: unknown variant","id":3}"#) == .error(id: 3, code: 2))
    }

    @Test(arguments: [
        ("not json", FrameError.Code.notJSON),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT"#, .notJSON),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}} x"#, .notJSON),
        (#"{"stream":"dogeusdt@bookTicker","data":{}}"#, .unknownSymbol),
        (#"{"stream":"ethusdt@kline_1m","data":{}}"#, .unknownStream),
        (#"{"stream":"ethusdt@depth7","data":{}}"#, .unknownStream),
        // Found by the fuzzer: a level count too long for an Int overflowed (a crash) instead of being refused.
        (#"{"stream":"ethusdt@depth5444444444444444444444444444444444444444@100ms","data":{}}"#, .unknownStream),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"1","B":"1","a":"2"}}"#, .missingField),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":"1","s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}}"#, .wrongType),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":1.5,"B":"1","a":"2","A":"1"}}"#, .wrongType),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"-1","B":"1","a":"2","A":"1"}}"#, .badDecimal),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"1e3","B":"1","a":"2","A":"1"}}"#, .badDecimal),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"99999999999999999999","B":"1","a":"2","A":"1"}}"#, .badDecimal),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}"#, .symbolMismatch),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"s":"ETHUSDT","b":"2","B":"1","a":"2","A":"1"}}"#, .crossedBook),
        (#"{"stream":"ethusdt@bookTicker","data":{"u":1,"u":2,"s":"ETHUSDT","b":"1","B":"1","a":"2","A":"1"}}"#, .duplicateField),
        (#"{"stream":"ethusdt@aggTrade","data":{"e":"trade","E":1,"s":"ETHUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}}"#, .unknownEvent),
        (#"{"stream":"ethusdt@depth20","data":{"lastUpdateId":1,"bids":[["1.0"]],"asks":[]}}"#, .notJSON),
        (#"{"stream":"ethusdt@depth20","data":{"lastUpdateId":1,"bids":[["1","1"],["2","1"]],"asks":[]}}"#, .crossedBook),
        (#"{"stream":"!serverShutdown","data":{"e":"serverRestart"}}"#, .unknownEvent),
        (#"{"id":1}"#, .unknownEvent),
        (#"{"stream":"ethusdt@bookTicker"}"#, .missingField),
    ])
    func malformedFramesAreRefusedWithTheirReason(_ text: String, _ expected: FrameError.Code) {
        #expect(code(text) == expected, "\(text)")
    }

    @Test func tooManyLevelsAreRefused() {
        let levels = (0..<21).map { #"["\#(100 - $0)","1"]"# }.joined(separator: ",")
        #expect(code(#"{"stream":"ethusdt@depth20","data":{"lastUpdateId":1,"bids":[\#(levels)],"asks":[]}}"#) == .tooManyLevels)
    }

    @Test func decimalsCompareExactlyAcrossScales() {
        #expect(CexDecimal("1.50") == CexDecimal("1.5"))
        #expect(CexDecimal("0.00000001")! < CexDecimal("0.0000001")!)
        #expect(CexDecimal("18446744073709551615") != nil)
        #expect(CexDecimal("18446744073709551616") == nil)
        #expect(CexDecimal(".5") == nil && CexDecimal("5.") == nil && CexDecimal("") == nil && CexDecimal("1.2.3") == nil)
        #expect(CexDecimal("0.0000000000000000001") == nil)  // 19 places
        #expect(Set([CexDecimal("2.10")!, CexDecimal("2.1")!]).count == 1)
    }
}
