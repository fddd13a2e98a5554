import Crypto
import SolanaPrimitives

/// Why an account's bytes are not the state we expected. Compared by `code`; the message names the
/// account kind and the field, and never carries more than a short prefix of the bytes.
public struct VenueDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public struct Code: Equatable, Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case length, discriminator, value, unsupported, owner }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }
        /// Shorter (or longer) than the account kind's fixed size.
        public static let length = Code(.length)
        /// The Anchor discriminator names another account kind.
        public static let discriminator = Code(.discriminator)
        /// A field out of its range (a zero denominator, an unknown status, a price out of bounds).
        public static let value = Code(.value)
        /// A real state we do not quote (an adaptive-fee Whirlpool, a Raydium pool not open to swaps).
        public static let unsupported = Code(.unsupported)
        /// The account belongs to another program or pool than it claims.
        public static let owner = Code(.owner)
        public var description: String { kind.rawValue }
    }

    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}

/// Anchor's account discriminator: the first 8 bytes of sha256("account:<Name>").
public func anchorAccountDiscriminator(_ name: String) -> [UInt8] { AccountReader.anchorDiscriminator(name) }

/// Little-endian reads at fixed offsets of an account's data, bounds checked once for the account.
struct AccountReader {
    let bytes: [UInt8]
    let kind: String

    /// Refuses data of another size than `size` (Anchor and packed accounts have fixed sizes).
    init(_ bytes: [UInt8], kind: String, size: Int, discriminator: [UInt8]? = nil) throws(VenueDecodeError) {
        guard bytes.count == size else { throw VenueDecodeError(.length, "\(kind): \(bytes.count) bytes, expected \(size)") }
        if let discriminator, !bytes[0..<8].elementsEqual(discriminator) {
            throw VenueDecodeError(.discriminator, "\(kind): discriminator \(bytes[0..<8].map { String($0, radix: 16) }) is not \(kind)'s")
        }
        self.bytes = bytes
        self.kind = kind
    }

    /// Anchor's account discriminator: the first 8 bytes of sha256("account:<Name>").
    static func anchorDiscriminator(_ name: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("account:\(name)".utf8))).prefix(8).map { $0 }
    }

    func u8(_ o: Int) -> UInt8 { bytes[o] }
    func u16(_ o: Int) -> UInt16 { UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8 }
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) } }
    func i32(_ o: Int) -> Int32 { Int32(bitPattern: u32(o)) }
    func u64(_ o: Int) -> UInt64 {
        precondition(o >= 0 && o + 8 <= bytes.count)
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
    }
    func i64(_ o: Int) -> Int64 { Int64(bitPattern: u64(o)) }
    func u128(_ o: Int) -> UInt128 { UInt128(u64(o + 8)) << 64 | UInt128(u64(o)) }
    func i128(_ o: Int) -> Int128 { Int128(bitPattern: u128(o)) }
    func key(_ o: Int) -> PublicKey { PublicKey(bytes[o..<o + 32]) }
}
