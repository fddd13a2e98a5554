import AMMMath
import Detection
import EVMPrimitives
import Opportunities
import Testing

@Suite struct CexDexSpreadDetectorTests {
    // USDC (6 decimals) sorts below WETH here: token0 = USDC, token1 = WETH.
    static let usdc = try! Address(hex: "0x1000000000000000000000000000000000000001")
    static let weth = try! Address(hex: "0x2000000000000000000000000000000000000002")
    static let pair = try! Address(hex: "0x3000000000000000000000000000000000000003")

    /// A WETH/USDC V2 pool at `price` USDC per WETH with 1,000 WETH.
    static func candidate(_ price: Double) throws -> CexDexSpreadDetector.Candidate {
        let wethHeld = UInt256(1_000) * UInt256(1_000_000_000_000_000_000)
        let usdcHeld = UInt256(UInt64(price * 1_000)) * UInt256(1_000_000)
        return .init(ref: PoolRef(address: pair, token0: usdc, token1: weth, venue: 1), pool: .uniswapV2(try V2Pool(reserve0: usdcHeld, reserve1: wethHeld)))
    }

    /// ETH at `mid` USDC: USDC raw per WETH raw = mid·1e6 / 1e18.
    static func reference(_ mid: Double, age: UInt64 = 100) -> CexReference {
        CexReference(symbol: "ETHUSDC", base: weth, quote: usdc, numerator: UInt256(UInt64(mid * 100)), denominator: UInt256(100) * UInt256(1_000_000_000_000),
                     bid: mid - 0.01, ask: mid + 0.01, ageMillis: age, bidDepth: 40, askDepth: 4, baseDecimals: 18)
    }

    func detect(_ pool: Double, _ mid: Double, age: UInt64 = 100, gasPrice: UInt256 = 10_000_000_000) throws -> ([Opportunity], CexDexSpreadDetector.Counts) {
        var d = CexDexSpreadDetector()
        let found = d.detect(chainID: 1, block: 7, candidates: [try Self.candidate(pool)], references: [Self.reference(mid, age: age)],
                             wrappedNative: Self.weth, gasPrice: gasPrice, now: 1_000, timestamps: .init())
        return (found, d.counts)
    }

    @Test func aCheapPoolIsBoughtAndTheHedgeSellsOnTheExchange() throws {
        let (found, counts) = try detect(2000, 2030)  // 1.5% under the mid
        #expect(counts.found == 1)
        let o = try #require(found.first)
        #expect(o.kind == .cexDexSpread && o.path.count == 1)
        #expect(o.path[0].tokenIn == Self.usdc && o.path[0].tokenOut == Self.weth)
        let c = try #require(o.cexDex)
        #expect(c.hedgeSellsBase && c.hedgeQuantity == o.path[0].amountOut)
        // The gross profit is the output valued at the mid, minus the input, exactly.
        #expect(c.profit(paid: o.amountIn, got: o.path[0].amountOut, gotToken: Self.weth) == o.grossProfit)
        // Gas: 150,000 × 10 gwei = 0.0015 ETH = 3.045 USDC at 2,030.
        #expect(o.grossProfit &- o.netProfit == Int256(3_045_000))
        // After the trade the pool sits at the mid less its fee (0.3%).
        let after = try Self.candidate(2000).pool.applying(amountIn: o.amountIn, zeroForOne: true)
        let priceAfter = 1 / after.spotPrice * 1e12  // USDC per WETH
        #expect(abs(priceAfter / (2030 * 0.997) - 1) < 1e-4, "\(priceAfter)")
        // The bid side shows 40 ETH near the mid, more than the hedge: full confidence but for the age.
        #expect(o.confidence > 0.99 && o.confidence < 1)
    }

    @Test func aDearPoolIsSoldIntoAndTheHedgeBuys() throws {
        let (found, _) = try detect(2060, 2030)
        let o = try #require(found.first)
        #expect(o.path[0].tokenIn == Self.weth && o.path[0].tokenOut == Self.usdc)
        let c = try #require(o.cexDex)
        #expect(!c.hedgeSellsBase && c.hedgeQuantity == o.amountIn)
        #expect(c.profit(paid: o.amountIn, got: o.path[0].amountOut, gotToken: Self.usdc) == o.grossProfit)
        // The ask side shows 4 ETH, less than the hedge: the confidence is the share it covers.
        let hedgeETH = o.amountIn.doubleValue / 1e18
        #expect(hedgeETH > 4 && abs(o.confidence - 4 / hedgeETH * (1 - 0.5 * 100 / 10_000)) < 1e-9)
        // Gas is paid in WETH directly.
        #expect(o.grossProfit &- o.netProfit == Int256(1_500_000_000_000_000))
    }

    @Test func withinFeeAndThresholdOrStaleNothingIsPublished() throws {
        let inside = try detect(2000, 2011)  // 0.55% < 0.3% fee + 0.3% threshold
        #expect(inside.0.isEmpty && inside.1.inside == 1)
        let stale = try detect(2000, 2100, age: 10_001)
        #expect(stale.0.isEmpty && stale.1.stale == 1)
        // Gas of 1,000 gwei a unit (0.15 ETH, 304 USDC) eats a 0.7% spread on this pool.
        let dear = try detect(2000, 2014, gasPrice: 1_000_000_000_000)
        #expect(dear.0.isEmpty && dear.1.belowCosts == 1)
    }

    @Test func gasIsValuedThroughTheNativeTokensPriceInACommonQuote() {
        let usdt = try! Address(hex: "0x4000000000000000000000000000000000000004")
        let wbtc = try! Address(hex: "0x5000000000000000000000000000000000000005")
        // ETH 2,000 USDT, BTC 50,000 USDT (8 decimals): 1 ETH = 0.04 BTC = 4,000,000 sat.
        let eth = CexReference(symbol: "ETHUSDT", base: Self.weth, quote: usdt, numerator: 2_000, denominator: 1_000_000_000_000,
                               bid: 0, ask: 0, ageMillis: 0, bidDepth: 0, askDepth: 0, baseDecimals: 18)
        let btc = CexReference(symbol: "BTCUSDT", base: wbtc, quote: usdt, numerator: 500, denominator: 1,
                               bid: 0, ask: 0, ageMillis: 0, bidDepth: 0, askDepth: 0, baseDecimals: 8)
        let oneETH = UInt256(1_000_000_000_000_000_000)
        #expect(CexDexSpreadDetector.value(wei: oneETH, in: usdt, wrappedNative: Self.weth, references: [eth, btc]) == 2_000_000_000)
        #expect(CexDexSpreadDetector.value(wei: oneETH, in: wbtc, wrappedNative: Self.weth, references: [eth, btc]) == 4_000_000)
        #expect(CexDexSpreadDetector.value(wei: oneETH, in: Self.usdc, wrappedNative: Self.weth, references: [eth, btc]) == nil)
    }
}
