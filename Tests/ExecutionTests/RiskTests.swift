import EVMPrimitives
import Execution
import Opportunities
import Testing

let second: UInt64 = 1_000_000_000

/// Mutating calls inside `#expect` need a reference to go through.
final class Box<T> {
    var v: T
    init(_ v: T) { self.v = v }
}

extension Box where T == CircuitBreaker {
    func allow(now: UInt64) -> Bool { v.allow(now: now) }
}

extension Box where T == RiskGate {
    func admit(_ o: Opportunity, gasPrice: UInt256, now: UInt64) -> RiskGate.Decision { v.admit(o, gasPrice: gasPrice, now: now) }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterNFailuresThenHalfOpensForOneTrial() {
        let b = Box(CircuitBreaker(failureThreshold: 3, openForNanoseconds: 60 * second))
        for _ in 0..<2 { #expect(b.allow(now: 0)); b.v.recordFailure(now: 0) }
        #expect(b.v.state == .closed)
        // A success in between resets the count.
        b.v.recordSuccess()
        for _ in 0..<2 { b.v.recordFailure(now: 0) }
        #expect(b.v.state == .closed)
        b.v.recordFailure(now: 10 * second)
        #expect(b.v.state == .open(until: 70 * second) && b.v.trips == 1)
        #expect(!b.allow(now: 69 * second))
        // Half-open: one trial, and no second while it runs.
        #expect(b.allow(now: 70 * second))
        #expect(!b.allow(now: 71 * second))
        // The trial fails: open again for the full time.
        b.v.recordFailure(now: 75 * second)
        #expect(b.v.state == .open(until: 135 * second) && b.v.trips == 2)
        #expect(b.allow(now: 135 * second))
        b.v.recordSuccess()
        #expect(b.v.state == .closed && b.allow(now: 136 * second) && b.allow(now: 136 * second))
    }
}

@Suite struct RiskGateTests {
    let weth = Address(truncating: 1), usdc = Address(truncating: 2)

    func opportunity(_ n: UInt8, chain: UInt64 = 1, asset: Address? = nil, amount: UInt256 = 1_000, micro: Int64 = 5_000_000,
                     expiresAt: UInt64 = 1_000 * second) -> Opportunity {
        let hop = Opportunity.Hop(chainID: chain, pool: Address(truncating: 9), tokenIn: asset ?? weth, tokenOut: usdc, venue: 0, amountOut: 1)
        return Opportunity(id: Array(repeating: n, count: 16), kind: .crossDex, chains: [chain], path: [hop], amountIn: amount,
                           grossProfit: 10, netProfit: 5, grossProfitMicroUSD: micro, netProfitMicroUSD: micro, gasUnits: 1, gasCostWei: 1,
                           flashSource: .none, blockNumber: 1, timestamps: .init(), expiresAt: expiresAt, confidence: 1)
    }

    @Test func eachRefusalHasItsReasonAndCount() {
        var c = RiskGate.Configuration()
        c.maxGasPrice = [1: 100_000_000_000]
        c.minNetProfitMicroUSD = [10: 10_000_000]
        c.maxExposure = [weth: 2_500]
        let g = Box(RiskGate(configuration: c))
        #expect(g.admit(opportunity(1, expiresAt: 5), gasPrice: 1, now: 5) == .refuse(.expired))
        #expect(g.admit(opportunity(2, micro: 999_999), gasPrice: 1, now: 0) == .refuse(.belowMinimum))
        #expect(g.admit(opportunity(3, chain: 10, micro: 5_000_000), gasPrice: 1, now: 0) == .refuse(.belowMinimum))
        #expect(g.admit(opportunity(4), gasPrice: 100_000_000_001, now: 0) == .refuse(.gasPriceTooHigh))
        #expect(g.admit(opportunity(5), gasPrice: 100_000_000_000, now: 0) == .admit)
        #expect(g.admit(opportunity(5), gasPrice: 1, now: 0) == .refuse(.alreadyInFlight))
        #expect(g.admit(opportunity(6), gasPrice: 1, now: 0) == .admit)
        #expect(g.v.exposure(of: weth) == 2_000)
        // 2,000 + 1,000 WETH units would pass the 2,500 cap; USDC is not capped.
        #expect(g.admit(opportunity(7), gasPrice: 1, now: 0) == .refuse(.exposureLimit))
        #expect(g.admit(opportunity(8, asset: usdc), gasPrice: 1, now: 0) == .admit)
        #expect(g.admit(opportunity(9, asset: usdc), gasPrice: 1, now: 0) == .refuse(.tooManyInFlight))
        g.v.finish(opportunity(6).id, landed: true, realisedMicroUSD: 4_000_000, now: 1)
        #expect(g.v.tradesInFlight == 2 && g.v.exposure(of: weth) == 1_000)
        #expect(g.admit(opportunity(9, asset: usdc), gasPrice: 1, now: 1) == .admit)
        #expect(g.v.refused == [.expired: 1, .belowMinimum: 2, .gasPriceTooHigh: 1, .alreadyInFlight: 1, .exposureLimit: 1, .tooManyInFlight: 1])
        #expect(g.v.admitted == 4)
    }

    @Test func failuresOpenTheChainsBreakerOnly() {
        var c = RiskGate.Configuration()
        c.breakerFailures = 2
        c.breakerOpenNanoseconds = 60 * second
        c.maxInFlight = 100
        let g = Box(RiskGate(configuration: c))
        for n in UInt8(1)...2 {
            #expect(g.admit(opportunity(n), gasPrice: 1, now: 0) == .admit)
            g.v.finish(opportunity(n).id, landed: false, realisedMicroUSD: 0, now: 0)
        }
        #expect(g.admit(opportunity(3), gasPrice: 1, now: 10 * second) == .refuse(.circuitOpen))
        // Another chain trades on.
        #expect(g.admit(opportunity(4, chain: 8453), gasPrice: 1, now: 10 * second) == .admit)
        // After the open time: one trial; it lands and the breaker closes.
        #expect(g.admit(opportunity(5), gasPrice: 1, now: 60 * second) == .admit)
        #expect(g.admit(opportunity(6), gasPrice: 1, now: 60 * second) == .refuse(.circuitOpen))
        g.v.finish(opportunity(5).id, landed: true, realisedMicroUSD: 1, now: 61 * second)
        #expect(g.admit(opportunity(7), gasPrice: 1, now: 61 * second) == .admit)
    }

    @Test func dailyLossLimitAndLossStreakHalt() {
        var c = RiskGate.Configuration()
        c.dailyLossLimitMicroUSD = 10_000_000
        c.lossStreakLimit = 3
        c.haltNanoseconds = 3_600 * second
        c.maxInFlight = 100
        let g = Box(RiskGate(configuration: c))
        let day: UInt64 = 86_400 * second
        // Two losses of $4: under the $10 limit, streak 2.
        for n in UInt8(1)...2 {
            #expect(g.admit(opportunity(n, expiresAt: .max), gasPrice: 1, now: day) == .admit)
            g.v.finish(opportunity(n).id, landed: true, realisedMicroUSD: -4_000_000, now: day)
        }
        #expect(g.v.realisedLossToday == 8_000_000)
        // A third loss: the streak halts trading for an hour, and the day's loss passes the limit.
        #expect(g.admit(opportunity(3, expiresAt: .max), gasPrice: 1, now: day) == .admit)
        g.v.finish(opportunity(3).id, landed: true, realisedMicroUSD: -4_000_000, now: day)
        #expect(g.admit(opportunity(4, expiresAt: .max), gasPrice: 1, now: day + second) == .refuse(.dailyLossLimit))
        // Until the UTC day ends the limit holds.
        #expect(g.admit(opportunity(5, expiresAt: .max), gasPrice: 1, now: 2 * day - 1) == .refuse(.dailyLossLimit))
        let h = Box(RiskGate(configuration: c))
        for n in UInt8(1)...3 {
            _ = h.admit(opportunity(n, expiresAt: .max), gasPrice: 1, now: 0)
            h.v.finish(opportunity(n).id, landed: true, realisedMicroUSD: -1, now: 0)
        }
        #expect(h.admit(opportunity(4, expiresAt: .max), gasPrice: 1, now: 3_599 * second) == .refuse(.lossStreak))
        // The streak halt ends after its hour; a new UTC day starts a new loss count.
        #expect(h.admit(opportunity(5, expiresAt: .max), gasPrice: 1, now: 3_600 * second) == .admit)
        #expect(g.admit(opportunity(6, expiresAt: .max), gasPrice: 1, now: 2 * day) == .admit)
    }
}
