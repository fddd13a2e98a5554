import AMMMath
import EVMPrimitives
import Testing

@Suite struct SolidlyPoolTests {
    /// 1,000 DAI into 1M DAI / 1M USDC: degenbot's port of Aerodrome's Pool.sol pays 999,499,999
    /// (stable, 5 bp) and 996,006,981 (volatile, 0.3%). python/tests/test_solidly_reference.py
    /// checks 800 more.
    @Test func amountOutMatchesTheReference() throws {
        let stable = try SolidlyPool(reserve0: 1_000_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, stable: true, decimals: (18, 6), feePips: 500)
        #expect(try stable.amountOut(amountIn: 1_000_000_000_000_000_000_000, zeroForOne: true) == 999_499_999)
        let volatile = try SolidlyPool(reserve0: 1_000_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, stable: false, decimals: (18, 6), feePips: 3000)
        #expect(try volatile.amountOut(amountIn: 1_000_000_000_000_000_000_000, zeroForOne: true) == 996_006_981)
        // Exact output by search is the least input that pays.
        let need = try stable.amountIn(amountOut: 999_499_999, zeroForOne: true)
        #expect(try stable.amountOut(amountIn: need, zeroForOne: true) >= 999_499_999)
        #expect((try? stable.amountOut(amountIn: need - 1, zeroForOne: true)).map { $0 < 999_499_999 } ?? true)
        #expect(throws: AMMError.self) { try stable.amountOut(amountIn: .zero, zeroForOne: true) }
        // After the swap the fee (5 bp of 1,000 DAI = 0.5 DAI) has left for the fee contract.
        let after = try stable.applying(amountIn: 1_000_000_000_000_000_000_000, zeroForOne: true)
        #expect(after.reserve0 == 1_000_999_500_000_000_000_000_000 && after.reserve1 == 1_000_000_000_000 - 999_499_999)
    }

    /// A stable pair and a Uniswap V2 pair 1% apart: the optimiser sizes the cycle; no nearby
    /// input beats it.
    @Test func optimiserSizesACycleThroughAStablePair() throws {
        let stable = try SolidlyPool(reserve0: 1_000_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, stable: true, decimals: (18, 6), feePips: 500)
        let pair = try V2Pool(reserve0: 1_010_000_000_000_000_000_000_000, reserve1: 1_000_000_000_000, feePips: 500)
        let path = Path([.init(pool: .solidly(stable), zeroForOne: true), .init(pool: .uniswapV2(pair), zeroForOne: false)])
        expectNoNearbyInputBeats(path, try #require(Optimizer.optimize(path)))
    }
}
