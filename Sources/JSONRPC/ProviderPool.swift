import CoreMetrics
import Synchronization

/// A chain's providers behind one transport: each call goes to the provider `ProviderSelector`
/// picks, and a retryable failure moves it to the next (at most `attempts` providers per call).
public final class ProviderPool: RPCTransport {
    private let transports: [any RPCTransport]
    private let selector: Mutex<ProviderSelector>
    private let start = ContinuousClock.now
    private let lastAnswered = Atomic<Int>(-1)
    public let attempts: Int
    /// Per provider: how long its answers take, and its failures (made at the start, so a
    /// provider that never failed shows 0 rather than nothing).
    private let latency: [CoreMetrics.Timer]
    private let errors: [Counter]
    private let names: [String]
    private let chain: String

    /// `chain` labels the providers' metrics (one provider name can serve several chains).
    public init(_ providers: [(name: String, transport: any RPCTransport)], options: ProviderSelector.Options = .init(), attempts: Int = 3,
                chain: String = "") {
        precondition(!providers.isEmpty, "a provider pool needs a provider")
        transports = providers.map(\.transport)
        selector = Mutex(ProviderSelector(names: providers.map(\.name), options: options))
        self.attempts = attempts
        names = providers.map(\.name)
        self.chain = chain
        latency = names.map { CoreMetrics.Timer(label: "arbiter_rpc_request_seconds", dimensions: [("chain", chain), ("provider", $0)]) }
        errors = names.map { Counter(label: "arbiter_rpc_errors_total", dimensions: [("chain", chain), ("provider", $0)]) }
    }

    private func failure(_ i: Int, _ error: RPCError) { errors[i].increment() }

    /// The selector's view of each provider (for status lines and tests).
    public var providers: [ProviderSelector.Provider] { selector.withLock { $0.providers } }

    /// The provider that answered the last call (for status lines).
    public var current: String? {
        let i = lastAnswered.load(ordering: .relaxed)
        return i >= 0 ? selector.withLock { $0.providers[i].name } : nil
    }

    public func observed(head: UInt64, at i: Int) { selector.withLock { $0.observed(head: head, at: i) } }

    public func send(_ requests: [RPCRequest]) async throws(RPCError) -> [RPCResponse] {
        var last = RPCError(.unavailable, "every provider is cooling down or over its rate")
        for _ in 0..<attempts {
            let now = ContinuousClock.now - start
            guard let i = selector.withLock({ $0.choose(now: now) }) else { throw last }
            let began = ContinuousClock.now
            do {
                let responses = try await transports[i].send(requests)
                let took = ContinuousClock.now - began
                latency[i].recordNanoseconds(took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
                // A -32005 inside the responses is a rate limit too.
                if let limited = responses.lazy.compactMap({ if case .failure(let e) = $0.result, e.code == .rateLimited { e } else { nil } }).first {
                    selector.withLock { $0.failed(i, limited, now: ContinuousClock.now - self.start) }
                    failure(i, limited)
                    last = limited
                    continue
                }
                selector.withLock { $0.succeeded(i, latency: took) }
                lastAnswered.store(i, ordering: .relaxed)
                return responses
            } catch {
                selector.withLock { $0.failed(i, error, now: ContinuousClock.now - self.start) }
                failure(i, error)
                guard error.retryable else { throw error }
                last = error
            }
        }
        throw last
    }
}
