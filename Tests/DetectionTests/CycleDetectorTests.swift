import AMMMath
import ArbiterTestKit
import Detection
import EVMPrimitives
import MarketState
import Opportunities
import Testing

let weth = token(1), usdc = token(2), dai = token(3), link = token(4)
let e18 = UInt256(1_000_000_000_000_000_000)

/// A book of V2 pools registered at block 1.
struct Market {
    var refs: [PoolRef?] = []
    var book = PoolBook()

    mutating func add(_ a: Address, _ b: Address, _ ra: UInt256, _ rb: UInt256, fee: UInt32 = 3000) {
        let (t0, t1, r0, r1) = a < b ? (a, b, ra, rb) : (b, a, rb, ra)
        let address = token(UInt64(500 + refs.count))
        refs.append(PoolRef(address: address, token0: t0, token1: t1, venue: UInt32(refs.count)))
        book.register(address, pool: .uniswapV2(try! V2Pool(reserve0: r0, reserve1: r1, feePips: fee)), at: LogPosition(block: 1, index: .max))
    }

    /// A real Sync log (reserves in the pool's token order) for pool `i` in `block`, applied to the book.
    mutating func sync(_ i: Int, _ r0: UInt256, _ r1: UInt256, block: UInt64, logIndex: UInt32 = 0) {
        let ref = refs[i]!
        let log = EVMLog(address: ref.address, topics: [PoolTopics.v2Sync], data: r0.bigEndianBytes + r1.bigEndianBytes,
                         blockNumber: block, logIndex: logIndex)
        #expect(book.apply(log) == .applied(book.id(of: ref.address)!))
    }
}

func configuration(minBps: Int = 20, assets: [CycleDetector.Asset]? = nil) -> CycleDetector.Configuration {
    var c = CycleDetector.Configuration(chainID: 1, wrappedNative: weth,
                                        assets: assets ?? [.init(address: weth, decimals: 18, usdPerToken: 3000),
                                                           .init(address: usdc, decimals: 6, usdPerToken: 1)],
                                        minNetProfitBps: minBps)
    c.gasPrice = 10_000_000_000  // 10 gwei
    return c
}

func detect(_ d: inout CycleDetector, _ m: Market, _ changed: [Int], block: UInt64, now: UInt64 = 1_000) -> [Opportunity] {
    var out: [Opportunity] = []
    d.process(changed: changed, book: m.book, block: block, timestamps: .init(eventReceived: 1, stateApplied: 2), now: now, into: &out)
    return out
}

/// The cycle's exact output at `x` less `x`.
func exactProfit(_ path: Path, _ x: UInt256) -> Int256? {
    guard !x.isZero, let out = try? path.amountOut(x) else { return nil }
    return Int256(bitPattern: out) &- Int256(bitPattern: x)
}

func path(of o: Opportunity, _ m: Market) -> Path {
    Path(o.path.map { hop in
        let i = m.refs.firstIndex { $0?.address == hop.pool }!
        return Path.Hop(pool: m.book.pools[i], zeroForOne: hop.tokenIn == m.refs[i]!.token0)
    })
}

@Suite struct CycleDetectorTests {
    /// Two WETH/USDC pools, 3000 and 3090 USDC per WETH: one cross-DEX trade, buying on the cheap
    /// pool, sized to the exact optimum, with gas converted at the deeper pool's price.
    @Test func crossDexMoveIsSizedAtTheExactOptimum() throws {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        m.add(weth, usdc, 100 * e18, UInt256(300_000_000_000))
        var d = CycleDetector(configuration: configuration(), pools: m.refs)
        d.refresh(m.book)
        #expect(detect(&d, m, [0, 1], block: 1).isEmpty)
        // Someone buys WETH on pool 1: 97 WETH against 309,000 USDC there.
        m.sync(1, 97 * e18, UInt256(309_000_000_000), block: 2)
        let found = detect(&d, m, [1], block: 2)
        try #require(found.count == 1)
        let o = found[0]
        #expect(o.kind == .crossDex && o.chains == [1] && o.blockNumber == 2)
        // Buy WETH where it is cheap: start in WETH (preferred asset), sell into pool 1 (WETH dear there).
        #expect(o.path.map(\.tokenIn) == [weth, usdc] && o.path.map(\.pool) == [m.refs[1]!.address, m.refs[0]!.address])
        let p = path(of: o, m)
        #expect(try p.amounts(o.amountIn) == [o.amountIn] + o.path.map(\.amountOut))
        let best = try #require(exactProfit(p, o.amountIn))
        #expect(o.grossProfit == best)
        // Brute force: no grid point and no input within 64 wei does better.
        for k in 1...400 {
            let x = UInt256.mulDiv(o.amountIn, UInt256(UInt64(k)), 200)!
            if let q = exactProfit(p, x) { #expect(q <= best, "input \(x)") }
        }
        for delta in 1...64 {
            for x in [o.amountIn + UInt256(UInt64(delta)), o.amountIn - UInt256(UInt64(delta))] {
                if let q = exactProfit(p, x) { #expect(q <= best, "input \(x)") }
            }
        }
        // Net = gross − 10 gwei × gas (the asset is WETH: no conversion).
        #expect(o.gasUnits == 120_000 + 2 * 100_000)
        #expect(o.gasCostWei == UInt256(10_000_000_000) * UInt256(o.gasUnits))
        #expect(o.netProfit == o.grossProfit &- Int256(bitPattern: o.gasCostWei))
        #expect(o.netProfitMicroUSD == Int64(o.netProfit.doubleValue / 1e18 * 3000 * 1e6))
        #expect(o.timestamps == .init(eventReceived: 1, stateApplied: 2, detected: 1_000) && o.expiresAt == 1_000 + 60_000_000_000)
        #expect(o.id == Opportunity.makeID(kind: .crossDex, blockNumber: 2, path: o.path, amountIn: o.amountIn))
        #expect(d.counters.published == 1)
    }

    /// A USDC-started cycle pays gas in ETH: converted at the deepest WETH/USDC pool's reserves,
    /// rounded up.
    @Test func gasIsChargedInTheAssetAtTheDeepestNativePool() throws {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))  // deepest: 3000 USDC/WETH
        m.add(weth, usdc, 10 * e18, UInt256(30_500_000_000))
        m.add(usdc, dai, UInt256(1_000_000_000_000), 1_000_000 * e18)
        m.add(usdc, dai, UInt256(1_000_000_000_000), 1_000_000 * e18)
        var d = CycleDetector(configuration: configuration(assets: [.init(address: usdc, decimals: 6, usdPerToken: 1)]), pools: m.refs)
        d.refresh(m.book)
        m.sync(3, UInt256(1_000_000_000_000), 1_030_000 * e18, block: 2)
        let found = detect(&d, m, [3], block: 2)
        try #require(found.count == 1)
        let o = found[0]
        #expect(o.path.first?.tokenIn == usdc && o.kind == .crossDex)
        let gasWei = UInt256(10_000_000_000) * UInt256(o.gasUnits)
        let gasUSDC = UInt256.mulDivRoundingUp(gasWei, UInt256(3_000_000_000_000), 1_000 * e18)!
        #expect(o.netProfit == o.grossProfit &- Int256(bitPattern: gasUSDC))
    }

    @Test func triangularAndMultiLegCyclesAreFoundThroughTheUpdatedPool() throws {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        m.add(usdc, dai, UInt256(3_000_000_000_000), 3_000_000 * e18)
        m.add(dai, weth, 3_000_000 * e18, 1_000 * e18)
        m.add(dai, link, 1_500_000 * e18, 100_000 * e18)
        m.add(link, weth, 100_000 * e18, 500 * e18)
        var d = CycleDetector(configuration: configuration(), pools: m.refs)
        d.refresh(m.book)
        #expect(detect(&d, m, [0, 1, 2, 3, 4], block: 1).isEmpty)
        // DAI becomes cheap against USDC: USDC→DAI pays more.
        m.sync(1, UInt256(3_000_000_000_000), 3_150_000 * e18, block: 2)
        let found = detect(&d, m, [1], block: 2)
        let kinds = Set(found.map(\.kind))
        #expect(kinds == [.triangular, .multiLeg])
        for o in found {
            #expect(o.path.contains { $0.pool == m.refs[1]!.address })
            #expect(o.path.first?.tokenIn == weth && o.path.last?.tokenOut == weth)
            let p = path(of: o, m)
            let best = try #require(exactProfit(p, o.amountIn))
            #expect(best == o.grossProfit)
            for x in [o.amountIn + 1, o.amountIn - 1, o.amountIn * 2, o.amountIn / 2] {
                if let q = exactProfit(p, x) { #expect(q <= best) }
            }
        }
        // A pool in none of those cycles changing alone finds nothing.
        let before = d.counters.cyclesEvaluated
        #expect(detect(&d, m, [], block: 2).isEmpty && d.counters.cyclesEvaluated == before)
    }

    @Test func minimumImplausibleAndStaleAreRefusedAndCounted() throws {
        var m = Market()
        m.add(weth, usdc, 10_000 * e18, UInt256(30_000_000_000_000))
        m.add(weth, usdc, 10_000 * e18, UInt256(30_000_000_000_000))
        // A 1.5% gap: profitable, but its net margin is under Ethereum's 0.5%.
        var d = CycleDetector(configuration: configuration(minBps: 50), pools: m.refs)
        d.refresh(m.book)
        m.sync(1, 10_000 * e18, UInt256(30_450_000_000_000), block: 2)
        #expect(detect(&d, m, [1], block: 2).isEmpty)
        // Refused before sizing (the all-V2 screen knows the margin at the optimum) or after.
        #expect(d.counters.belowMinimum + d.counters.screenedOut == 2 && d.counters.published == 0)
        // The same gap passes a 0.2% minimum.
        var loose = CycleDetector(configuration: configuration(minBps: 20), pools: m.refs)
        loose.refresh(m.book)
        #expect(detect(&loose, m, [1], block: 2).count == 1)
        // A 60% gap is broken state, not profit.
        m.sync(1, 10_000 * e18, UInt256(48_000_000_000_000), block: 3)
        #expect(detect(&loose, m, [1], block: 3).isEmpty)
        #expect(loose.counters.implausible == 1)
        // A reorg below the pool's read marks it stale: nothing through it is evaluated.
        _ = m.book.rollBack(toBefore: 1)
        #expect(m.book.stale.contains(1))
        #expect(detect(&loose, m, [1], block: 3).isEmpty)
        #expect(loose.counters.screenedOut >= 1)
    }

    @Test func publishesOncePerMoveWithinTheWindow() throws {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        var d = CycleDetector(configuration: configuration(), pools: m.refs)
        d.refresh(m.book)
        m.sync(1, 1_000 * e18, UInt256(3_090_000_000_000), block: 2)
        let first = detect(&d, m, [1], block: 2, now: 1_000)
        #expect(first.count == 1)
        // The same block evaluated again (a second log of the block, another pool): not again.
        #expect(detect(&d, m, [0, 1], block: 2, now: 2_000).isEmpty)
        // Next block, same state, within 5 s: not again.
        #expect(detect(&d, m, [1], block: 3, now: 1_000_000_000).isEmpty)
        #expect(d.counters.duplicates == 2)
        // The gap widens: profit moves by far more than 10%, so it is published again.
        m.sync(1, 1_000 * e18, UInt256(3_150_000_000_000), block: 4)
        let wider = detect(&d, m, [1], block: 4, now: 2_000_000_000)
        #expect(wider.count == 1 && wider[0].id != first[0].id && wider[0].netProfit > first[0].netProfit)
        // After the window the standing trade is published again.
        #expect(detect(&d, m, [1], block: 9, now: 8_000_000_000).count == 1)
    }

    /// A pool shallower than the liquidity floor is not traded through, however wide its gap.
    @Test func shallowPoolsAreRefused() throws {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        m.add(weth, usdc, 1 * e18, UInt256(3_000_000_000))  // $6,000 deep
        var free = configuration()
        free.gasPrice = 0  // so that only depth decides
        var d = CycleDetector(configuration: free, pools: m.refs)
        d.refresh(m.book)
        m.sync(1, 1 * e18, UInt256(3_150_000_000), block: 2)
        #expect(detect(&d, m, [1], block: 2).isEmpty)
        #expect(d.counters.illiquid >= 1 && d.counters.published == 0)
        var c = free
        c.minPoolLiquidityUSD = 1_000
        var loose = CycleDetector(configuration: c, pools: m.refs)
        loose.refresh(m.book)
        #expect(detect(&loose, m, [1], block: 2).count == 1)
    }

    /// When more cycles pass the screen than `maxSizedPerUpdate`, the widest gaps are sized and
    /// the rest counted as deferred.
    @Test func sizesTheWidestGapsFirstAndCountsTheRest() throws {
        var m = Market()
        // Twelve WETH/USDC venues at 3000, 3003, …, 3033 USDC per WETH.
        for k in 0..<12 { m.add(weth, usdc, 1_000 * e18, UInt256(UInt64(3_000 + 3 * k) * 1_000_000_000)) }
        var c = configuration(assets: [.init(address: weth, decimals: 18, usdPerToken: 3000)])
        c.gasPrice = 0
        var d = CycleDetector(configuration: c, pools: m.refs)
        d.refresh(m.book)
        // Venue 0 falls to 2900: buying WETH there and selling on any other venue pays.
        m.sync(0, 1_000 * e18, UInt256(2_900_000_000_000), block: 2)
        let found = detect(&d, m, [0], block: 2)
        #expect(found.count == 8 && d.counters.deferred == 3)
        // The eight sold into are the eight dearest venues (3 … 11).
        let soldInto = Set(found.map { $0.path[0].pool })
        #expect(soldInto == Set((4..<12).map { m.refs[$0]!.address }))
    }

    /// The screen and the cycle index lose nothing: on random markets the detector publishes
    /// exactly what sizing every cycle of the graph without a screen would publish.
    @Test func screenLosesNothingOnRandomMarkets() throws {
        var rng = SeededGenerator(seed: 0x5C2EE)
        let tokens = [weth, usdc, dai, link, token(5)]
        var total = 0
        for round in 0..<40 {
            var m = Market()
            for _ in 0..<Int.random(in: 4...9, using: &rng) {
                let a = tokens.randomElement(using: &rng)!
                var b = tokens.randomElement(using: &rng)!
                while b == a { b = tokens.randomElement(using: &rng)! }
                let ra = UInt256(UInt64.random(in: 1_000...1_000_000, using: &rng)) * e18
                // Prices within ±4% of 1: some cycles pay, most do not.
                let rb = UInt256.mulDiv(ra, UInt256(UInt64.random(in: 960...1040, using: &rng)), 1000)!
                m.add(a, b, ra, rb, fee: [500, 3000].randomElement(using: &rng)!)
            }
            var c = configuration(minBps: 0, assets: [.init(address: weth, decimals: 18), .init(address: dai, decimals: 18)])
            c.index.maxCyclesPerPool = .max
            c.index.maxBranching = .max
            c.maxSizedPerUpdate = .max
            c.gasPrice = 0
            var d = CycleDetector(configuration: c, pools: m.refs)
            d.refresh(m.book)
            let found = detect(&d, m, Array(m.refs.indices), block: 1)
            let expected = d.index.cycles.filter { cycle in
                let p = Path((0..<cycle.hops).map { Path.Hop(pool: m.book.pools[Int(cycle.pools[$0])], zeroForOne: cycle.zeroForOne[$0]) })
                guard let s = Optimizer.optimize(p) else { return false }
                return s.grossProfit * 10_000 <= s.amountIn * 2_000
            }
            #expect(Set(found.map { $0.path.map(\.pool) }) == Set(expected.map { $0.pools.map { m.refs[Int($0)]!.address } }), "round \(round)")
            total += found.count
        }
        #expect(total >= 20)
    }
}
