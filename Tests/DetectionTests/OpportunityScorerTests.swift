import Detection
import EVMPrimitives
import Opportunities
import Signals
import Testing

@Suite struct OpportunityScorerTests {
    func opportunity(micro: Int64, confidence: Double = 0.9, expiresAt: UInt64 = 10_000_000_000) -> Opportunity {
        Opportunity(id: Array(repeating: 1, count: 16), kind: .triangular, chains: [1], path: [], amountIn: 1, grossProfit: 2,
                    netProfit: 1, grossProfitMicroUSD: micro, netProfitMicroUSD: micro, gasUnits: 1, gasCostWei: 1,
                    flashSource: .none, blockNumber: 1, timestamps: .init(), expiresAt: expiresAt, confidence: confidence)
    }

    func activity(volatility: Double, hot: Bool) -> PairActivityTracker<UInt64>.Activity {
        var t = PairActivityTracker<UInt64>(window: 1, hotRate: hot ? 0 : 1e9)
        // A series whose per-update log-return deviation is about `volatility`.
        var p = 100.0
        for i in 0..<200 {
            p *= 1 + (i % 2 == 0 ? volatility : -volatility)
            t.record(7, price: p, at: UInt64(i))
        }
        return t.activity(7, at: 200)
    }

    @Test func scoreIsDollarsTimesConfidencePerSecondLeft() {
        let s = OpportunityScorer()
        let plain = s.score(opportunity(micro: 50_000_000), momentum: nil, activity: nil, now: 0)
        #expect(plain.confidence == 0.9 && abs(plain.value - 50_000_000 * 0.9 / 10) < 1e-6)
        // Half the time left: twice the urgency.
        #expect(abs(s.score(opportunity(micro: 50_000_000), momentum: nil, activity: nil, now: 5_000_000_000).value - 2 * plain.value) < 1e-6)
        // Expired or unprofitable: nothing.
        #expect(s.score(opportunity(micro: 50_000_000), momentum: nil, activity: nil, now: 10_000_000_000).value == 0)
        #expect(s.score(opportunity(micro: -5), momentum: nil, activity: nil, now: 0).value == 0)
    }

    @Test func volatilityAndAdverseTrendLowerConfidenceDislocationAndHeatRaiseIt() {
        let s = OpportunityScorer()
        let o = opportunity(micro: 1_000_000, confidence: 0.8)
        let calm = s.score(o, momentum: nil, activity: activity(volatility: 0.0001, hot: false), now: 0).confidence
        let wild = s.score(o, momentum: nil, activity: activity(volatility: 0.02, hot: false), now: 0).confidence
        #expect(calm > wild && calm <= 0.8)
        let hot = s.score(o, momentum: nil, activity: activity(volatility: 0.0001, hot: true), now: 0).confidence
        #expect(hot > calm)
        var m = PriceMomentumTracker()
        for i in 0..<80 { m.add(100 - Double(i) * 0.2) }  // falling
        let falling = s.score(o, momentum: m.reading, activity: nil, now: 0).confidence
        #expect(falling < 0.8)
        var jump = PriceMomentumTracker()
        for i in 0..<80 { jump.add(100 + (i % 2 == 0 ? 0.01 : -0.01)) }
        let reading = jump.add(103)!
        #expect(reading.zScore > 2)
        #expect(s.score(o, momentum: reading, activity: nil, now: 0).confidence > 0.8)
        // Never above 1.
        #expect(s.score(opportunity(micro: 1, confidence: 1), momentum: reading, activity: activity(volatility: 0, hot: true), now: 0).confidence == 1)
    }
}
