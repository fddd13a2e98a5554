/// Why a JSON-RPC call failed, and whether trying again (here or at another provider) can help.
public struct RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String { case transport, timeout, rateLimited, server, malformedResponse, unavailable, invalidRequest }
        fileprivate let value: Value
        /// The connection failed or dropped: another attempt (or provider) may succeed.
        public static let transport = Code(value: .transport)
        /// No answer in time.
        public static let timeout = Code(value: .timeout)
        /// HTTP 429 or JSON-RPC -32005: wait `retryAfter`, or use another provider.
        public static let rateLimited = Code(value: .rateLimited)
        /// The node answered with a JSON-RPC error (`rpcCode`, `data`).
        public static let server = Code(value: .server)
        /// The answer is not a JSON-RPC response to what was asked.
        public static let malformedResponse = Code(value: .malformedResponse)
        /// Every provider is cooling down or over its rate.
        public static let unavailable = Code(value: .unavailable)
        /// Refused before it was sent: the call's own arguments are wrong (never retried).
        public static let invalidRequest = Code(value: .invalidRequest)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String
    /// The JSON-RPC error code, for `.server` (and -32005 rate limits).
    public let rpcCode: Int?
    /// The error's `data` (revert data for `eth_call`), as JSON text.
    public let data: String?
    /// How long the provider asked us to wait (Retry-After), when it said.
    public let retryAfter: Duration?

    public init(_ code: Code, _ message: String, rpcCode: Int? = nil, data: String? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.rpcCode = rpcCode
        self.data = data
        self.retryAfter = retryAfter
    }

    /// Whether the same call may succeed if tried again. Node errors are final except the
    /// "limit exceeded" (-32005) and internal (-32603) ones that providers return under load.
    public var retryable: Bool {
        switch code {
        case .transport, .timeout, .rateLimited, .unavailable: true
        case .server: rpcCode == -32603
        default: false
        }
    }

    public var description: String {
        var s = "\(code): \(message)"
        if let rpcCode { s += " (code \(rpcCode))" }
        return s
    }
}
