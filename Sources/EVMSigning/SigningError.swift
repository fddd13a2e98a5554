/// An error from key handling, signing, recovery or transaction decoding.
///
/// Messages never include key material.
public struct SigningError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidKey = "invalid private key"
            case invalidSignature = "invalid signature"
            case recoveryFailed = "recovery failed"
            case invalidTransaction = "invalid transaction"
            case invalidTypedData = "invalid typed data"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let invalidKey = Code(.invalidKey)
        public static let invalidSignature = Code(.invalidSignature)
        public static let recoveryFailed = Code(.recoveryFailed)
        public static let invalidTransaction = Code(.invalidTransaction)
        public static let invalidTypedData = Code(.invalidTypedData)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
