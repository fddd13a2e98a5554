/// Why a frame from the exchange was skipped. Every skip is counted by its code; none of them
/// touches feed state.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: UInt8, CaseIterable {
            case notJSON, unknownStream, unknownSymbol, missingField, wrongType, badDecimal, symbolMismatch,
                 crossedBook, tooManyLevels, unknownEvent, duplicateField
        }
        let value: Value
        /// Not well-formed JSON, or not an object where one must be.
        public static let notJSON = Code(value: .notJSON)
        /// A stream this client did not subscribe to, or of a kind it does not read.
        public static let unknownStream = Code(value: .unknownStream)
        public static let unknownSymbol = Code(value: .unknownSymbol)
        public static let missingField = Code(value: .missingField)
        public static let wrongType = Code(value: .wrongType)
        /// A price or quantity that is not a plain non-negative decimal.
        public static let badDecimal = Code(value: .badDecimal)
        /// The payload's symbol is not the stream's.
        public static let symbolMismatch = Code(value: .symbolMismatch)
        /// Best bid at or above best ask, or a zero price.
        public static let crossedBook = Code(value: .crossedBook)
        public static let tooManyLevels = Code(value: .tooManyLevels)
        /// An event type this client does not know.
        public static let unknownEvent = Code(value: .unknownEvent)
        public static let duplicateField = Code(value: .duplicateField)

        public static let all: [Code] = Value.allCases.map { Code(value: $0) }
        public var description: String { String(describing: value) }
        public var index: Int { Int(value.rawValue) }
    }

    public let code: Code
    public init(_ code: Code) { self.code = code }
    public var description: String { "malformed frame: \(code)" }
}
