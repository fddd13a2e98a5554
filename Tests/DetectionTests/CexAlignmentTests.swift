import Detection
import EVMPrimitives
import Opportunities
import Testing

@Suite struct CexAlignmentTests {
    static let usdc = try! Address(hex: "0x1000000000000000000000000000000000000001")
    static let weth = try! Address(hex: "0x2000000000000000000000000000000000000002")
    static let dai = try! Address(hex: "0x6000000000000000000000000000000000000006")

    /// ETH at `mid` USDC.
    static func reference(_ mid: UInt64) -> CexReference {
        CexReference(symbol: "ETHUSDT", base: weth, quote: usdc, numerator: UInt256(mid), denominator: 1_000_000_000_000,
                     bid: 0, ask: 0, ageMillis: 0, bidDepth: 0, askDepth: 0, baseDecimals: 18)
    }

    /// USDC → WETH on one pool at `buy` USDC per WETH, WETH → USDC on another at `sell` (fees included).
    static func cycle(buy: UInt64, sell: UInt64, confidence: Double = 0.8) -> Opportunity {
        let usdcIn = UInt256(20_000) * UInt256(1_000_000)  // 20,000 USDC
        let wethOut = usdcIn * UInt256(1_000_000_000_000) / UInt256(buy)  // 10 WETH at 2,000
        let back = wethOut * UInt256(sell) / UInt256(1_000_000_000_000)
        let path = [Opportunity.Hop(chainID: 1, pool: Address(truncating: UInt256(7)), tokenIn: usdc, tokenOut: weth, venue: 1, amountOut: wethOut),
                    Opportunity.Hop(chainID: 1, pool: Address(truncating: UInt256(8)), tokenIn: weth, tokenOut: usdc, venue: 2, amountOut: back)]
        return Opportunity(id: Array(repeating: 1, count: 16), kind: .crossDex, chains: [1], path: path, amountIn: usdcIn, grossProfit: .zero,
                           netProfit: .zero, grossProfitMicroUSD: 0, netProfitMicroUSD: 0, gasUnits: 0, gasCostWei: .zero, flashSource: .none,
                           blockNumber: 1, timestamps: .init(), expiresAt: 0, confidence: confidence)
    }

    @Test func buyingCheapAndSellingDearAroundTheMidIsAligned() {
        let (v, c) = CexAlignment.check(Self.cycle(buy: 1_990, sell: 2_010), references: [Self.reference(2_000)])
        #expect(v == .aligned && abs(c - 0.8 * 1.15) < 1e-12)
        #expect(CexAlignment.check(Self.cycle(buy: 1_990, sell: 2_010, confidence: 0.95), references: [Self.reference(2_000)]).1 == 1)
    }

    @Test func sellingBelowTheMidBeyondTheBandIsContradicted() {
        // Both pools under a 2,030 mid: the cycle sells WETH at 2,010, 1% under it.
        let (v, c) = CexAlignment.check(Self.cycle(buy: 1_990, sell: 2_010), references: [Self.reference(2_030)])
        #expect(v == .contradicted && abs(c - 0.8 * 0.8) < 1e-12)
        // Within the band (0.4%): not against it.
        #expect(CexAlignment.check(Self.cycle(buy: 1_990, sell: 2_010), references: [Self.reference(2_016)]).0 == .aligned)
        // Buying above the mid: the first hop gets less WETH than the mid says.
        #expect(CexAlignment.check(Self.cycle(buy: 2_020, sell: 2_030), references: [Self.reference(2_000)]).0 == .contradicted)
    }

    @Test func aPathTheExchangeDoesNotPriceIsLeftAlone() {
        var o = Self.cycle(buy: 1_990, sell: 2_010)
        o.path = o.path.map { var h = $0; if h.tokenIn == Self.usdc { h.tokenIn = Self.dai } else { h.tokenOut = Self.dai }; return h }
        #expect(CexAlignment.check(o, references: [Self.reference(2_000)]) == (.unpriced, 0.8))
    }
}
