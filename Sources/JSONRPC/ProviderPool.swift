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

    private func timed(_ i: Int, _ took: Duration) {
        latency[i].recordNanoseconds(took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
    }

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
                timed(i, took)
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

    /// The same requests to every provider at once, each provider's answer or failure in pool
    /// order: for a question whose answer differs between nodes (whether a transaction has
    /// reached a node's pool), where one node's "no" is not the chain's. A cooling-down provider
    /// is asked too; what each answer shows (its latency, a failure) counts as for `send`.
    public func sendEach(_ requests: [RPCRequest]) async -> [Result<[RPCResponse], RPCError>] {
        selector.withLock { s in
            for i in transports.indices { s.asked(i, now: ContinuousClock.now - start) }
        }
        return await withTaskGroup(of: (Int, Result<[RPCResponse], RPCError>).self) { group in
            for (i, transport) in transports.enumerated() {
                group.addTask {
                    let began = ContinuousClock.now
                    do throws(RPCError) {
                        let responses = try await transport.send(requests)
                        let took = ContinuousClock.now - began
                        self.timed(i, took)
                        self.selector.withLock { $0.succeeded(i, latency: took) }
                        return (i, .success(responses))
                    } catch {
                        self.selector.withLock { $0.failed(i, error, now: ContinuousClock.now - self.start) }
                        self.failure(i, error)
                        return (i, .failure(error))
                    }
                }
            }
            var answers = [Result<[RPCResponse], RPCError>](repeating: .failure(RPCError(.unavailable, "not asked")), count: transports.count)
            for await (i, answer) in group { answers[i] = answer }
            return answers
        }
    }
}
