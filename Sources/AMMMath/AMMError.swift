/// Why a quote or a sizing cannot be given. Compared by `code`; the message says what failed.
public struct AMMError: Error, Equatable, CustomStringConvertible, Sendable {
    public struct Code: Equatable, Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case insufficientLiquidity, overflow, invalidState, invalidPriceLimit, invalidAmount }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }
        /// The pool cannot pay the amount out (or the output would be zero where the pool reverts).
        public static let insufficientLiquidity = Code(.insufficientLiquidity)
        /// An intermediate or the result does not fit where the contract would revert on overflow.
        public static let overflow = Code(.overflow)
        /// The pool state itself is out of range (a tick beyond ±887272, a sqrt price out of bounds, …).
        public static let invalidState = Code(.invalidState)
        /// A price limit on the wrong side of the current price or outside the tick range.
        public static let invalidPriceLimit = Code(.invalidPriceLimit)
        /// A zero or out-of-range amount.
        public static let invalidAmount = Code(.invalidAmount)
        public var description: String { kind.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
    public static func == (lhs: AMMError, rhs: AMMError) -> Bool { lhs.code == rhs.code }
}
