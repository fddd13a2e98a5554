import AMMMath
import Detection
import EVMPrimitives
import MarketState
import Opportunities
import Testing

@Suite struct CrossChainDetectorTests {
    // Chain 10: WETH at 2000 USDC; chain 42161: WETH at 2100 USDC (own token addresses each).
    let wethA = token(11), usdcA = token(12), wethB = token(21), usdcB = token(22)

    func chain(_ weth: Address, _ usdc: Address, usdcPerWeth: UInt64) -> (PoolBook, [PoolRef?]) {
        var book = PoolBook()
        let (t0, t1) = weth < usdc ? (weth, usdc) : (usdc, weth)
        let rw = 1_000 * e18, ru = UInt256(usdcPerWeth * 1_000 * 1_000_000)
        let (r0, r1) = t0 == weth ? (rw, ru) : (ru, rw)
        book.register(token(900 + UInt64(weth.hashValue & 0xff)), pool: .uniswapV2(try! V2Pool(reserve0: r0, reserve1: r1)),
                      at: LogPosition(block: 5, index: .max))
        return (book, [PoolRef(address: book.addresses[0], token0: t0, token1: t1, venue: 1)])
    }

    var route: CrossChainDetector.Route {
        .init(fromChain: 10, toChain: 42161, asset: (wethA, wethB), quote: (usdcA, usdcB), quoteDecimals: 6, feePips: 500,
              fixedFeeMicroUSD: 1_500_000, latencySeconds: 60)
    }

    func configuration() -> CrossChainDetector.Configuration {
        CrossChainDetector.Configuration(routes: [route], wrappedNative: [10: wethA, 42161: wethB])
    }

    /// The exact trade: buy on A, bridge (fee floored), sell on B.
    func trade(_ x: UInt256, _ a: PoolBook, _ b: PoolBook, _ ra: PoolRef, _ rb: PoolRef) -> UInt256? {
        guard let bought = try? a.pools[0].amountOut(x, zeroForOne: ra.token0 == usdcA) else { return nil }
        let bridged = bought - bought * UInt256(500) / 1_000_000  // the bridge keeps ⌊fee⌋
        return try? b.pools[0].amountOut(bridged, zeroForOne: rb.token0 == wethB)
    }

    /// Brute force: no input on a grid up to twice `answer` (2,000 points), nor within 2,000 units of it, does better.
    func expectOptimum(_ objective: (UInt256) -> Int256?, at answer: UInt256) throws {
        let best = try #require(objective(answer))
        for k in 1...2_000 { if let v = objective(answer * UInt256(UInt64(k)) / 1_000) { #expect(v <= best, "\(k)/1000 of the answer") } }
        for k in 1...2_000 {
            let delta = UInt256(UInt64(k))
            for x in [answer + delta, answer - delta] { if let v = objective(x) { #expect(v <= best, "input \(x)") } }
        }
    }

    @Test func aPriceGapAcrossChainsIsSizedAndCostedExactly() throws {
        let (a, refsA) = chain(wethA, usdcA, usdcPerWeth: 2000)
        let (b, refsB) = chain(wethB, usdcB, usdcPerWeth: 2100)
        var d = CrossChainDetector(configuration: configuration())
        let gwei = UInt256(1_000_000_000)
        d.update(chain: 10, book: a, refs: refsA, gasPrice: gwei, block: 5, at: 1_000)
        d.update(chain: 42161, book: b, refs: refsB, gasPrice: gwei / 10, block: 7, at: 2_000)
        var out: [Opportunity] = []
        d.process(changed: 42161, now: 3_000, into: &out)
        try #require(out.count == 1)
        let o = out[0]
        #expect(o.kind == .crossChain && o.chains == [10, 42161] && o.blockNumber == 7)
        #expect(o.path.map(\.chainID) == [10, 42161] && o.path[0].tokenIn == usdcA && o.path[1].tokenOut == usdcB)
        let sold = try #require(trade(o.amountIn, a, b, refsA[0]!, refsB[0]!))
        #expect(o.path[1].amountOut == sold && o.grossProfit == Int256(bitPattern: sold) &- Int256(bitPattern: o.amountIn))
        // Risk: ⌈200·√60⌉ = 1550 pips of the input; costs: gas on each chain at that chain's pool
        // price (2000 and 2100 USDC per WETH, rounded up) and $1.50 fixed.
        func risk(_ x: UInt256) -> UInt256 { (x * 1550 + 999_999) / 1_000_000 }
        let gasA = (UInt256(150_000) * gwei * UInt256(2_000_000_000_000) + 1_000 * e18 - 1) / (1_000 * e18)
        let gasB = (UInt256(150_000) * (gwei / 10) * UInt256(2_100_000_000_000) + 1_000 * e18 - 1) / (1_000 * e18)
        let costs = gasA + gasB + 1_500_000 + risk(o.amountIn)
        #expect(o.netProfit == o.grossProfit &- Int256(bitPattern: costs))
        #expect(o.gasCostWei == UInt256(150_000) * gwei + UInt256(150_000) * (gwei / 10))
        func objective(_ x: UInt256) -> Int256? {
            trade(x, a, b, refsA[0]!, refsB[0]!).map { Int256(bitPattern: $0) &- Int256(bitPattern: x) &- Int256(bitPattern: risk(x)) }
        }
        try expectOptimum(objective, at: o.amountIn)
        // Not again while nothing moved.
        d.process(changed: 10, now: 4_000, into: &out)
        #expect(out.count == 1 && d.counters.duplicates == 1)
    }

    /// Chain B with two WETH/USDC pools: (USDC per WETH, WETH in the pool) each.
    func twoPools(_ deep: (UInt64, UInt64), _ shallow: (UInt64, UInt64)) -> (PoolBook, [PoolRef?]) {
        var book = PoolBook(), refs: [PoolRef?] = []
        let (t0, t1) = wethB < usdcB ? (wethB, usdcB) : (usdcB, wethB)
        for (n, (price, weth)) in [deep, shallow].enumerated() {
            let rw = UInt256(weth) * e18, ru = UInt256(price * weth * 1_000_000)
            let (r0, r1) = t0 == wethB ? (rw, ru) : (ru, rw)
            book.register(token(950 + UInt64(n)), pool: .uniswapV2(try! V2Pool(reserve0: r0, reserve1: r1)), at: LogPosition(block: 5, index: .max))
            refs.append(PoolRef(address: book.addresses[n], token0: t0, token1: t1, venue: 1))
        }
        return (book, refs)
    }

    @Test func theSaleIsPricedOnTheDestinationsDeepestPool() throws {
        let (a, refsA) = chain(wethA, usdcA, usdcPerWeth: 2000)
        func detect(_ b: (PoolBook, [PoolRef?])) -> [Opportunity] {
            var d = CrossChainDetector(configuration: configuration())
            d.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
            d.update(chain: 42161, book: b.0, refs: b.1, gasPrice: 0, block: 7, at: 0)
            var out: [Opportunity] = []
            d.process(changed: 42161, now: 1, into: &out)
            return out
        }
        // Only a shallow pool on B is 5% dear (its deep pool agrees with A): that gap is B's own
        // arbitrage, gone before a bridged asset arrives. Nothing to do across chains.
        #expect(detect(twoPools((2000, 20_000), (2100, 1_000))).isEmpty)
        // B's deep pool is 5% dear: the chain's price. The sale goes there, whatever its shallow pool says.
        let b = twoPools((2100, 20_000), (2000, 1_000))
        let out = detect(b)
        try #require(out.count == 1)
        #expect(out[0].path[1].pool == b.1[0]!.address)
        let sold = try b.0.pools[0].amountOut(out[0].path[0].amountOut - out[0].path[0].amountOut * UInt256(500) / 1_000_000, zeroForOne: b.1[0]!.token0 == wethB)
        #expect(out[0].path[1].amountOut == sold)
    }

    @Test func oldPricesSmallGapsAndTheWrongWayAreRefused() {
        let (a, refsA) = chain(wethA, usdcA, usdcPerWeth: 2000)
        let (b, refsB) = chain(wethB, usdcB, usdcPerWeth: 2100)
        var d = CrossChainDetector(configuration: configuration())
        d.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
        d.update(chain: 42161, book: b, refs: refsB, gasPrice: 0, block: 7, at: 31_000_000_000)
        var out: [Opportunity] = []
        d.process(changed: 42161, now: 31_000_000_000, into: &out)
        #expect(out.isEmpty && d.counters.stale == 1)
        // 0.5% apart: fees, the bridge and the latency charge eat it.
        let (close, refsClose) = chain(wethB, usdcB, usdcPerWeth: 2010)
        var e = CrossChainDetector(configuration: configuration())
        e.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
        e.update(chain: 42161, book: close, refs: refsClose, gasPrice: 0, block: 7, at: 0)
        e.process(changed: 10, now: 1, into: &out)
        #expect(out.isEmpty && e.counters.unprofitable + e.counters.belowMinimum == 1)
        // Cheaper on the destination: the route (10 → 42161) does not run backwards.
        let (cheap, refsCheap) = chain(wethB, usdcB, usdcPerWeth: 1800)
        var f = CrossChainDetector(configuration: configuration())
        f.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
        f.update(chain: 42161, book: cheap, refs: refsCheap, gasPrice: 0, block: 7, at: 0)
        f.process(changed: 10, now: 1, into: &out)
        #expect(out.isEmpty)
    }

    /// Chain A's WETH/USDC as a V3 pool at about 2000 USDC per WETH: deep liquidity within ±120
    /// ticks of the price and thinner liquidity beyond, so the best purchase crosses initialised ticks.
    func v3Chain(_ weth: Address, _ usdc: Address) throws -> (PoolBook, [PoolRef?]) {
        try #require(weth < usdc)  // token0 is WETH: the price is USDC units per WETH unit
        let spacing: Int32 = 60, center: Int32 = -200_340  // ≈ log₁.₀₀₀₁(2000·10⁶/10¹⁸), a multiple of 60
        let deep = Int256(22_400_000_000_000_000), thin = Int256(6_000_000_000_000_000)
        let ticks = [V3Pool.Tick(index: center - 6_000, liquidityNet: thin), V3Pool.Tick(index: center - 120, liquidityNet: deep),
                     V3Pool.Tick(index: center + 120, liquidityNet: .zero &- deep), V3Pool.Tick(index: center + 6_000, liquidityNet: .zero &- thin)]
        let pool = try V3Pool(sqrtPriceX96: try TickMath.sqrtRatio(atTick: center + 7), tick: center + 7, liquidity: (deep &+ thin).magnitude,
                              feePips: 3_000, tickSpacing: spacing, ticks: ticks)
        var book = PoolBook()
        book.register(token(977), pool: .uniswapV3(pool), at: LogPosition(block: 5, index: .max))
        return (book, [PoolRef(address: book.addresses[0], token0: weth, token1: usdc, venue: 2)])
    }

    /// Sizing on a V3 purchase that crosses ticks is the integer maximum too, and a pair of pools
    /// sized before is not sized again until one of them changes, when the answer is a fresh one.
    @Test func aPurchaseAcrossTicksIsSizedExactlyAndResizedOnlyWhenAPoolMoves() throws {
        let (a, refsA) = try v3Chain(wethA, usdcA)
        let (b, refsB) = chain(wethB, usdcB, usdcPerWeth: 2100)
        var d = CrossChainDetector(configuration: configuration())
        d.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
        d.update(chain: 42161, book: b, refs: refsB, gasPrice: 0, block: 7, at: 0)
        var out: [Opportunity] = []
        d.process(changed: 42161, now: 1, into: &out)
        let o = try #require(out.first)
        func risk(_ x: UInt256) -> UInt256 { (x * 1550 + 999_999) / 1_000_000 }
        func objective(_ x: UInt256) -> Int256? {
            guard let bought = try? a.pools[0].amountOut(x, zeroForOne: false) else { return nil }
            let bridged = bought - bought * UInt256(500) / 1_000_000
            guard let sold = try? b.pools[0].amountOut(bridged, zeroForOne: refsB[0]!.token0 == wethB) else { return nil }
            return Int256(bitPattern: sold) &- Int256(bitPattern: x) &- Int256(bitPattern: risk(x))
        }
        // The purchase moved A's price past its deep range (ticks were crossed).
        guard case .uniswapV3(let after) = try a.pools[0].applying(amountIn: o.amountIn, zeroForOne: false) else { Issue.record("not V3"); return }
        #expect(after.tick > -200_340 + 120, "the trade stays within the first range: no tick crossed")
        try expectOptimum(objective, at: o.amountIn)
        // Nothing moved: not sized again (and a duplicate, not republished).
        d.update(chain: 42161, book: b, refs: refsB, gasPrice: 0, block: 8, at: 2)
        d.process(changed: 42161, now: 3, into: &out)
        #expect(d.counters.reused == 1 && d.counters.duplicates == 1 && out.count == 1)
        // B's pool moved (2200 now): sized afresh, exactly as a detector that never saw the old pool.
        let (b2, refsB2) = chain(wethB, usdcB, usdcPerWeth: 2200)
        d.update(chain: 42161, book: b2, refs: refsB2, gasPrice: 0, block: 9, at: 4)
        d.process(changed: 42161, now: 5, into: &out)
        var fresh = CrossChainDetector(configuration: configuration())
        fresh.update(chain: 10, book: a, refs: refsA, gasPrice: 0, block: 5, at: 0)
        fresh.update(chain: 42161, book: b2, refs: refsB2, gasPrice: 0, block: 9, at: 4)
        var freshOut: [Opportunity] = []
        fresh.process(changed: 42161, now: 5, into: &freshOut)
        #expect(d.counters.reused == 1 && out.count == 2)
        #expect(out.last?.amountIn == freshOut.first?.amountIn && out.last?.path == freshOut.first?.path && out.last!.amountIn != o.amountIn)
    }

    /// A route from an EVM chain to Solana: WETH (18 decimals) bought with USDC on chain 10 at
    /// 2000, bridged to Solana as Wormhole's WETH (8 decimals: the bridge delivers ⌊amount/10¹⁰⌋),
    /// sold for USDC in a Raydium AMM pool at 2100. The Solana side is a leg of 32-byte keys; its
    /// cost (lamports) is converted at Solana's SOL/USDC pool; the trade is the integer optimum.
    @Test func aGapBetweenAnEVMChainAndSolanaIsSizedAcrossTheBridgesDecimals() throws {
        let key = { (n: UInt8) in CrossChainDetector.Key(solana: [UInt8](repeating: n, count: 31) + [n]) }
        let wethS = key(1), usdcS = key(2), solS = key(3), wethPool = key(4), solPool = key(5)
        let (a, refsA) = chain(wethA, usdcA, usdcPerWeth: 2000)
        let wethUSDC = try RaydiumAMMPool(coinReserve: 500 * 100_000_000, pcReserve: 1_050_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        let solUSDC = try RaydiumAMMPool(coinReserve: 100_000 * 1_000_000_000, pcReserve: 15_000_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        let listings = [CrossChainDetector.Listing(pool: .raydiumAMM(wethUSDC), key: wethPool, token0: wethS, token1: usdcS, venue: 0),
                        CrossChainDetector.Listing(pool: .raydiumAMM(solUSDC), key: solPool, token0: solS, token1: usdcS, venue: 0)]
        var route = CrossChainDetector.Route(fromChain: 10, toChain: 101, asset: (.init(wethA), wethS), quote: (.init(usdcA), usdcS), quoteDecimals: 6,
                                             feePips: 500, fixedFeeMicroUSD: 1_500_000, latencySeconds: 60)
        route.assetScale = (10, 0)
        var d = CrossChainDetector(configuration: .init(routes: [route], wrappedNative: [10: .init(wethA), 101: solS]))
        let gwei = UInt256(1_000_000_000)
        d.update(chain: 10, book: a, refs: refsA, gasPrice: gwei, block: 5, at: 1_000)
        d.update(solana: 101, listings: listings, legLamports: 100_000, slot: 900, at: 2_000)
        var out: [Opportunity] = []
        d.process(changed: 101, now: 3_000, into: &out)
        let o = try #require(out.first)
        #expect(out.count == 1 && o.kind == .crossChain && o.chains == [10, 101] && o.blockNumber == 5)
        func trade(_ x: UInt256) -> (bought: UInt256, sold: UInt256)? {
            guard let bought = try? a.pools[0].amountOut(x, zeroForOne: refsA[0]!.token0 == usdcA) else { return nil }
            let delivered = bought / UInt256(10_000_000_000)
            let arrived = delivered - delivered * 500 / 1_000_000
            guard let sold = try? Pool.raydiumAMM(wethUSDC).amountOut(arrived, zeroForOne: true) else { return nil }
            return (bought, sold)
        }
        let (bought, sold) = try #require(trade(o.amountIn))
        // The EVM side a hop; the Solana side a leg of its keys.
        #expect(o.path == [Opportunity.Hop(chainID: 10, pool: refsA[0]!.address, tokenIn: usdcA, tokenOut: wethA, venue: 1, amountOut: bought)])
        #expect(o.solana?.legs == [Opportunity.Solana.Leg(pool: wethPool.bytes, mintIn: wethS.bytes, mintOut: usdcS.bytes, amountOut: sold.w0)])
        #expect(o.grossProfit == Int256(bitPattern: sold) &- Int256(bitPattern: o.amountIn))
        // Costs: EVM gas at chain 10's price, 100,000 lamports at 150 USDC per SOL (rounded up), $1.50, the latency charge.
        func risk(_ x: UInt256) -> UInt256 { (x * 1550 + 999_999) / 1_000_000 }
        let gasA = (UInt256(150_000) * gwei * UInt256(2_000_000_000_000) + 1_000 * e18 - 1) / (1_000 * e18)
        let lamports = (UInt256(100_000) * UInt256(15_000_000 * 1_000_000) + UInt256(100_000 * 1_000_000_000) - 1) / UInt256(100_000 * 1_000_000_000)
        #expect(o.netProfit == o.grossProfit &- Int256(bitPattern: gasA + lamports + 1_500_000 + risk(o.amountIn)) && o.netProfit > .zero)
        #expect(o.gasCostWei == UInt256(150_000) * gwei, "only the EVM side's gas is wei")
        // Across 8 decimals the profit is a staircase (about 20 input units a step of 10⁻⁸ WETH,
        // the steps' tops a few units of rounding above or below a concave curve whose top is flat
        // over thousands of steps): the answer is the first input of its step, and no input within
        // 2,000 units (about a hundred steps) does better.
        let profit = { (x: UInt256) in trade(x).map { Int256(bitPattern: $0.sold) &- Int256(bitPattern: x) &- Int256(bitPattern: risk(x)) } }
        #expect(try #require(trade(o.amountIn - 1)).sold < sold, "the first input of its step")
        try expectOptimum(profit, at: o.amountIn)
        // On the bus and in JSON it is the same opportunity.
        #expect(try Opportunity(encoded: o.encoded()) == o && Opportunity(json: o.json) == o)
        // The other way (Solana → chain 10) with the gap reversed is found too, its Solana leg first.
        var back = route
        (back.fromChain, back.toChain, back.asset, back.quote, back.assetScale) = (101, 10, (wethS, .init(wethA)), (usdcS, .init(usdcA)), (0, 10))
        let cheap = try RaydiumAMMPool(coinReserve: 500 * 100_000_000, pcReserve: 950_000 * 1_000_000, swapFeeNumerator: 25, swapFeeDenominator: 10_000)
        var e = CrossChainDetector(configuration: .init(routes: [back], wrappedNative: [10: .init(wethA), 101: solS]))
        e.update(chain: 10, book: a, refs: refsA, gasPrice: gwei, block: 5, at: 1_000)
        e.update(solana: 101, listings: [.init(pool: .raydiumAMM(cheap), key: wethPool, token0: wethS, token1: usdcS, venue: 0), listings[1]],
                 legLamports: 100_000, slot: 900, at: 2_000)
        e.process(changed: 10, now: 3_000, into: &out)
        let r = try #require(out.count == 2 ? out[1] : nil)
        #expect(r.chains == [101, 10] && r.solana?.legs.first?.mintIn == usdcS.bytes && r.path.first?.tokenOut == usdcA && r.netProfit > .zero)
        // The fee on what arrives, in the chain's 18 decimals (the lab's bridge takes it on its fill).
        let delivered = UInt256(r.solana!.legs[0].amountOut) * UInt256(10_000_000_000)
        #expect(r.path[0].amountOut == (try a.pools[0].amountOut(delivered - delivered * 500 / 1_000_000, zeroForOne: refsA[0]!.token0 == wethA)))
    }
}
