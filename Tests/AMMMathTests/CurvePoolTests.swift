import AMMMath
import EVMPrimitives
import Testing

@Suite struct CurvePoolTests {
    /// 1,000 DAI into a 1M DAI / 1M USDC pool, A = 200, fee 0.04%: curvesim's CurvePool.exchange
    /// pays 999,595,026 USDC units (python/tests/test_curve_reference.py checks 600 more).
    @Test func exchangeMatchesCurvesimOnAStablePair() throws {
        let pool = try CurvePool(balances: (1_000_000_000_000_000_000_000_000, 1_000_000_000_000), decimals: (18, 6), amplification: 200, fee: 4_000_000)
        #expect(try pool.amountOut(amountIn: 1_000_000_000_000_000_000_000, zeroForOne: true) == 999_595_026)
        // Exact output by search: the least input paying at least the amount.
        let need = try pool.amountIn(amountOut: 999_595_026, zeroForOne: true)
        #expect(try pool.amountOut(amountIn: need, zeroForOne: true) >= 999_595_026)
        #expect(try pool.amountOut(amountIn: need - 1, zeroForOne: true) < 999_595_026)
        #expect(throws: AMMError.self) { try pool.amountOut(amountIn: .zero, zeroForOne: true) }
    }

    /// A Curve → V2 cycle: the optimiser finds a profitable size and no nearby input beats it.
    @Test func optimiserSizesACycleThroughCurve() throws {
        let curve = try CurvePool(balances: (1_000_000_000_000_000_000_000_000, 1_000_000_000_000), decimals: (18, 6), amplification: 200, fee: 4_000_000)
        // The pair buys DAI with USDC 1% cheap: USDC → DAI at 1.01.
        let pair = try V2Pool(reserve0: 1_010_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, feePips: 500)
        let path = Path([.init(pool: .curve(curve), zeroForOne: true), .init(pool: .uniswapV2(pair), zeroForOne: false)])
        expectNoNearbyInputBeats(path, try #require(Optimizer.optimize(path)))
    }
}
