/// Which of a chain's providers to ask next: the design's provider pool as a value type with an
/// injected time (`now`, time since the pool started), so that it is tested without waiting.
///
/// - Providers are tried in priority order (the registry's order); among equals, the lower
///   latency (an exponential average) wins.
/// - A rate limit (HTTP 429, -32005) cools the provider down for its Retry-After, or 1 s; a
///   transport error or timeout for 250 ms doubling per consecutive failure, up to 30 s. A
///   provider cooling down is skipped; when the cool-down ends it is preferred again by priority.
/// - Each provider has a token bucket: a call takes a token, and a provider with none is skipped.
/// - A provider whose head lags the best by more than `maxHeadLag` blocks is used only when no
///   other is available.
public struct ProviderSelector: Sendable {
    public struct Options: Sendable {
        /// Sustained calls per second per provider, and the burst above it.
        public var ratePerSecond: Double = 50
        public var burst: Double = 100
        public var maxHeadLag: UInt64 = 3
        public init() {}
    }

    public struct Provider: Sendable {
        public let name: String
        public let priority: Int
        public fileprivate(set) var latency: Duration? = nil
        public fileprivate(set) var consecutiveFailures = 0
        public fileprivate(set) var coolingUntil: Duration = .zero
        public fileprivate(set) var head: UInt64 = 0
        public fileprivate(set) var calls = 0
        public fileprivate(set) var failures = 0
        fileprivate var tokens: Double
        fileprivate var refilledAt: Duration = .zero
    }

    public private(set) var providers: [Provider]
    public let options: Options

    public init(names: [String], options: Options = Options()) {
        self.options = options
        self.providers = names.enumerated().map { Provider(name: $1, priority: $0, tokens: options.burst) }
    }

    /// The provider to call now (its token is taken), or nil when all are cooling down or empty.
    public mutating func choose(now: Duration) -> Int? {
        let best = providers.map(\.head).max() ?? 0
        var pick: Int? = nil
        var pickLagging = true
        for i in providers.indices {
            refill(i, now: now)
            let p = providers[i]
            guard p.coolingUntil <= now, p.tokens >= 1 else { continue }
            let lagging = best > p.head + options.maxHeadLag
            if let j = pick {
                let q = providers[j]
                let better = pickLagging && !lagging
                    || pickLagging == lagging && (p.priority < q.priority || p.priority == q.priority && (p.latency ?? .zero) < (q.latency ?? .zero))
                if !better { continue }
            }
            pick = i
            pickLagging = lagging
        }
        if let i = pick {
            providers[i].tokens -= 1
            providers[i].calls += 1
        }
        return pick
    }

    /// A call to provider `i` made outside `choose` (a question every provider is asked): counted,
    /// and a token taken when it has one (it is asked even without).
    public mutating func asked(_ i: Int, now: Duration) {
        refill(i, now: now)
        providers[i].tokens = max(providers[i].tokens - 1, 0)
        providers[i].calls += 1
    }

    public mutating func succeeded(_ i: Int, latency: Duration) {
        providers[i].consecutiveFailures = 0
        providers[i].latency = providers[i].latency.map { $0 * 0.8 + latency * 0.2 } ?? latency
    }

    public mutating func failed(_ i: Int, _ error: RPCError, now: Duration) {
        providers[i].failures += 1
        switch error.code {
        case .rateLimited:
            providers[i].coolingUntil = now + (error.retryAfter ?? .seconds(1))
        case .transport, .timeout:
            providers[i].consecutiveFailures += 1
            let backoff = Duration.milliseconds(250) * (1 << min(providers[i].consecutiveFailures - 1, 7))
            providers[i].coolingUntil = now + min(backoff, .seconds(30))
        default:
            break  // the node answered: it is healthy, the call was not
        }
    }

    /// The latest block a provider reported (heads, `eth_blockNumber`).
    public mutating func observed(head: UInt64, at i: Int) {
        providers[i].head = max(providers[i].head, head)
    }

    private mutating func refill(_ i: Int, now: Duration) {
        let elapsed = now - providers[i].refilledAt
        guard elapsed > .zero else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        providers[i].tokens = min(options.burst, providers[i].tokens + seconds * options.ratePerSecond)
        providers[i].refilledAt = now
    }
}
