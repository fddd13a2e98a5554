import AMMMath
import EVMPrimitives
import Execution
import MarketState
import Opportunities
import Testing

/// The execution core's decisions, table-driven, with no devnet and no network: every refusal
/// reason it owns, in its order, and the locks and risk slot each refusal gives back.
@Suite struct ExecutionCoreTests {
    static let a = try! Address(hex: "0x00000000000000000000000000000000000000a1")
    static let b = try! Address(hex: "0x00000000000000000000000000000000000000b2")
    static let p1 = try! Address(hex: "0x00000000000000000000000000000000000000c3")
    static let p2 = try! Address(hex: "0x00000000000000000000000000000000000000d4")
    static let p3 = try! Address(hex: "0x00000000000000000000000000000000000000e5")

    /// Chain 1 at `block`: three V2 pools a/b, the second and third dearer for a (a 2-hop gap).
    static func state(block: UInt64 = 10, without: Address? = nil) throws -> ChainState {
        var book = PoolBook()
        let reserves: [(Address, UInt64, UInt64)] = [(p1, 1_000_000, 2_000_000), (p2, 1_000_000, 2_100_000), (p3, 1_000_000, 2_100_000)]
        for (pool, r0, r1) in reserves where pool != without {
            _ = book.register(pool, pool: .uniswapV2(try V2Pool(reserve0: UInt256(r0), reserve1: UInt256(r1))), at: LogPosition(block: 1, index: 0))
        }
        return ChainState(chainID: 1, block: block, baseFee: UInt256(1_000_000_000), book: book, token0: Array(repeating: a, count: 3))
    }

    /// b bought with a on `buy`, sold for a on `sell`, each hop's amount as the state quotes it
    /// (`drift` added to the last: a moved state).
    static func opportunity(id: UInt8, kind: Opportunity.Kind = .crossDex, chain: UInt64 = 1, buy: Address = p2, sell: Address = p1,
                            drift: UInt64 = 0, cyclic: Bool = true) throws -> Opportunity {
        var path = [Opportunity.Hop(chainID: chain, pool: buy, tokenIn: a, tokenOut: b, venue: 0, amountOut: .zero),
                    Opportunity.Hop(chainID: chain, pool: sell, tokenIn: b, tokenOut: cyclic ? a : b, venue: 0, amountOut: .zero)]
        if case .success(let q) = Requote.quote(path, amountIn: UInt256(1_000), on: try state()) {
            path[0].amountOut = q.amounts[0]
            path[1].amountOut = q.amounts[1] &+ UInt256(drift)
        }
        return Opportunity(id: [id] + Array(repeating: 0, count: 15), kind: kind, chains: kind == .crossChain ? [chain, 10] : [chain], path: path,
                           amountIn: UInt256(1_000), grossProfit: Int256(20), netProfit: Int256(10), grossProfitMicroUSD: 20_000_000,
                           netProfitMicroUSD: 10_000_000, gasUnits: 200_000, gasCostWei: UInt256(200_000_000_000_000), flashSource: .balancerV2,
                           blockNumber: 10, timestamps: .init(), expiresAt: UInt64.max, confidence: 1)
    }

    static let fees = GasOracle.Quote(baseFee: UInt256(1_000_000_000), maxPriorityFeePerGas: UInt256(1_000_000_000), maxFeePerGas: UInt256(3_000_000_000))

    static func core(bundles: Bool = false, senders: Int = 1, risk: (inout RiskGate.Configuration) -> Void = { _ in }) -> ExecutionCore {
        var configuration = ExecutionCore.Configuration()
        configuration.risk.defaultMinNetProfitMicroUSD = 0
        risk(&configuration.risk)
        return ExecutionCore(configuration: configuration, chains: [1: .init(bundles: bundles, senders: senders)])
    }

    /// One opportunity through receive → staleness → price; the first refusal ("stage:reason"), or "admitted".
    static func decide(_ core: inout ExecutionCore, _ o: Opportunity, state: ChainState? = nil, now: UInt64 = 1, waitedOut: Bool = true,
                       gas: Result<GasOracle.Quote, GasOracle.Failure> = .success(fees)) throws -> String {
        var lease: ExecutionCore.Lease
        switch core.receive(o) {
        case .failure(let r): return "\(r.stage):\(r.reason)"
        case .success(let l): lease = l
        }
        let s: ChainState
        switch core.staleness(lease, o, state: state, now: now, waitedOut: waitedOut) {
        case .refused(let r): return "\(r.stage):\(r.reason)"
        case .waitFor(let block): return "wait:\(block)"
        case .ready(let ready): s = ready
        }
        switch core.price(&lease, o, gas: gas, state: s, now: now) {
        case .failure(let r): return "\(r.stage):\(r.reason)"
        case .success: return "admitted"
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let expected: String
        let run: @Sendable () throws -> (String, ExecutionCore)
        var testDescription: String { expected }
    }

    static let cases: [Case] = [
        Case(expected: "risk:closing") {
            var c = core()
            c.close()
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "validate:unknownChain") { var c = core(); return (try decide(&c, opportunity(id: 1, chain: 7), state: state()), c) },
        Case(expected: "strategy:crossChainNotWired") { var c = core(); return (try decide(&c, opportunity(id: 1, kind: .crossChain), state: state()), c) },
        Case(expected: "strategy:solanaNotWired") { var c = core(); return (try decide(&c, opportunity(id: 1, kind: .solana), state: state()), c) },
        Case(expected: "strategy:noBackrunTarget") { var c = core(); return (try decide(&c, opportunity(id: 1, kind: .backrun), state: state()), c) },
        Case(expected: "validate:invalid") { var c = core(); return (try decide(&c, opportunity(id: 1, cyclic: false), state: state()), c) },
        Case(expected: "dedup:duplicate") {
            var c = core()
            _ = try decide(&c, opportunity(id: 1), state: state(), now: 1, gas: .failure(.malformed("x")))
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "lock:poolBusy") {
            var c = core()
            _ = try decide(&c, opportunity(id: 1), state: state())  // admitted: holds p1 and p2
            return (try decide(&c, opportunity(id: 2, buy: p3, sell: p1), state: state()), c)
        },
        Case(expected: "lock:senderBusy") {
            var c = core(bundles: true)
            _ = try decide(&c, opportunity(id: 1, buy: p2, sell: p1), state: state())  // the only key has a bundle out
            // Disjoint pools would need a second key.
            var other = try opportunity(id: 2, buy: p3, sell: p3)
            other.path[1].tokenOut = a
            return (try decide(&c, other, state: state()), c)
        },
        Case(expected: "stale:expired") {
            var c = core()
            var o = try opportunity(id: 1)
            o.expiresAt = 1
            return (try decide(&c, o, state: state(), now: 5), c)
        },
        Case(expected: "stale:noState") { var c = core(); return (try decide(&c, opportunity(id: 1), state: nil), c) },
        Case(expected: "wait:10") { var c = core(); return (try decide(&c, opportunity(id: 1), state: state(block: 8), waitedOut: false), c) },
        Case(expected: "stale:behind") { var c = core(); return (try decide(&c, opportunity(id: 1), state: state(block: 8), waitedOut: true), c) },
        Case(expected: "stale:blockLag") { var c = core(); return (try decide(&c, opportunity(id: 1), state: state(block: 13)), c) },
        Case(expected: "gas:gasSpike") {
            var c = core()
            return (try decide(&c, opportunity(id: 1), state: state(), gas: .failure(.spike(baseFee: UInt256(100), baseline: 1))), c)
        },
        Case(expected: "gas:gasUnavailable") {
            var c = core()
            return (try decide(&c, opportunity(id: 1), state: state(), gas: .failure(.malformed("no answer"))), c)
        },
        Case(expected: "risk:belowMinimum") {
            var c = core { $0.defaultMinNetProfitMicroUSD = 50_000_000 }
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "risk:gasPriceTooHigh") {
            var c = core { $0.maxGasPrice = [1: UInt256(1_000_000_000)] }
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "risk:tooManyInFlight") {
            var c = core { $0.maxInFlight = 0 }
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "risk:exposureLimit") {
            var c = core { $0.maxExposure = [a: UInt256(999)] }
            return (try decide(&c, opportunity(id: 1), state: state()), c)
        },
        Case(expected: "requote:unknownPool") { var c = core(); return (try decide(&c, opportunity(id: 1), state: state(without: p2)), c) },
        Case(expected: "requote:moved") { var c = core(); return (try decide(&c, opportunity(id: 1, drift: 1), state: state()), c) },
        Case(expected: "admitted") { var c = core(); return (try decide(&c, opportunity(id: 1), state: state()), c) },
        Case(expected: "strategy:backrunNeedsBundles") { var c = core(); return (try decide(&c, backrun(id: 1), state: state()), c) },
        Case(expected: "stale:targetBase") { var c = core(bundles: true); return (try decide(&c, backrun(id: 1), state: state(block: 11)), c) },
        Case(expected: "requote:moved") {
            // Quoted without its target's effect: the path's amounts are the post-target ones.
            var c = core(bundles: true)
            var o = try backrun(id: 1)
            o.backrun?.effects = []
            return (try decide(&c, o, state: state()), c)
        },
        Case(expected: "admitted") { var c = core(bundles: true); return (try decide(&c, backrun(id: 1), state: state()), c) },
    ]

    /// A backrun of a target that moves p2 to (1,000,000, 2,200,000) in the block after 10: its
    /// amounts are quoted on that state, not on block 10's.
    static func backrun(id: UInt8) throws -> Opportunity {
        var o = try opportunity(id: id, kind: .backrun)
        let sync = Opportunity.Backrun.Effect(pool: p2, topics: [PoolTopics.v2Sync], data: UInt256(1_000_000).bigEndianBytes + UInt256(2_200_000).bigEndianBytes)
        o.backrun = .init(targetRaw: [0x02, 0x01], sender: b, volumeMicroUSD: 0, effects: [sync])
        var after = try state()
        var log = EVMLog(address: p2, topics: sync.topics, data: sync.data, blockNumber: 11, logIndex: 0)
        log.removed = false
        _ = after.book.apply(log)
        if case .success(let q) = Requote.quote(o.path, amountIn: o.amountIn, on: after) {
            o.path[0].amountOut = q.amounts[0]
            o.path[1].amountOut = q.amounts[1]
        }
        return o
    }

    @Test(arguments: cases)
    func eachDecision(_ c: Case) throws {
        let (got, core) = try c.run()
        #expect(got == c.expected)
        // A refusal after the locks gave them back: the same pools, a new id, can go (unless the
        // core is closed or the table's state holds a trade on purpose).
        guard !["admitted", "wait:10", "risk:closing", "lock:poolBusy", "lock:senderBusy"].contains(c.expected) else { return }
        var after = core
        #expect(after.risk.tradesInFlight == 0)
        if c.expected.hasPrefix("validate") || c.expected.hasPrefix("strategy") { return }
        if case .failure(let r) = after.receive(try Self.opportunity(id: 9)) { Issue.record("\(c.expected) kept its locks: \(r)") }
    }

    @Test func aBundleKeyIsBusyUntilItsTradeEndsAndTransactionsGoToTheLeastBusyKey() throws {
        var bundles = Self.core(bundles: true, senders: 2)
        guard case .success(let first) = bundles.receive(try Self.opportunity(id: 1, buy: Self.p2, sell: Self.p1)) else { Issue.record("refused"); return }
        var disjoint = try Self.opportunity(id: 2, buy: Self.p3, sell: Self.p3)
        disjoint.path[1].tokenOut = Self.a
        guard case .success(let second) = bundles.receive(disjoint) else { Issue.record("refused"); return }
        #expect(first.sender == 0 && second.sender == 1)
        // Both keys have a bundle out: a third trade (on pools nobody holds) waits for a key.
        bundles.end(second, .failed, now: 1)
        var third = try Self.opportunity(id: 3, buy: Self.p3, sell: Self.p3)
        third.path[1].tokenOut = Self.a
        guard case .success(let again) = bundles.receive(third) else { Issue.record("refused"); return }
        #expect(again.sender == 1 && bundles.trades(chain: 1, sender: 0) == 1)

        var transactions = Self.core(bundles: false, senders: 2)
        guard case .success(let t1) = transactions.receive(try Self.opportunity(id: 1, buy: Self.p2, sell: Self.p1)),
              case .success(let t2) = transactions.receive(disjoint) else { Issue.record("refused"); return }
        #expect(t1.sender == 0 && t2.sender == 1)
    }

    /// The pools are claimed in the process's shared `PoolClaims`: a pool another executor of ours
    /// (a CEX–DEX leg, say) is sending through is busy here, on its own chain only, until given
    /// back; a trade here holds its pools there until it ends; a refusal for a busy key holds none.
    @Test func poolsAnotherExecutorHoldsAreBusyUntilItGivesThemBack() throws {
        let claims = PoolClaims()
        var c = ExecutionCore(configuration: Self.core().configuration, chains: [1: .init(bundles: true, senders: 1)], claims: claims)
        #expect(claims.claim([Self.p1], chain: 1) && claims.claim([Self.p1], chain: 2))
        #expect(try Self.decide(&c, Self.opportunity(id: 1, buy: Self.p2, sell: Self.p1), state: Self.state()) == "lock:poolBusy")
        #expect(!claims.isHeld(Self.p2, chain: 1))  // all or nothing: the free pool was not taken
        claims.release([Self.p1], chain: 1)
        guard case .success(let lease) = c.receive(try Self.opportunity(id: 2, buy: Self.p2, sell: Self.p1)) else { Issue.record("refused"); return }
        #expect(claims.isHeld(Self.p1, chain: 1) && claims.isHeld(Self.p2, chain: 1))
        #expect(!claims.claim([Self.p3, Self.p2], chain: 1) && !claims.isHeld(Self.p3, chain: 1))
        // The only key has a bundle out: refused for the key, and the pools it would use are not kept.
        var other = try Self.opportunity(id: 3, buy: Self.p3, sell: Self.p3)
        other.path[1].tokenOut = Self.a
        #expect(try Self.decide(&c, other, state: Self.state()) == "lock:senderBusy")
        #expect(!claims.isHeld(Self.p3, chain: 1))
        c.end(lease, .failed, now: 2)
        #expect(!claims.isHeld(Self.p1, chain: 1) && !claims.isHeld(Self.p2, chain: 1) && claims.isHeld(Self.p1, chain: 2))
        #expect(claims.claim([Self.p1, Self.p2], chain: 1))
    }

    @Test func anEndingCountsForTheRiskGateAsItSays() throws {
        var c = Self.core { $0.breakerFailures = 1 }
        var lease: ExecutionCore.Lease
        guard case .success(let l) = c.receive(try Self.opportunity(id: 1)) else { Issue.record("refused"); return }
        lease = l
        guard case .ready(let s) = c.staleness(lease, try Self.opportunity(id: 1), state: try Self.state(), now: 1, waitedOut: true),
              case .success = c.price(&lease, try Self.opportunity(id: 1), gas: .success(Self.fees), state: s, now: 1) else { Issue.record("refused"); return }
        #expect(c.risk.tradesInFlight == 1)
        // Signed and failed: one failure opens this chain's breaker (threshold 1); the next is refused.
        c.end(lease, .failed, now: 2)
        #expect(c.risk.tradesInFlight == 0)
        #expect(try Self.decide(&c, Self.opportunity(id: 2), state: Self.state(), now: 3) == "risk:circuitOpen")
    }

    @Test func theL1FeeMustLeaveTheTradeProfitable() throws {
        let o = try Self.opportunity(id: 1)
        // Detection's gas: 200,000 gas cost 2e14 wei and 10 of the asset (gross 20 − net 10).
        let plan = TradePlan(strategy: "flash-loan", executor: Self.p1, calldata: [], asset: Self.a, amount: UInt256(1_000), expectedProfit: UInt256(20),
                             detectedProfit: Int256(20), flash: nil)
        // 1e14 wei is 5 of the asset (rounded up): under the net 10.
        #expect(ExecutionCore.l1Fee(UInt256(100_000_000_000_000), o, plan) == nil)
        // 2e14 wei is 10: it eats the whole net profit.
        #expect(ExecutionCore.l1Fee(UInt256(200_000_000_000_000), o, plan)?.reason == "l1FeeExceedsProfit")
        #expect(ExecutionCore.inAsset(wei: UInt256(1), o, plan) == UInt256(1))
    }
}
