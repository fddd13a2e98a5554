import AMMMath
import ArbiterTestKit
import Detection
import EVMPrimitives
import Execution
import MarketState
import Opportunities
import Pipeline
import Testing

/// The backtest's execution on recorded state (no devnet): the lender chosen as live chooses it,
/// locks held until the landing block, the inclusion rule reproducible, the latency budget, the
/// L1 fee; and the detection moment's bytes (with its CEX references) round-tripped.
@Suite struct BacktesterTests {
    static let a = try! Address(hex: "0x00000000000000000000000000000000000000a1")
    static let b = try! Address(hex: "0x00000000000000000000000000000000000000b2")
    static let cheap = try! Address(hex: "0x00000000000000000000000000000000000000c3")
    static let dear = try! Address(hex: "0x00000000000000000000000000000000000000d4")
    static let e18 = UInt256(1_000_000_000_000_000_000)
    /// An input on which Aave's 5 bps (half up) is one wei below a V3 pool's 500 pips (rounded up).
    static let amountIn = UInt256("19276616943648166055")!
    static let aaveFee = (amountIn &* UInt256(5) &+ UInt256(5_000)) / UInt256(10_000)
    static let v3Fee = UInt256.mulDivRoundingUp(amountIn, UInt256(500), UInt256(1_000_000))!

    /// Chain 1 at `block`: b is dearer on `dear` than on `cheap` (a 2-hop gap for a).
    static func state(block: UInt64, dearReserve1: UInt64 = 2_100_000) throws -> ChainState {
        var book = PoolBook()
        let m = UInt256(1_000_000_000_000_000)
        _ = book.register(cheap, pool: .uniswapV2(try V2Pool(reserve0: UInt256(1_000_000) &* m, reserve1: UInt256(2_000_000) &* m)), at: LogPosition(block: 1, index: 0))
        _ = book.register(dear, pool: .uniswapV2(try V2Pool(reserve0: UInt256(1_000_000) &* m, reserve1: UInt256(dearReserve1) &* m)), at: LogPosition(block: 1, index: 0))
        return ChainState(chainID: 1, block: block, baseFee: UInt256(1_000_000_000), book: book, token0: [a, a])
    }

    /// a → b on `dear` (b bought where a buys more of it), b → a on `cheap`, quoted on `state`.
    static func opportunity(_ id: UInt16, on state: ChainState, received: UInt64 = 0) -> Opportunity {
        var path = [Opportunity.Hop(chainID: 1, pool: dear, tokenIn: a, tokenOut: b, venue: 0, amountOut: .zero),
                    Opportunity.Hop(chainID: 1, pool: cheap, tokenIn: b, tokenOut: a, venue: 0, amountOut: .zero)]
        if case .success(let q) = Requote.quote(path, amountIn: amountIn, on: state) {
            path[0].amountOut = q.amounts[0]
            path[1].amountOut = q.amounts[1]
        }
        // Detection sized it with a V3 pool's loan: its net is the gross less that fee and the gas
        // (0.0004 ETH, worth 0.0004e18 of the asset here).
        let gross = Int256(bitPattern: path[1].amountOut) &- Int256(bitPattern: amountIn)
        let net = gross &- Int256(bitPattern: v3Fee) &- Int256(400_000_000_000_000)
        return Opportunity(id: [UInt8(id >> 8), UInt8(id & 0xff)] + Array(repeating: 7, count: 14), kind: .crossDex, chains: [1], path: path,
                           amountIn: amountIn, grossProfit: gross, netProfit: net, grossProfitMicroUSD: 2_000_000_000,
                           netProfitMicroUSD: 1_999_000_000, gasUnits: 200_000, gasCostWei: UInt256(400_000_000_000_000), flashSource: .uniswapV3Flash,
                           blockNumber: state.block, timestamps: .init(eventReceived: received, stateApplied: received, detected: received, published: received),
                           expiresAt: .max, confidence: 1)
    }

    static func backtester(_ change: (inout Backtester.Configuration) -> Void = { _ in }, l1: Bool = false) -> Backtester {
        var c = Backtester.Configuration()
        c.core.risk.defaultMinNetProfitMicroUSD = 0
        c.core.risk.maxInFlight = 1_000
        c.lenders = [1: [a: [.init(source: .uniswapV3Flash, fee: .pips(500)), .init(source: .aaveV3, fee: .aave(bps: 5))]]]
        change(&c)
        return Backtester(configuration: c, chains: [1: .init(bundles: false, senders: 4, l1Fee: l1)])
    }

    @Test func aTradeKeepsTheOutputLessTheInputAndTheCheapestLendersFee() throws {
        let s = try Self.state(block: 10)
        let o = Self.opportunity(1, on: s)
        var bt = Self.backtester()
        bt.offer(o, state: s, now: 1)
        #expect(bt.trades.isEmpty && bt.inFlight == 1)  // lands with the next block
        bt.advance(try Self.state(block: 11), now: 2)
        let t = try #require(bt.trades.first)
        #expect(Self.v3Fee == Self.aaveFee &+ UInt256.one)
        #expect(t.flashSource == .aaveV3 && t.landed == 11 && t.sized == 10)
        #expect(t.profit == o.grossProfit &- Int256(bitPattern: Self.aaveFee))
        #expect(bt.valuations[o.id] == t.profit)
        // Gas at the recorded base fee + 1 gwei (0.0004 ETH for 200,000), in the asset at
        // detection's own conversion: its gas in the asset (its gross less the chosen lender's fee
        // less its net: 0.0004e18 + 1, the lenders' wei apart) over its gas in wei, rounded up.
        let cost = UInt256.mulDivRoundingUp(UInt256(400_000_000_000_000), UInt256(400_000_000_000_001), UInt256(400_000_000_000_000))!
        #expect(t.gasPrice == UInt256(2_000_000_000) && t.costInAsset == cost && t.l1FeeWei.isZero)
        #expect(t.net == t.profit &- Int256(bitPattern: cost))
    }

    @Test func aTradeHoldsItsPoolsUntilTheBlockItLandsIn() throws {
        let s = try Self.state(block: 10)
        var bt = Self.backtester()
        bt.offer(Self.opportunity(1, on: s), state: s, now: 1)
        bt.offer(Self.opportunity(2, on: s), state: s, now: 1)
        bt.advance(try Self.state(block: 10), now: 2)  // the same block again: nothing lands
        bt.offer(Self.opportunity(3, on: s), state: s, now: 2)
        #expect(bt.refusals == ["lock:poolBusy": 2] && bt.trades.isEmpty)
        let next = try Self.state(block: 11)
        bt.advance(next, now: 3)
        bt.offer(Self.opportunity(4, on: next), state: next, now: 3)
        bt.offer(Self.opportunity(1, on: next), state: next, now: 3)  // seen before
        #expect(bt.trades.count == 1 && bt.inFlight == 1 && bt.refusals["dedup:duplicate"] == 1)
        // A state moved since detection: the re-quote no longer matches, as live refuses it.
        let moved = try Self.state(block: 12, dearReserve1: 2_099_000)
        bt.advance(moved, now: 4)
        bt.offer(Self.opportunity(5, on: try Self.state(block: 12)), state: moved, now: 4)
        #expect(bt.refusals["requote:moved"] == 1 && bt.trades.count == 2)
    }

    @Test func theInclusionRuleIsReproducibleAndTheLatencyBudgetRefusesLateDecisions() throws {
        func included(seed: UInt64) throws -> [UInt16] {
            var bt = Self.backtester { $0.inclusion = .probability(0.5); $0.seed = seed; $0.core.risk.lossStreakLimit = 1_000; $0.core.risk.breakerFailures = 1_000 }
            for i in 0..<200 as Range<UInt16> {
                let s = try Self.state(block: 10 + UInt64(i))
                bt.advance(s, now: UInt64(i))
                bt.offer(Self.opportunity(i, on: s), state: s, now: UInt64(i))
            }
            bt.finish(now: 1_000)
            #expect(bt.trades.count + (bt.refusals["inclusion:notIncluded"] ?? 0) == 200, "\(bt.refusals)")
            return bt.trades.map { UInt16($0.id[0]) << 8 | UInt16($0.id[1]) }.sorted()
        }
        let first = try included(seed: 1)
        #expect((70...130).contains(first.count), "\(first.count) of 200 at p = 0.5")
        #expect(try included(seed: 1) == first)
        #expect(try included(seed: 2) != first)
        // Trades that do not land are failures to the risk gate, as live: a run of them opens the chain's breaker.
        var unlucky = Self.backtester { $0.inclusion = .probability(0.1) }
        for i in 0..<100 as Range<UInt16> {
            let s = try Self.state(block: 10 + UInt64(i))
            unlucky.advance(s, now: UInt64(i))
            unlucky.offer(Self.opportunity(i, on: s), state: s, now: UInt64(i))
        }
        #expect(unlucky.refusals["inclusion:notIncluded", default: 0] >= 5 && unlucky.refusals["risk:circuitOpen", default: 0] > 0, "\(unlucky.refusals)")

        let s = try Self.state(block: 10)
        var bt = Self.backtester { $0.latencyBudget = 250_000_000 }
        let head: UInt64 = 1_000_000_000
        bt.offer(Self.opportunity(1, on: s, received: head), state: s, now: head + 300_000_000)
        bt.offer(Self.opportunity(2, on: s, received: head), state: s, now: head + 200_000_000)
        #expect(bt.refusals == ["inclusion:outrun": 1] && bt.inFlight == 1)
    }

    @Test func theL1FeeIsChargedWhereTheChainHasOneAndRefusedWhenItEatsTheProfit() throws {
        let s = try Self.state(block: 10)
        let model = L1DataFee.opEcotone(l1BaseFee: UInt256(20_000_000_000), l1BlobBaseFee: .one, baseFeeScalar: 1_368, blobBaseFeeScalar: 810_949)
        var bt = Self.backtester({ $0.l1Fees = [1: model] }, l1: true)
        bt.offer(Self.opportunity(1, on: s), state: s, now: 1)
        bt.finish(now: 2)
        let t = try #require(bt.trades.first)
        #expect(t.l1FeeWei > .zero && t.l1FeeWei < UInt256(400_000_000_000_000))
        let wei = UInt256(400_000_000_000_000) &+ t.l1FeeWei
        #expect(t.costInAsset == UInt256.mulDivRoundingUp(wei, UInt256(400_000_000_000_001), UInt256(400_000_000_000_000))!)
        let ruinous = L1DataFee.opEcotone(l1BaseFee: Self.e18, l1BlobBaseFee: .one, baseFeeScalar: 1_368, blobBaseFeeScalar: 810_949)
        var refused = Self.backtester({ $0.l1Fees = [1: ruinous] }, l1: true)
        refused.offer(Self.opportunity(1, on: s), state: s, now: 1)
        #expect(refused.refusals == ["gas:l1FeeExceedsProfit": 1] && refused.inFlight == 0)
    }

    @Test func aDetectionMomentRoundTripsWithItsReferencesAndEveryCutIsAnError() throws {
        var rng = SeededGenerator(seed: 25)
        for _ in 0..<100 {
            let refs = (0..<Int(rng.next() % 4)).map { i in
                CexReference(symbol: ["ETHUSDT", "BTCUSDC", "Ä€"][i % 3], base: Self.a, quote: Self.b,
                             numerator: UInt256(limbs: rng.next(), rng.next(), rng.next(), rng.next()), denominator: UInt256(rng.next() | 1),
                             bid: Double(bitPattern: rng.next() >> 2), ask: Double(rng.next() % 10_000) / 7, ageMillis: rng.next(),
                             bidDepth: .pi, askDepth: -0.0, baseDecimals: Int(rng.next() % 256))
            }
            let m = DetectionService.Moment(sequence: rng.next(), now: rng.next(), references: refs)
            let bytes = m.encoded()
            #expect(try DetectionService.Moment(decoding: bytes) == m)
            for cut in [0, 7, 19, bytes.count - 1] where cut < bytes.count && (cut != 20 || refs.isEmpty) {
                #expect(throws: DetectionService.Moment.Malformed.self) { _ = try DetectionService.Moment(decoding: Array(bytes.prefix(cut))) }
            }
            #expect(throws: DetectionService.Moment.Malformed.self) { _ = try DetectionService.Moment(decoding: bytes + [0]) }
        }
        // A recording from before references were kept: the count alone.
        var legacy = DetectionService.Moment(sequence: 9, now: 10, references: []).encoded()
        legacy[16] = 5
        let old = try DetectionService.Moment(decoding: legacy)
        #expect(old.unrecordedReferences == 5 && old.references.isEmpty && old.sequence == 9 && old.now == 10)
    }

    /// A CoW evaluation's bytes: seeded round trips (with and without simulated logs), every cut
    /// and a trailing byte refused as malformed, never a crash.
    @Test func aCowEvaluationRoundTripsWithItsSimulatedLogsAndEveryCutIsAnError() throws {
        var rng = SeededGenerator(seed: 28)
        for i in 0..<100 {
            let logs = i % 2 == 0 ? nil : (0..<Int(rng.next() % 4)).map { k in
                EVMLog(address: k % 2 == 0 ? Self.a : Self.b, topics: (0..<Int(rng.next() % 5)).map { _ in UInt256(limbs: rng.next(), rng.next(), rng.next(), rng.next()) },
                       data: rng.bytes(Int(rng.next() % 200)), blockNumber: rng.next(), blockHash: UInt256(rng.next()), transactionIndex: UInt32(truncatingIfNeeded: rng.next()),
                       logIndex: UInt32(k), removed: false)
            }
            let m = CowBackrunStep.Moment(sequence: rng.next(), now: rng.next(), volumeUSD: Double(rng.next() % 10_000_000) / 3, seenAt: rng.next(),
                                          raw: rng.bytes(Int(rng.next() % 600)), simulated: logs)
            let bytes = try m.encoded()
            #expect(try CowBackrunStep.Moment(decoding: bytes) == m)
            for cut in Set([0, 1, 9, 36, bytes.count / 2, bytes.count - 1]) where cut < bytes.count {
                #expect(throws: DetectionService.Moment.Malformed.self) { _ = try CowBackrunStep.Moment(decoding: Array(bytes.prefix(cut))) }
            }
            #expect(throws: DetectionService.Moment.Malformed.self) { _ = try CowBackrunStep.Moment(decoding: bytes + [0]) }
        }
        var unknown = try CowBackrunStep.Moment(sequence: 1, now: 2, volumeUSD: 3, seenAt: 1, raw: [], simulated: nil).encoded()
        unknown[0] = 2
        #expect(throws: DetectionService.Moment.Malformed.self) { _ = try CowBackrunStep.Moment(decoding: unknown) }
    }
}
