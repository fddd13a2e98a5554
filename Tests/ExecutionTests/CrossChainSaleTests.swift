import EVMPrimitives
import Execution
import Testing

/// An arrived asset's sale as decisions, with no chain: scripted quotes, prices and sends, and
/// what the sale asks for, to each way it ends.
@Suite struct CrossChainSaleTests {
    static let second: UInt64 = 1_000_000_000
    static func quote(_ out: UInt64) -> Requote { Requote(steps: [], amounts: [UInt256(out)], block: 10) }

    /// Answers: our state's quote (nil: none), the chain's price (nil: the call failed), and the
    /// send ("ok", "pending", "fail", "busy": the pool stayed claimed by another trade of ours); each list taken in order, the last repeating. The clock
    /// moves `step` per pause. Returns the actions' names and the end.
    static func run(spent: UInt64 = 100, ours: [UInt64?], chain: [UInt64?] = [100], send: [String] = ["ok"], known: [Bool] = [false],
                    step: UInt64 = second, limits: CrossChainSale.Limits = .init()) -> [String] {
        var sale = CrossChainSale(limits: limits, spent: UInt256(spent), began: 0)
        var (ours, chain, send, known) = (ours, chain, send, known)
        func take<V>(_ l: inout [V]) -> V { l.count > 1 ? l.removeFirst() : l[0] }
        var now: UInt64 = 0, trace: [String] = [], action = sale.next
        for _ in 0..<200 {
            let event: CrossChainSale.Event
            switch action {
            case .sold(let hash, let proceeds, let note): return trace + ["sold \(hash) \(proceeds)" + (note == nil ? "" : " noted")]
            case .held(let why): return trace + ["held: " + why]
            case .findPending(let p):
                trace.append("pending \(p.count)")
                event = .pendingLanded(nil)
            case .knowsPending:
                let k = take(&known)
                trace.append("known \(k)")
                event = .known(k)
            case .quote:
                event = .quoted(take(&ours).map(quote))
            case .fetch:
                trace.append("fetch")
                event = .fetched(take(&chain).map { .success(UInt256($0)) } ?? .failure(Refusal("simulate", "reverted", "call failed")))
            case .sell(_, let minimum, _):
                trace.append("sell \(minimum)")
                switch take(&send) {
                case "ok": event = .sent(.success(("0xs", UInt256(minimum.w0 + 1))))
                case "pending": event = .sent(.failure(Refusal("inclusion", "pending", "0xp")))
                case "busy": event = .poolBusy
                default: event = .sent(.failure(Refusal("simulate", "reverted")))
                }
            case .pause:
                now += step
                trace.append("pause")
                event = .paused
            }
            action = sale.advance(event, now: now)
        }
        return trace + ["no end"]
    }

    @Test func aPriceThatReturnsTheQuoteSpentSellsAtExactlyWhatTheChainGives() {
        #expect(Self.run(ours: [120], chain: [110]) == ["fetch", "sell 110", "sold 0xs 111"])
    }

    @Test func aLossByOurStateIsWaitedForWithoutAskingTheChain() {
        #expect(Self.run(ours: [90, 90, 120], chain: [105]) == ["pause", "pause", "fetch", "sell 105", "sold 0xs 106"])
    }

    @Test func aLossOnTheChainCountsAsAnAttemptAndFiveHoldTheAsset() {
        let trace = Self.run(ours: [120], chain: [99])
        #expect(trace.filter { $0 == "fetch" }.count == 5)
        #expect(trace.last == "held: held after 5 sale attempt(s): last quote 99 (our state: 120; minimum 100); sold at the next start")
    }

    @Test func pastTheHoldLimitItSellsAtTheMarket() {
        var limits = CrossChainSale.Limits()
        limits.maxHoldNanoseconds = 3 * Self.second
        // Our state says a loss (waited for), until the position has been held 3 s; then the chain's price, whatever it is.
        #expect(Self.run(ours: [90], chain: [80], limits: limits) == ["pause", "pause", "pause", "fetch", "sell 80", "sold 0xs 81"])
    }

    /// A pool another trade of ours holds: the sale waits its turn (quoted again), spending no
    /// attempt, until the hold limit; after it each busy turn is an attempt, and five hold the asset.
    @Test func aBusyPoolIsWaitedForWithoutSpendingAnAttemptUntilTheHoldLimit() {
        #expect(Self.run(ours: [120], chain: [110], send: ["busy", "busy", "busy", "busy", "busy", "busy", "ok"])
                == ["fetch", "sell 110", "pause"] + Array(repeating: ["fetch", "sell 110", "pause"], count: 5).flatMap { $0 } + ["fetch", "sell 110", "sold 0xs 111"])
        var limits = CrossChainSale.Limits()
        limits.maxHoldNanoseconds = 3 * Self.second
        let held = Self.run(ours: [120], chain: [110], send: ["busy"], limits: limits)
        #expect(held.filter { $0 == "pause" }.count == 8)  // three before the limit (no attempt), then one after each of five attempts
        #expect(held.last == "held: held after 5 sale attempt(s): last quote a trade of ours through the pool stayed on its way; sold at the next start")
    }

    @Test func noStateOrAFailedCallCountsAsAnAttempt() {
        #expect(Self.run(ours: [nil]).last?.hasPrefix("held: held after 5 sale attempt(s): last quote no state") == true)
        #expect(Self.run(ours: [120], chain: [nil, 100]) == ["fetch", "pause", "fetch", "sell 100", "sold 0xs 101"])
    }

    @Test func aPendingSaleBlocksAnotherWhileTheNodeKnowsItThenCountsAsAnAttempt() {
        var limits = CrossChainSale.Limits()
        limits.maxReceiptWaitNanoseconds = 2 * Self.second
        // The first sale is pending: while the node knows it nothing else is sent; past the receipt wait, it counts and the next sale goes.
        let trace = Self.run(ours: [120], chain: [100], send: ["pending", "ok"], known: [true], limits: limits)
        #expect(trace == ["fetch", "sell 100", "pause", "pending 1", "known true", "pause", "pending 1", "known true", "pause", "pending 1", "known true",
                          "pause", "fetch", "sell 100", "sold 0xs 101"])
        // Forgotten by the node: the next sale goes at once.
        #expect(Self.run(ours: [120], chain: [100], send: ["pending", "ok"], known: [false])
            == ["fetch", "sell 100", "pause", "pending 1", "known false", "fetch", "sell 100", "sold 0xs 101"])
    }

    @Test func withoutASoldEventTheSimulatedProceedsStandAndAreNoted() {
        var sale = CrossChainSale(limits: .init(), spent: UInt256(100), began: 0)
        _ = sale.advance(.quoted(Self.quote(120)), now: 0)
        _ = sale.advance(.fetched(.success(UInt256(110))), now: 0)
        #expect(sale.advance(.sent(.success(("0xs", nil))), now: 0) == .sold(hash: "0xs", proceeds: UInt256(110),
                                                                               note: "no Sold event in the sale's receipt: proceeds as simulated"))
    }
}
