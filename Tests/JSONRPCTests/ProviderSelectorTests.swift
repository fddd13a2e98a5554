import JSONRPC
import Testing

/// The provider pool's choices over time, with a manual clock.
@Suite struct ProviderSelectorTests {
    @Test func rateLimitFailsOverAndComesBack() {
        var s = ProviderSelector(names: ["primary", "backup"])
        #expect(s.choose(now: .zero) == 0)
        s.failed(0, RPCError(.rateLimited, "429", retryAfter: .seconds(2)), now: .zero)
        #expect(s.choose(now: .milliseconds(10)) == 1)
        #expect(s.choose(now: .milliseconds(1_990)) == 1)
        #expect(s.choose(now: .milliseconds(2_001)) == 0)
    }

    @Test func transportFailuresBackOffExponentially() {
        var s = ProviderSelector(names: ["a"])
        var now = Duration.zero
        var cooldowns: [Duration] = []
        for _ in 0..<4 {
            #expect(s.choose(now: now) == 0)
            s.failed(0, RPCError(.transport, "reset"), now: now)
            cooldowns.append(s.providers[0].coolingUntil - now)
            #expect(s.choose(now: now) == nil)
            now = s.providers[0].coolingUntil
        }
        #expect(cooldowns == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2)])
        s.succeeded(0, latency: .milliseconds(5))
        #expect(s.providers[0].consecutiveFailures == 0)
        // A node error (a revert) says nothing about the provider's health.
        s.failed(0, RPCError(.server, "execution reverted", rpcCode: 3), now: now)
        #expect(s.choose(now: now) == 0)
    }

    @Test func tokenBucketLimitsEachProvider() {
        var options = ProviderSelector.Options()
        options.ratePerSecond = 10
        options.burst = 5
        var s = ProviderSelector(names: ["a", "b"], options: options)
        let picks = (0..<12).map { _ in s.choose(now: .zero) }
        #expect(picks == Array(repeating: 0, count: 5) + Array(repeating: 1, count: 5) + [nil, nil])
        #expect(s.choose(now: .milliseconds(100)) == 0)  // one token back after 0.1 s at 10/s
    }

    @Test func laggingProvidersAreALastResort() {
        var s = ProviderSelector(names: ["a", "b"])
        s.observed(head: 100, at: 0)
        s.observed(head: 110, at: 1)
        #expect(s.choose(now: .zero) == 1)
        s.observed(head: 109, at: 0)
        #expect(s.choose(now: .zero) == 0)
    }

    @Test func priorityComesBeforeLatency() {
        var s = ProviderSelector(names: ["a", "b"])
        s.succeeded(0, latency: .milliseconds(80))
        s.succeeded(1, latency: .milliseconds(20))
        // Priority first: a is still first.
        #expect(s.choose(now: .zero) == 0)
    }
}
