/// An error raised while parsing or converting a primitive value (a number, hex text, an address).
///
/// Errors compare by ``code``; the message says what was wrong and ``input`` keeps the offending
/// text, cut to a sane length so that a huge payload never floods a log line.
public struct PrimitiveError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this was. Compare with `==`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidHex = "invalid hex"
            case invalidNumber = "invalid number"
            case overflow = "overflow"
            case invalidAddress = "invalid address"
            case badChecksum = "bad checksum"
            case invalidLength = "invalid length"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let invalidHex = Code(.invalidHex)
        public static let invalidNumber = Code(.invalidNumber)
        public static let overflow = Code(.overflow)
        public static let invalidAddress = Code(.invalidAddress)
        public static let badChecksum = Code(.badChecksum)
        public static let invalidLength = Code(.invalidLength)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// The text that failed to parse, cut to at most 80 characters.
    public let input: String?

    public init(_ code: Code, _ message: String, input: String? = nil) {
        self.code = code
        self.message = message
        self.input = input.map { PrimitiveError.cut($0) }
    }

    public var description: String {
        if let input { return "\(message): \"\(input)\"" }
        return message
    }

    /// Shortens untrusted text for error messages.
    public static func cut(_ text: some StringProtocol, limit: Int = 80) -> String {
        text.count <= limit ? String(text) : String(text.prefix(limit)) + "…"
    }
}
