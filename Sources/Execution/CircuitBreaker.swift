/// A per-chain circuit breaker: `failureThreshold` consecutive failures open it for `openFor`;
/// then it is half-open and lets one trial through, whose success closes it and whose failure
/// opens it again. A value type driven by the caller's clock (nanoseconds), so every transition
/// is testable and replayable.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed
        /// Refusing until the given time.
        case open(until: UInt64)
        /// One trial allowed; `trialInFlight` while it runs.
        case halfOpen(trialInFlight: Bool)
    }

    public let failureThreshold: Int
    public let openForNanoseconds: UInt64
    public private(set) var state: State = .closed
    public private(set) var consecutiveFailures = 0
    /// Times it opened.
    public private(set) var trips = 0

    /// The original system's default: 5 failures, open 5 minutes.
    public init(failureThreshold: Int = 5, openForNanoseconds: UInt64 = 300_000_000_000) {
        precondition(failureThreshold > 0)
        self.failureThreshold = failureThreshold
        self.openForNanoseconds = openForNanoseconds
    }

    /// Whether a trade may start now; in half-open state this claims the one trial.
    public mutating func allow(now: UInt64) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard now >= until else { return false }
            state = .halfOpen(trialInFlight: true)
            return true
        case .halfOpen(let trial):
            if trial { return false }
            state = .halfOpen(trialInFlight: true)
            return true
        }
    }

    public mutating func recordSuccess() {
        consecutiveFailures = 0
        state = .closed
    }

    public mutating func recordFailure(now: UInt64) {
        consecutiveFailures += 1
        switch state {
        case .halfOpen:
            open(now)
        case .closed where consecutiveFailures >= failureThreshold:
            open(now)
        default:
            break
        }
    }

    private mutating func open(_ now: UInt64) {
        state = .open(until: now &+ openForNanoseconds)
        trips += 1
    }
}
