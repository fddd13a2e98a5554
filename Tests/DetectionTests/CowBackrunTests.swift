import AMMMath
import ArbiterTestKit
import CowProtocol
import Detection
import EVMCodec
import EVMPrimitives
import MarketState
import Opportunities
import Testing

/// A settlement's effect read from its call data, and the backruns it opens, on a book of two
/// WETH/USDC pairs (3,000 USDC a WETH, 1,000 WETH deep each).
struct CowBackrunTests {
    static let settlement = token(900)
    static let settle = try! FunctionSignature(
        "settle(address[],uint256[],(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)[],(address,uint256,bytes)[][3])")

    static func market() -> Market {
        var m = Market()
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        m.add(weth, usdc, 1_000 * e18, UInt256(3_000_000_000_000))
        return m
    }

    /// A settle call selling `amountIn` WETH on pool 0 of `m` for `out` USDC, as a solver without a coincidence of wants writes it.
    static func call(_ m: Market, amountIn: UInt256, out: UInt256, extra: [ABIValue] = []) throws -> SettleCall {
        let pair = m.refs[0]!.address
        let wethIsToken0 = weth < usdc
        let swap: [ABIValue] = [.uint(wethIsToken0 ? .zero : out), .uint(wethIsToken0 ? out : .zero), .address(settlement), .bytes([])]
        let transfer = try FunctionSignature("transfer(address,uint256)").calldata([.address(pair), .uint(amountIn)])
        let intra: [ABIValue] = [.tuple([.address(weth), .uint(.zero), .bytes(transfer)]),
                                 .tuple([.address(pair), .uint(.zero), .bytes(try FunctionSignature("swap(uint256,uint256,address,bytes)").calldata(swap))])] + extra
        let trade: ABIValue = .tuple([.uint(0), .uint(1), .address(.zero), .uint(amountIn), .uint(1), .uint(UInt256(UInt64(UInt32.max))),
                                      .fixedBytes([UInt8](repeating: 0, count: 32)), .uint(.zero), .uint(.zero), .uint(.zero),
                                      .bytes([UInt8](repeating: 1, count: 64) + [27])])
        let data = try settle.calldata([.array([.address(weth), .address(usdc)]), .array([.uint(out), .uint(amountIn)]), .array([trade]),
                                        .array([.array([]), .array(intra), .array([])])])
        return try SettleCall(calldata: data)
    }

    static func pair(_ m: Market, _ i: Int) -> V2Pool {
        guard case .uniswapV2(let p) = m.book[m.book.id(of: m.refs[i]!.address)!] else { fatalError("not a V2 pair") }
        return p
    }

    static func tokens(_ m: Market) -> (Int) -> (Address, Address)? { { i in m.refs[i].map { ($0.token0, $0.token1) } } }

    @Test func aV2SwapAfterATransferIsReadExactlyFromTheCallData() throws {
        let m = Self.market()
        let before = Self.pair(m, 0)
        let amountIn = 50 * e18
        let out = try before.amountOut(amountIn: amountIn, zeroForOne: weth < usdc)
        guard case .logs(let logs) = SettlementEffect.predict(try Self.call(m, amountIn: amountIn, out: out), book: m.book, tokens: Self.tokens(m), block: 7) else {
            Issue.record("no logs")
            return
        }
        #expect(logs.count == 1 && logs[0].address == m.refs[0]!.address && logs[0].topics == [PoolTopics.v2Sync] && logs[0].blockNumber == 7)
        // The pair's reserves after it: what it held plus what it was sent, less what it paid.
        let (r0, r1) = weth < usdc ? (before.reserve0 + amountIn, before.reserve1 - out) : (before.reserve0 - out, before.reserve1 + amountIn)
        #expect(logs[0].data == r0.bigEndianBytes + r1.bigEndianBytes)
        var book = m.book
        #expect(book.apply(logs[0]) == .applied(book.id(of: m.refs[0]!.address)!))
    }

    @Test func whatThePairWouldRefuseRevertsAndWhatTheCallDataDoesNotSayIsUnknown() throws {
        let m = Self.market()
        let amountIn = 50 * e18
        let out = try Self.pair(m, 0).amountOut(amountIn: amountIn, zeroForOne: weth < usdc)
        // One unit more than the constant product allows: the pair's K check fails, the whole settlement reverts.
        guard case .reverts(let why) = SettlementEffect.predict(try Self.call(m, amountIn: amountIn, out: out + 1), book: m.book, tokens: Self.tokens(m), block: 7)
        else {
            Issue.record("not a revert")
            return
        }
        #expect(why.hasSuffix("K"))
        // A router's swap: only a simulation says which pools it moves.
        let router = try FunctionSignature("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")
            .calldata([.uint(1), .uint(0), .array([.address(weth), .address(usdc)]), .address(Self.settlement), .uint(1)])
        let routed = try Self.call(m, amountIn: amountIn, out: out, extra: [.tuple([.address(token(77)), .uint(.zero), .bytes(router)])])
        guard case .unknown = SettlementEffect.predict(routed, book: m.book, tokens: Self.tokens(m), block: 7) else {
            Issue.record("a router call read as known")
            return
        }
    }

    @Test func aLargeSettlementOpensABackrunSizedOnThePostSettlementState() throws {
        let m = Self.market()
        let amountIn = 50 * e18
        let out = try Self.pair(m, 0).amountOut(amountIn: amountIn, zeroForOne: weth < usdc)
        let call = try Self.call(m, amountIn: amountIn, out: out)
        var detector = CowBackrunDetector(configuration: .init(cycles: configuration()))
        let usd: (Address) -> Double? = { $0 == usdc ? 1e-6 : ($0 == weth ? 3000e-18 : nil) }
        // 50 WETH at 3,000 dollars: 150,000 dollars, past the 50,000 threshold.
        let admitted = detector.admit(call, usdPerRaw: usd)
        let volume = try #require(admitted)
        #expect(abs(volume - 150_000) < 1)
        guard case .logs(let effects) = SettlementEffect.predict(call, book: m.book, tokens: Self.tokens(m), block: 8) else {
            Issue.record("no effect")
            return
        }
        let raw: [UInt8] = [0x02, 0x01, 0x02, 0x03]
        let target = PendingSettlement(raw: raw, hash: Keccak256.hash(raw), sender: token(901), call: call, callData: [])
        let found = detector.backruns(of: target, effects: effects, volumeUSD: volume, book: m.book, pools: m.refs, gasPrice: 10_000_000_000, block: 7,
                                      timestamps: .init(), now: 1_000)
        let o = try #require(found.first)
        #expect(o.kind == .backrun && o.blockNumber == 7 && o.backrun?.targetHash == Keccak256.hash(raw) && o.backrun?.isValid == true)
        #expect(o.backrun?.effects.count == 1 && o.backrun?.volumeMicroUSD == UInt64(volume * 1e6))
        // It buys back the WETH the settlement sold into pool 0 (cheap there now) and sells it on pool 1.
        #expect(o.path.count == 2 && Set(o.path.map(\.pool)) == [m.refs[0]!.address, m.refs[1]!.address] && o.grossProfit > .zero)
        #expect(o.path.first { $0.pool == m.refs[0]!.address }?.tokenOut == weth)
        // Sized on the post-settlement state: the hops quote exactly there.
        var after = m.book
        for (i, e) in effects.enumerated() {
            var l = e
            l.blockNumber = 8
            l.logIndex = UInt32(i)
            _ = after.apply(l)
        }
        var amount = o.amountIn
        for h in o.path {
            guard case .uniswapV2(let p) = after[after.id(of: h.pool)!] else { continue }
            amount = try p.amountOut(amountIn: amount, zeroForOne: h.tokenIn < h.tokenOut)
            #expect(amount == h.amountOut)
        }
        // On the state before the settlement, there is nothing: the pools agree.
        var plain = CycleDetector(configuration: configuration(), pools: m.refs)
        plain.refresh(m.book)
        var none: [Opportunity] = []
        plain.process(changed: [0, 1], book: m.book, block: 7, timestamps: .init(), now: 1_000, into: &none)
        #expect(none.isEmpty)
        // A small settlement is not looked at.
        let small = try Self.call(m, amountIn: 10 * e18, out: try Self.pair(m, 0).amountOut(amountIn: 10 * e18, zeroForOne: weth < usdc))
        let smallVolume = detector.admit(small, usdPerRaw: usd)
        #expect(smallVolume == nil && detector.counters.belowThreshold == 1)
    }

    @Test func landedSettlementsAreGroupedFromTheirLogs() throws {
        let owner = token(5), solver = token(6), pool = token(7)
        let uid = [UInt8](repeating: 0xab, count: 32) + owner.bytes + [0, 0, 1, 0]
        let tradeData = try ABI.encode([.address(weth), .address(usdc), .uint(10), .uint(20), .uint(0), .bytes(uid)],
                                       as: [.address, .address, .uint(256), .uint(256), .uint(256), .bytes])
        func word(_ a: Address) -> UInt256 { a.word }
        let tx: UInt256 = 0xfeed
        let trade = EVMLog(address: Self.settlement, topics: [SettlementEvent.tradeTopic, word(owner)], data: tradeData, blockNumber: 9, logIndex: 0)
        let interaction = EVMLog(address: Self.settlement, topics: [SettlementEvent.interactionTopic, word(pool)],
                                 data: UInt256.zero.bigEndianBytes + [0x02, 0x2c, 0x0d, 0x9f] + [UInt8](repeating: 0, count: 28), blockNumber: 9, logIndex: 1)
        let settled = EVMLog(address: Self.settlement, topics: [SettlementEvent.settlementTopic, word(solver)], data: [], blockNumber: 9, logIndex: 2)
        var g = SettlementLogGrouper()
        let first = g.add(trade, txHash: tx), second = g.add(interaction, txHash: tx)
        #expect(first == nil && second == nil)
        var broken = trade
        broken.data.removeLast()
        let third = g.add(broken, txHash: tx)
        #expect(third == nil && g.counters.malformed == 1)
        let done = g.add(settled, txHash: tx)
        let s = try #require(done)
        #expect(s.solver == solver && s.block == 9 && s.trades.count == 1 && s.interactions.map(\.target) == [pool])
        #expect(s.trades[0].orderUid == OrderUid(digest: [UInt8](repeating: 0xab, count: 32), owner: owner, validTo: 256))
        #expect(s.trades[0].sellAmount == 10 && s.trades[0].buyAmount == 20)
        // A transaction whose Settlement never came is left behind when the next one starts.
        let again = g.add(trade, txHash: tx), other = g.add(settled, txHash: tx + 1)
        #expect(again == nil && other != nil && g.counters.incomplete == 1)
    }
}
