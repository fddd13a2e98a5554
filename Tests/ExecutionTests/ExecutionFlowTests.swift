import EVMPrimitives
import EVMSigning
import Execution
import MarketState
import Opportunities
import Testing

/// The core's stages after the price as actions: a scripted driver answers each, with no devnet,
/// and the trace of actions, the ending, the nonce given back and the locks and risk slot are
/// checked for every way out of the stages the driver performs.
@Suite struct ExecutionFlowTests {
    typealias T = ExecutionCoreTests
    static let key = try! PrivateKey(hex: "0x" + String(repeating: "11", count: 32))

    /// What the scripted driver answers; each list is taken in order (the last answer repeats).
    struct Script: Sendable {
        var state: [ChainState?] = [try! T.state()]
        var gas: Result<GasOracle.Quote, GasOracle.Failure> = .success(T.fees)
        var plan: Result<TradePlan, Refusal> = .success(ExecutionFlowTests.plan)
        var l1Fee: UInt256? = UInt256(1)
        var nonce: Result<ExecutionCore.Reservation, Refusal> = .success(.init(nonce: 7, submission: 1))
        var simulate: [Result<Void, Refusal>] = [.success(())]
        var head: UInt64? = 11
        var stateAt: ChainState? = try! T.state(block: 11)
        var submit: [Result<Void, Refusal>] = [.success(())]
        var clock: UInt64 = 1
    }

    static let plan = TradePlan(strategy: "flash-loan", executor: T.p1, calldata: [1, 2, 3], asset: T.a, amount: UInt256(1_000),
                                expectedProfit: UInt256(20), detectedProfit: Int256(20), flash: nil)

    static func take<V>(_ list: inout [V]) -> V { list.count > 1 ? list.removeFirst() : list[0] }

    /// The actions in order and the end (`track:…`, `refused stage:reason [release n]`).
    static func walk(_ core: inout ExecutionCore, _ o: Opportunity, _ script: Script) -> [String] {
        var s = script, trace: [String] = []
        var flow: ExecutionCore.Flow, next: ExecutionCore.Next
        switch core.start(o, now: s.clock) {
        case .failure(let r): return ["refused \(r.stage):\(r.reason)"]
        case .success(let started): (flow, next) = started
        }
        while trace.count < 40 {
            switch next {
            case .refused(let r, let release):
                return trace + ["refused \(r.stage):\(r.reason)" + (release.map { " release \($0.nonce)" } ?? "")]
            case .track(let target, let unanswered):
                return trace + ["track:\(target)" + (unanswered == nil ? "" : " unanswered")]
            case .perform(let action):
                let event: ExecutionCore.Event
                switch action {
                case .readState(let waiting):
                    trace.append(waiting ? "wait" : "state")
                    if waiting { s.clock += 1_000_000_000 }
                    event = .state(take(&s.state))
                case .fetchGas: trace.append("gas"); event = .gas(s.gas)
                case .plan: trace.append("plan"); event = .planned(s.plan)
                case .l1Fee: trace.append("l1Fee"); event = .l1Fee(s.l1Fee)
                case .reserveNonce: trace.append("nonce"); event = .reserved(s.nonce)
                case .sign(let tx):
                    trace.append("sign:\(tx.nonce)")
                    event = .signed(tx.signed(with: key))
                case .simulate(let target): trace.append("simulate:\(target)"); event = .simulated(take(&s.simulate))
                case .readHead: trace.append("head"); event = .head(s.head)
                case .readStateAt(let b): trace.append("stateAt:\(b)"); event = .state(s.stateAt)
                case .submit(let target): trace.append("submit:\(target)"); event = .submitted(take(&s.submit))
                }
                next = core.advance(&flow, event, now: s.clock)
            }
        }
        return trace + ["no end"]
    }

    static let outrun = Refusal("simulate", "outrun")
    static let sent = ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "submit:11"]

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var l1: Bool = false
        var script: @Sendable (inout Script) -> Void = { _ in }
        var trace: [String]
        /// The trade still holds its locks and risk slot (handed to the tracker).
        var holds: Bool = false
        /// How it counts for the chain's breaker (threshold 1): a failure opens it.
        var failure: Bool = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "sent and tracked", trace: sent + ["track:11"], holds: true),
        Case(name: "the L1 fee read, then sent", l1: true, trace: ["state", "gas", "plan", "l1Fee", "nonce", "sign:7", "simulate:11", "submit:11", "track:11"],
             holds: true),
        Case(name: "a state short of the block waits, then catches up", script: { $0.state = [try! T.state(block: 9), try! T.state()] },
             trace: ["state", "wait"] + sent.dropFirst() + ["track:11"], holds: true),
        Case(name: "a state that never catches up is behind", script: { $0.state = [try! T.state(block: 9)] },
             trace: ["state", "wait", "wait", "wait", "refused stale:behind"]),
        Case(name: "no strategy plans it", script: { $0.plan = .failure(Refusal("strategy", "noFlashSource")) },
             trace: ["state", "gas", "plan", "refused strategy:noFlashSource"]),
        Case(name: "no L1 fee", l1: true, script: { $0.l1Fee = nil }, trace: ["state", "gas", "plan", "l1Fee", "refused gas:l1FeeUnavailable"]),
        Case(name: "an L1 fee that eats the profit", l1: true, script: { $0.l1Fee = UInt256(200_000_000_000_000) },
             trace: ["state", "gas", "plan", "l1Fee", "refused gas:l1FeeExceedsProfit"]),
        Case(name: "no nonce", script: { $0.nonce = .failure(Refusal("nonce", "unavailable")) },
             trace: ["state", "gas", "plan", "nonce", "refused nonce:unavailable"]),
        Case(name: "simulation reverts: the nonce goes back and the breaker counts it",
             script: { $0.simulate = [.failure(Refusal("simulate", "reverted"))] },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "refused simulate:reverted release 7"], failure: true),
        Case(name: "moved on the pending state is competition, not a fault", script: { $0.simulate = [.failure(Refusal("simulate", "pendingMoved"))] },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "refused simulate:pendingMoved release 7"]),
        Case(name: "outrun once, still as detected: again for the next block", script: { $0.simulate = [.failure(outrun), .success(())] },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "head", "stateAt:11", "simulate:12", "submit:12", "track:12"], holds: true),
        Case(name: "outrun three times: given up without a fault", script: { $0.simulate = [.failure(outrun)] },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "head", "stateAt:11", "simulate:12", "head", "stateAt:11", "simulate:12",
                     "refused simulate:outrun release 7"]),
        Case(name: "outrun and the path moved", script: { $0.simulate = [.failure(outrun)]; $0.stateAt = try! T.state(block: 11, without: T.p2) },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "head", "stateAt:11", "refused simulate:outrun release 7"]),
        Case(name: "outrun and no head", script: { $0.simulate = [.failure(outrun)]; $0.head = nil },
             trace: ["state", "gas", "plan", "nonce", "sign:7", "simulate:11", "head", "refused simulate:outrun release 7"]),
        Case(name: "the target passed before the send: outrun", script: { $0.submit = [.failure(Refusal("simulate", "outrun")), .success(())] },
             trace: sent + ["head", "stateAt:11", "simulate:12", "submit:12", "track:12"], holds: true),
        Case(name: "no answer to the send: followed as sent", script: { $0.submit = [.failure(Refusal("submit", "unanswered"))] },
             trace: sent + ["track:11 unanswered"], holds: true),
        Case(name: "the relay refuses: the nonce goes back", script: { $0.submit = [.failure(Refusal("submit", "relayRefused"))] },
             trace: sent + ["refused submit:relayRefused release 7"], failure: true),
    ]

    @Test(arguments: cases)
    func eachWay(_ c: Case) throws {
        var configuration = ExecutionCore.Configuration()
        configuration.risk.defaultMinNetProfitMicroUSD = 0
        configuration.risk.breakerFailures = 1
        configuration.catchUp = .seconds(3)
        var core = ExecutionCore(configuration: configuration, chains: [1: .init(bundles: false, senders: 1, l1Fee: c.l1)])
        var script = Script()
        c.script(&script)
        #expect(Self.walk(&core, try T.opportunity(id: 1), script) == c.trace)
        #expect(core.risk.tradesInFlight == (c.holds ? 1 : 0))
        #expect(core.trades(chain: 1, sender: 0) == (c.holds ? 1 : 0))
        guard !c.holds else { return }
        // Its locks are free: the same pools go again; a failure opened the breaker.
        let again = Self.walk(&core, try T.opportunity(id: 2), Script())
        #expect(again.last == (c.failure ? "refused risk:circuitOpen" : "track:11"))
    }

    @Test func anUnexpectedAnswerEndsTheTradeAndFreesItsLocks() throws {
        var core = T.core()
        guard case .success(let started) = core.start(try T.opportunity(id: 1), now: 1) else { Issue.record("refused"); return }
        var flow = started.0
        guard case .refused(let r, nil) = core.advance(&flow, .head(3), now: 1) else { Issue.record("not refused"); return }
        #expect(r.stage == "core" && r.reason == "unexpected")
        #expect(core.trades(chain: 1, sender: 0) == 0)
    }

    @Test func theTransactionIsBuiltWithTheChainsGasLimitAndTheFeesAndNonce() throws {
        var core = ExecutionCore(configuration: {
            var c = ExecutionCore.Configuration()
            c.risk.defaultMinNetProfitMicroUSD = 0
            return c
        }(), chains: [1: .init(bundles: false, senders: 1, gasHeadroom: (3, 2), gasLimitBounds: 100_000...250_000)])
        guard case .success(let started) = core.start(try T.opportunity(id: 1), now: 1) else { Issue.record("refused"); return }
        var flow = started.0
        _ = core.advance(&flow, .state(try T.state()), now: 1)
        _ = core.advance(&flow, .gas(.success(T.fees)), now: 1)
        _ = core.advance(&flow, .planned(.success(Self.plan)), now: 1)
        guard case .perform(.sign(let tx)) = core.advance(&flow, .reserved(.success(.init(nonce: 42, submission: 3))), now: 1) else {
            Issue.record("no sign")
            return
        }
        // 200,000 × 3/2 = 300,000, above the 250,000 bound.
        #expect(tx.gasLimit == 250_000 && tx.nonce == 42 && tx.to == T.p1 && tx.data == [1, 2, 3])
        #expect(tx.maxFeePerGas == T.fees.maxFeePerGas && tx.maxPriorityFeePerGas == T.fees.maxPriorityFeePerGas && tx.chainId == 1)
    }

    /// A driver of the same core that is not the engine (what a backtest is): answers from a
    /// script on its own clock, and sees the trade sent, the nonce given back, every stage timed.
    actor ScriptedDriver: ExecutionDriver {
        var core: ExecutionCore
        var script: Script
        var followed: [UInt64] = []
        var released: [UInt64] = []
        var stages: [String] = []

        init(_ core: ExecutionCore, _ script: Script) {
            self.core = core
            self.script = script
        }

        func now() -> UInt64 { script.clock }
        func follow(_ flow: ExecutionCore.Flow, unanswered: Refusal?) { followed.append(flow.target) }
        func release(_ r: ExecutionCore.Reservation, _ flow: ExecutionCore.Flow) { released.append(r.nonce) }
        func timed(_ stage: String, nanoseconds: UInt64) { stages.append(stage) }

        func perform(_ action: ExecutionCore.Action, _ flow: ExecutionCore.Flow) async -> ExecutionCore.Event {
            switch action {
            case .readState: .state(ExecutionFlowTests.take(&script.state))
            case .fetchGas: .gas(script.gas)
            case .plan: .planned(script.plan)
            case .l1Fee: .l1Fee(script.l1Fee)
            case .reserveNonce: .reserved(script.nonce)
            case .sign(let tx): .signed(tx.signed(with: ExecutionFlowTests.key))
            case .simulate: .simulated(ExecutionFlowTests.take(&script.simulate))
            case .readHead: .head(script.head)
            case .readStateAt: .state(script.stateAt)
            case .submit: .submitted(ExecutionFlowTests.take(&script.submit))
            }
        }
    }

    @Test func anotherDriverRunsTheSameDecisions() async throws {
        var script = Script()
        script.simulate = [.failure(Self.outrun), .success(())]
        let driver = ScriptedDriver(T.core(), script)
        func outcome(_ r: Result<Void, Refusal>) -> String { if case .failure(let f) = r { "\(f.stage):\(f.reason)" } else { "sent" } }
        #expect(outcome(try await driver.drive(T.opportunity(id: 1))) == "sent")
        #expect(await driver.followed == [12])
        #expect(await driver.stages == ["validate", "staleness", "rpc:gas", "requote", "rpc:strategy", "build", "nonce", "sign", "detectedToSigned",
                                        "rpc:simulate", "rpc:simulate", "rpc:submit"])
        // The same pools again while the first is followed: the core's lock, whoever drives it.
        #expect(outcome(try await driver.drive(T.opportunity(id: 2))) == "lock:poolBusy")
        script.submit = [.failure(Refusal("submit", "rejected", "no"))]
        let refusing = ScriptedDriver(T.core(), script)
        #expect(outcome(try await refusing.drive(T.opportunity(id: 3))) == "submit:rejected")
        #expect(await refusing.released == [7])
        #expect(await refusing.followed.isEmpty)
    }
}
