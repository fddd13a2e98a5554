import Crypto
import EVMPrimitives

/// A Solana account address: 32 bytes, written in base58.
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The four big-endian 64-bit words of the key, held inline: a key is copied, compared and
    /// hashed without touching the heap (it is the key of every book and index).
    let words: (UInt64, UInt64, UInt64, UInt64)

    public init(bytes: [UInt8]) throws(SolanaError) {
        guard bytes.count == 32 else { throw SolanaError(.invalidKey, "a public key of \(bytes.count) bytes") }
        words = bytes.withUnsafeBytes { p in
            (p.loadUnaligned(fromByteOffset: 0, as: UInt64.self).bigEndian, p.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian,
             p.loadUnaligned(fromByteOffset: 16, as: UInt64.self).bigEndian, p.loadUnaligned(fromByteOffset: 24, as: UInt64.self).bigEndian)
        }
    }

    /// The 32 bytes at `slice` (a slice of any other length traps: callers cut exactly 32).
    public init(_ slice: ArraySlice<UInt8>) {
        precondition(slice.count == 32, "a public key is 32 bytes")
        words = slice.withUnsafeBytes { p in
            (p.loadUnaligned(fromByteOffset: 0, as: UInt64.self).bigEndian, p.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian,
             p.loadUnaligned(fromByteOffset: 16, as: UInt64.self).bigEndian, p.loadUnaligned(fromByteOffset: 24, as: UInt64.self).bigEndian)
        }
    }

    /// From base58 text: exactly 32 bytes, every character of the alphabet.
    public init(base58 text: some StringProtocol) throws(SolanaError) {
        guard let b = Base58.decode(text) else { throw SolanaError(.invalidKey, "not base58: \(String(text).prefix(60))") }
        try self.init(bytes: b)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { b, n in
            let raw = UnsafeMutableRawBufferPointer(b)
            raw.storeBytes(of: words.0.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: words.1.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: words.2.bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: words.3.bigEndian, toByteOffset: 24, as: UInt64.self)
            n = 32
        }
    }

    public var base58: String { Base58.encode(bytes) }
    public var description: String { base58 }

    public static func == (a: PublicKey, b: PublicKey) -> Bool { a.words == b.words }
    /// The first eight bytes only: a key is a hash or a curve point, so they are as good as all
    /// 32 for spreading keys over buckets (the hasher stays seeded per process, and two keys
    /// sharing them would take 2⁶⁴ tries to make), at a quarter of the hashing.
    public func hash(into h: inout Hasher) { h.combine(words.0) }
    /// Byte order (lexicographic), as the SDK sorts keys.
    public static func < (a: PublicKey, b: PublicKey) -> Bool { a.words < b.words }

    public static let systemProgram = try! PublicKey(base58: "11111111111111111111111111111111")
    public static let computeBudgetProgram = try! PublicKey(base58: "ComputeBudget111111111111111111111111111111")
    public static let tokenProgram = try! PublicKey(base58: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    public static let token2022Program = try! PublicKey(base58: "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
    public static let associatedTokenProgram = try! PublicKey(base58: "ATokenGPvbdGVxr1b2hvZbsMqW3jWm6g7BMGTq8z5AX")

    // MARK: program-derived addresses

    /// Whether the bytes decompress to a point of Ed25519 (as curve25519-dalek's
    /// `CompressedEdwardsY::decompress`: y is the low 255 bits taken mod p, and the point exists
    /// when (y² − 1)/(d·y² + 1) is a square mod p). Program-derived addresses are the ones that do not.
    public var isOnCurve: Bool { Ed25519Field.decompresses(bytes) }

    /// `sha256(seeds ‖ programId ‖ "ProgramDerivedAddress")` when it is off the curve; at most 16
    /// seeds of at most 32 bytes each (the runtime's limits).
    public static func createProgramAddress(seeds: [[UInt8]], program: PublicKey) throws(SolanaError) -> PublicKey {
        guard seeds.count <= 16, seeds.allSatisfy({ $0.count <= 32 }) else { throw SolanaError(.invalidSeeds, "at most 16 seeds of at most 32 bytes") }
        var h = SHA256()
        for s in seeds { h.update(data: s) }
        h.update(data: program.bytes)
        h.update(data: Array("ProgramDerivedAddress".utf8))
        let key = try PublicKey(bytes: Array(h.finalize()))
        guard !key.isOnCurve else { throw SolanaError(.onCurve, "the derived address is on the curve") }
        return key
    }

    /// The first bump from 255 down whose address is off the curve, and that address.
    public static func findProgramAddress(seeds: [[UInt8]], program: PublicKey) throws(SolanaError) -> (PublicKey, UInt8) {
        guard seeds.count <= 15 else { throw SolanaError(.invalidSeeds, "at most 15 seeds and the bump") }
        for bump in stride(from: 255, through: 0, by: -1) {
            if let key = try? createProgramAddress(seeds: seeds + [[UInt8(bump)]], program: program) { return (key, UInt8(bump)) }
        }
        throw SolanaError(.onCurve, "no bump gives an address off the curve")
    }

    /// The associated token account of `owner` for `mint` under `tokenProgram` (SPL Token or Token-2022).
    public static func associatedTokenAddress(owner: PublicKey, mint: PublicKey, tokenProgram: PublicKey = .tokenProgram) throws(SolanaError) -> PublicKey {
        try findProgramAddress(seeds: [owner.bytes, tokenProgram.bytes, mint.bytes], program: .associatedTokenProgram).0
    }
}

/// Arithmetic mod p = 2²⁵⁵ − 19, for the on-curve check only (not constant time: public data).
enum Ed25519Field {
    static let p = UInt256.one.shiftedLeft(by: 255) - UInt256(19)
    /// d = −121665/121666 mod p.
    static let d = UInt256("37095705934669439343138083508754565189542113879843219016388785533085940283555")!

    static func mul(_ a: UInt256, _ b: UInt256) -> UInt256 { p.dividingFullWidth(a.multipliedFullWidth(by: b)).remainder }
    static func add(_ a: UInt256, _ b: UInt256) -> UInt256 {
        let (s, o) = a.addingReportingOverflow(b)
        return o || s >= p ? s &- p : s
    }
    static func sub(_ a: UInt256, _ b: UInt256) -> UInt256 { a >= b ? a - b : p - (b - a) }
    static func pow(_ a: UInt256, _ e: UInt256) -> UInt256 {
        var result = UInt256.one, base = a, e = e
        while !e.isZero {
            if e.w0 & 1 == 1 { result = mul(result, base) }
            base = mul(base, base)
            e = e.shiftedRight(by: 1)
        }
        return result
    }

    /// y from the 32 little-endian bytes (the sign bit cleared, reduced mod p), and whether
    /// u/v = (y² − 1)/(d·y² + 1) is a square (zero included).
    static func decompresses(_ bytes: [UInt8]) -> Bool {
        var le = bytes
        le[31] &= 0x7f
        var y = le.reversed().withUnsafeBufferPointer { UInt256(bigEndianWordAt: UnsafeRawPointer($0.baseAddress!)) }
        if y >= p { y = y - p }
        let y2 = mul(y, y)
        let u = sub(y2, .one), v = add(mul(d, y2), .one)
        guard !u.isZero else { return true }
        // Euler's criterion on u·v⁻¹: (u·v^(p−2))^((p−1)/2) is 1 for a square.
        let w = mul(u, pow(v, p - UInt256(2)))
        return pow(w, (p - .one).shiftedRight(by: 1)) == .one
    }
}

/// Why Solana input or a derivation was refused.
public struct SolanaError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidKey, invalidSeeds, onCurve, truncated, nonCanonical, tooLarge, invalidMessage, invalidSignature
    }
    public let code: Code
    public let detail: String
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
    public var description: String { "\(code.rawValue): \(detail)" }
}
