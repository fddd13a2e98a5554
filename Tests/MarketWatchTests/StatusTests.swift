import MarketWatch
import Testing

struct StatusTests {
    /// A chain is stale with no head yet, and once its last head is older than `staleAfter`.
    @Test func chainStalenessFollowsTheLastHead() {
        var s = ChainWatcher.Status(chainID: 1, name: "x")
        s.staleAfter = .seconds(30)
        let now = ContinuousClock.now
        #expect(s.chainStale(at: now))
        s.lastHeadAt = now - .seconds(29)
        #expect(!s.chainStale(at: now))
        s.lastHeadAt = now - .seconds(31)
        #expect(s.chainStale(at: now))
    }

    /// Head lag is the distance from the state's block to the chain's head, never negative.
    @Test func headLag() {
        var s = ChainWatcher.Status(chainID: 1, name: "x")
        #expect(s.headLag == 0)
        s.head = 100
        s.stateBlock = 97
        #expect(s.headLag == 3)
        s.stateBlock = 101
        #expect(s.headLag == 0)
    }
}
