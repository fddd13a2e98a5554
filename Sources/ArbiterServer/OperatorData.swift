import EVMCodec

/// What the operator server shows: the process's readiness and its data, as JSON. The app
/// implements it over its watchers, journal and engine; the server only routes, checks
/// parameters and keys. Data routes may throw (a journal read failing): the server answers 500
/// with the error, never a partial answer.
public protocol OperatorData: Sendable {
    /// Whether the process can do its work now, and why not.
    func readiness() async -> OperatorServer.Readiness
    /// Per chain: name, id, head, state block, head lag, pools, updates, reorgs, malformed input.
    func chains() async -> JSONValue
    /// The latest opportunities handed to execution, newest first, with their decision.
    func opportunities(_ query: OpportunityQuery) async throws -> JSONValue
    /// The latest trades from the journal (expected and realized profit), newest first.
    func trades(limit: Int) async throws -> JSONValue
    /// Open cross-chain transfers and statistical positions.
    func positions() async throws -> JSONValue
    /// Each chain's circuit breaker.
    func breakers() async -> JSONValue
    /// Refusals counted by reason.
    func refusals() async throws -> JSONValue
    /// Latency percentiles per stage.
    func latency() async -> JSONValue
    /// A chain's pools as its market state holds them (the block it is at, each pool's address,
    /// kind and state); nil when no chain has that id.
    func pools(chain: UInt64) async -> JSONValue?
    /// The kinds an opportunity query may name.
    var kinds: [String] { get }
    /// Every metric in Prometheus' text format.
    func metrics() async -> String
}

/// `GET /api/opportunities?limit&kind&chain`, checked: a bad value is a 400 that says which and why.
public struct OpportunityQuery: Sendable, Equatable {
    public var limit = 50
    public var kind: String?
    public var chain: UInt64?

    public init(limit: Int = 50, kind: String? = nil, chain: UInt64? = nil) { (self.limit, self.kind, self.chain) = (limit, kind, chain) }

    public static let maxLimit = 1_000

    /// Reads `parameters` (name → value); `kinds` are the accepted kinds.
    public static func parse(_ parameters: [(String, String)], kinds: [String]) -> Result<Self, QueryError> {
        var q = Self()
        for (name, value) in parameters {
            switch name {
            case "limit":
                guard let n = Int(value), (1...maxLimit).contains(n) else { return .failure(.init("limit must be an integer within 1…\(maxLimit), not \"\(value.prefix(40))\"")) }
                q.limit = n
            case "kind":
                guard kinds.contains(value) else { return .failure(.init("kind must be one of \(kinds.joined(separator: ", ")), not \"\(value.prefix(40))\"")) }
                q.kind = value
            case "chain":
                guard let c = UInt64(value) else { return .failure(.init("chain must be a chain id (a decimal integer), not \"\(value.prefix(40))\"")) }
                q.chain = c
            default:
                return .failure(.init("unknown parameter \"\(name.prefix(40))\" (accepted: limit, kind, chain)"))
            }
        }
        return .success(q)
    }

    /// `limit` alone (the trades route).
    public static func limit(_ parameters: [(String, String)], default value: Int = 50) -> Result<Int, QueryError> {
        var limit = value
        for (name, v) in parameters {
            guard name == "limit" else { return .failure(.init("unknown parameter \"\(name.prefix(40))\" (accepted: limit)")) }
            guard let n = Int(v), (1...maxLimit).contains(n) else { return .failure(.init("limit must be an integer within 1…\(maxLimit), not \"\(v.prefix(40))\"")) }
            limit = n
        }
        return .success(limit)
    }
}

public struct QueryError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Readiness and nothing else: for a process with no data to show yet (and tests of the keys).
public struct ReadinessOnly: OperatorData {
    let check: @Sendable () async -> OperatorServer.Readiness
    public init(_ check: @escaping @Sendable () async -> OperatorServer.Readiness) { self.check = check }
    public func readiness() async -> OperatorServer.Readiness { await check() }
    public func chains() async -> JSONValue { .array([]) }
    public func opportunities(_ query: OpportunityQuery) async throws -> JSONValue { .array([]) }
    public func trades(limit: Int) async throws -> JSONValue { .array([]) }
    public func positions() async throws -> JSONValue { .object([("transfers", .array([])), ("statistical", .array([]))]) }
    public func breakers() async -> JSONValue { .array([]) }
    public func refusals() async throws -> JSONValue { .array([]) }
    public func latency() async -> JSONValue { .array([]) }
    public func pools(chain: UInt64) async -> JSONValue? { nil }
    public var kinds: [String] { [] }
    public func metrics() async -> String { "" }
}
