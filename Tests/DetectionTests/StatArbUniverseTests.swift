import AMMMath
import Detection
import EVMPrimitives
import Foundation
import Testing

/// The pair universe: numeraires, routes, trade pools and the pairs left out (with why); prices
/// by route, with a median per leg; and entries sized to their impact budget on exact V2 math.
struct StatArbUniverseTests {
    static func address(_ n: UInt64) -> Address { Address(truncating: UInt256(n)) }
    static let weth = address(0x10), wbtc = address(0x20), usdc = address(0x30), dai = address(0x40), steth = address(0x50), usdt = address(0x60)
    static let tokens: [StatArbUniverse.Token] = [
        .init(symbol: "DAI", address: dai, stable: true), .init(symbol: "USDC", address: usdc, stable: true),
        .init(symbol: "USDT", address: usdt, stable: true), .init(symbol: "WBTC", address: wbtc, stable: false),
        .init(symbol: "WETH", address: weth, stable: false), .init(symbol: "stETH", address: steth, stable: false),
        .init(symbol: "rETH", address: address(0x70), stable: false),  // listed, with no pool
    ]
    static func pool(_ n: UInt64, _ a: Address, _ b: Address) -> PoolRef {
        PoolRef(address: address(0x1000 + n), token0: min(a, b), token1: max(a, b), venue: UInt32(n))
    }
    // 0, 1: WETH/USDC on two venues; 2: WETH/WBTC; 3: WETH/stETH; 4: WETH/DAI; 5: DAI/USDC; 6: USDC/USDT (not tradable).
    static let pools = [pool(0, weth, usdc), pool(1, weth, usdc), pool(2, weth, wbtc), pool(3, weth, steth), pool(4, weth, dai), pool(5, dai, usdc),
                        pool(6, usdc, usdt)]

    static func universe(_ pairs: [(String, String)]) -> StatArbUniverse {
        StatArbUniverse(pairs: pairs, tokens: tokens, wrappedNative: weth, pools: pools) { $0 != 6 }
    }

    @Test func pairsArePricedInANumeraireOutsideThem() throws {
        let u = Self.universe([("WETH", "WBTC"), ("USDC", "DAI"), ("stETH", "WETH"), ("USDC", "USDT"), ("WETH", "LINK"), ("rETH", "WETH")])
        #expect(u.pairs.map(\.name) == ["WETH/WBTC", "USDC/DAI", "stETH/WETH"])
        #expect(u.skipped == ["USDC/USDT: no pool between them to trade on", "WETH/LINK: not both listed", "rETH/WETH: no route to the numeraire"])
        let (btc, stable, st) = (u.pairs[0], u.pairs[1], u.pairs[2])
        // USDC first among the stablecoins (DAI is listed first); two stablecoins: the wrapped native token.
        #expect(btc.numeraire == Self.usdc && st.numeraire == Self.usdc && stable.numeraire == Self.weth)
        #expect(btc.routeA == [.init(pools: [0, 1], invert: Self.weth > Self.usdc)])
        // WBTC has no USDC pool: through WETH, the pair's other token.
        #expect(btc.routeB == [.init(pools: [2], invert: Self.wbtc > Self.weth), .init(pools: [0, 1], invert: Self.weth > Self.usdc)])
        #expect(btc.trade == [2] && stable.trade == [5] && st.trade == [3])
        #expect(u.pricedPools == [0, 1, 2, 3, 4])
    }

    @Test func pricesAreMediansAlongTheRoute() throws {
        let u = Self.universe([("WETH", "WBTC")])
        // Matrix orientation: the larger address's token per the smaller's. USDC (0x30) per WETH (0x10): 2,000 and 2,010;
        // WETH (0x10) per WBTC (0x20) is inverted: WBTC per WETH 0.05.
        var prices: [Int: Double] = [0: 2_000, 1: 2_010, 2: 0.05]
        let (a, b) = try #require(StatArbUniverse.prices(u.pairs[0], price: { prices[$0] }))
        #expect(abs(a - 2_005) < 1e-9)
        #expect(abs(b - 2_005 / 0.05) < 1e-6)
        prices[2] = 0
        #expect(StatArbUniverse.prices(u.pairs[0], price: { prices[$0] }) == nil)  // no positive price on a leg
        prices[2] = 0.05
        prices[1] = nil
        #expect(StatArbUniverse.prices(u.pairs[0], price: { prices[$0] })?.a == 2_000)  // one venue left
    }

    /// On V2 (0.3 %), the entry is the largest input whose impact stays within the budget; the
    /// expected round trip matches the pool's own math, and a cap applies.
    @Test func entriesAreSizedToTheirImpactBudget() throws {
        let u = Self.universe([("stETH", "WETH")])
        let pair = u.pairs[0]
        let reserve = UInt256(500) * UInt256(1_000_000_000_000_000_000)
        let book: [Pool] = Array(repeating: try .uniswapV2(V2Pool(reserve0: reserve, reserve1: reserve)), count: Self.pools.count)
        var sizing = StatArbUniverse.Sizing()
        sizing.impactShare = 0.25
        // Short stETH (it is dear): sell stETH for WETH, a 2 % reversion expected; the budget 0.5 %.
        let e = try #require(StatArbUniverse.size(pair, longA: false, reversion: 0.02, pools: book, token0: { Self.pools[$0].token0 }, sizing: sizing))
        #expect(e.pool == 3 && e.sold == Self.steth && e.bought == Self.weth)
        let zeroForOne = Self.pools[3].token0 == Self.steth
        func impact(_ a: UInt256) throws -> Double { abs(log(try book[3].applying(amountIn: a, zeroForOne: zeroForOne).spotPrice / book[3].spotPrice)) }
        #expect(try impact(e.amountIn) <= 0.005 && impact(e.amountIn + 1) > 0.005)
        // About 0.25 % of the reserve moves a V2 price by 0.5 %.
        #expect(e.amountIn > reserve / 1_000 * 2 && e.amountIn < reserve / 1_000 * 3)
        #expect(e.amountOut == (try book[3].amountOut(e.amountIn, zeroForOne: zeroForOne)))
        let back = try book[3].applying(amountIn: e.amountIn, zeroForOne: zeroForOne).amountOut(e.amountOut, zeroForOne: !zeroForOne)
        #expect(abs(e.expectedBack.doubleValue / (back.doubleValue * exp(0.02)) - 1) < 1e-12)
        sizing.maxIn[Self.steth] = UInt256(1_000)
        #expect(StatArbUniverse.size(pair, longA: false, reversion: 0.02, pools: book, token0: { Self.pools[$0].token0 }, sizing: sizing)?.amountIn == UInt256(1_000))
    }
}
