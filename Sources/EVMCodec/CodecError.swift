import EVMPrimitives

/// An error raised while encoding or decoding RLP, ABI data or a transaction envelope.
///
/// Compare by ``code``. Decoding errors keep a hex excerpt of the input that failed, so a bad
/// payload from the network can be logged and reproduced without flooding the log.
public struct CodecError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case truncated = "truncated input"
            case nonCanonical = "non-canonical encoding"
            case trailingBytes = "trailing bytes"
            case unexpectedShape = "unexpected shape"
            case tooDeep = "nesting too deep"
            case badOffset = "offset out of bounds"
            case dirtyPadding = "dirty padding"
            case invalidValue = "invalid value"
            case typeSyntax = "invalid type"
            case typeMismatch = "value does not match type"
            case invalidTransaction = "invalid transaction"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let truncated = Code(.truncated)
        public static let nonCanonical = Code(.nonCanonical)
        public static let trailingBytes = Code(.trailingBytes)
        public static let unexpectedShape = Code(.unexpectedShape)
        public static let tooDeep = Code(.tooDeep)
        public static let badOffset = Code(.badOffset)
        public static let dirtyPadding = Code(.dirtyPadding)
        public static let invalidValue = Code(.invalidValue)
        public static let typeSyntax = Code(.typeSyntax)
        public static let typeMismatch = Code(.typeMismatch)
        public static let invalidTransaction = Code(.invalidTransaction)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// Hex of (the start of) the input that failed, at most 64 bytes.
    public let input: String?
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, input: (some Collection<UInt8>)? = [UInt8]?.none, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.input = input.map { bytes in
            bytes.count <= 64 ? Hex.encode(bytes) : Hex.encode(bytes.prefix(64)) + "…(\(bytes.count) bytes)"
        }
        self.underlying = underlying
    }

    public var description: String {
        var s = message
        if let underlying { s += ": \(underlying)" }
        if let input { s += " [input \(input)]" }
        return s
    }
}
