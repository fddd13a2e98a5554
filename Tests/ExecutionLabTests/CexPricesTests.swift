import Detection
import EVMPrimitives
import Feeds
import MarketState
@testable import Pipeline
import Testing

/// The normaliser: a Binance book as an exact fair value in raw units of a chain's tokens, in USDT
/// directly and in USDC through USDCUSDT; written to the PriceMatrix under the exchange's venue;
/// none from a stale book. No network: frames go straight into the feed's state.
@Suite struct CexPricesTests {
    static let weth = try! Address(hex: "0x2000000000000000000000000000000000000002")
    static let usdt = try! Address(hex: "0x1000000000000000000000000000000000000001")
    static let usdc = try! Address(hex: "0x3000000000000000000000000000000000000003")

    func ticker(_ sym: String, _ u: Int, _ bid: String, _ ask: String) -> [UInt8] {
        Array(#"{"stream":"\#(sym.lowercased())@bookTicker","data":{"u":\#(u),"s":"\#(sym)","b":"\#(bid)","B":"7.5","a":"\#(ask)","A":"2.25"}}"#.utf8)
    }

    @Test func aBookBecomesExactFairValuesAndMatrixPrices() throws {
        let feed = BinanceFeed(streamBase: "ws://127.0.0.1:1", rest: BinanceREST(base: "http://127.0.0.1:1"), symbols: ["ETHUSDT", "USDCUSDT"])
        let matrix = PriceMatrix(expected: 8)
        let pairs = [CexPrices.Pair(chainID: 1, symbol: 0, base: Self.weth, baseDecimals: 18, quote: Self.usdt, quoteDecimals: 6),
                     CexPrices.Pair(chainID: 1, symbol: 0, base: Self.weth, baseDecimals: 18, quote: Self.usdc, quoteDecimals: 6, divideBy: 1)]
        let prices = CexPrices(feed: feed, matrix: matrix, pairs: pairs)
        #expect(prices.references(chain: 1).isEmpty)  // no book yet
        let now = monotonicNanos()
        _ = feed.state.withLock { $0.ingest(ticker("ETHUSDT", 1, "3000.10", "3000.30"), at: now) }
        _ = feed.state.withLock { $0.ingest(ticker("USDCUSDT", 1, "0.9998", "1.0000"), at: now) }
        prices.changed(0)
        let refs = prices.references(chain: 1)
        #expect(refs.count == 2)
        // USDT: mid 3000.20 → 3000.2e6 raw per 1e18 raw = 30002 / 1e13.
        let usdt = try #require(refs.first { $0.quote == Self.usdt })
        #expect(usdt.numerator * UInt256(10_000_000_000_000) == usdt.denominator * UInt256(30_002))
        // USDC: ÷ mid 0.9999 → 30002000 / (9999 · 1e12).
        let usdc = try #require(refs.first { $0.quote == Self.usdc })
        #expect(usdc.numerator * UInt256(9_999) * UInt256(1_000_000_000_000) == usdc.denominator * UInt256(30_002_000))
        #expect(usdt.bidDepth == 7.5 && usdt.askDepth == 2.25 && usdt.symbol == "ETHUSDT")
        // The matrix: the larger address's token per the smaller's (here USDT < WETH < USDC).
        let slot = try #require(matrix.existingSlot(for: .init(chainID: 1, tokenA: Self.weth, tokenB: Self.usdt, venue: PriceMatrix.cexBinanceVenue)))
        let e = try #require(matrix.read(slot))
        #expect(e.source == .cexBinance && abs(e.price - 1e18 / 3000.2e6) / e.price < 1e-12)
        let slot2 = try #require(matrix.existingSlot(for: .init(chainID: 1, tokenA: Self.weth, tokenB: Self.usdc, venue: PriceMatrix.cexBinanceVenue)))
        #expect(abs(try #require(matrix.read(slot2)).price - 3000.2e6 / 0.9999 / 1e18) < 1e-18)
        #expect(prices.version == 2)
    }

    @Test func aStaleBookGivesNoReference() {
        let feed = BinanceFeed(streamBase: "ws://127.0.0.1:1", rest: BinanceREST(base: "http://127.0.0.1:1"), symbols: ["ETHUSDT"])
        let prices = CexPrices(feed: feed, matrix: PriceMatrix(expected: 4),
                               pairs: [.init(chainID: 1, symbol: 0, base: Self.weth, baseDecimals: 18, quote: Self.usdt, quoteDecimals: 6)])
        _ = feed.state.withLock { $0.ingest(ticker("ETHUSDT", 1, "3000.10", "3000.30"), at: monotonicNanos() - 11_000_000_000) }
        #expect(prices.references(chain: 1).isEmpty)
    }
}
