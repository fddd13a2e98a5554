import CSecp256k1
import EVMPrimitives

/// A secp256k1 private key. Its `description` never shows the key.
public struct PrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    @usableFromInline let secret: [UInt8]
    /// The 64-byte uncompressed public key without its 0x04 prefix.
    public let publicKey: [UInt8]
    /// The Ethereum address: the last 20 bytes of keccak256(publicKey).
    public let address: Address

    /// A key from 32 bytes; zero and values ≥ n are rejected.
    public init(bytes: [UInt8]) throws(SigningError) {
        guard bytes.count == 32 else { throw SigningError(.invalidKey, "a private key is 32 bytes, got \(bytes.count)") }
        guard secp256k1_ec_seckey_verify(Secp256k1.context, bytes) == 1 else {
            throw SigningError(.invalidKey, "private key is zero or not below the curve order")
        }
        var pub = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(Secp256k1.context, &pub, bytes) == 1 else {
            throw SigningError(.invalidKey, "public key derivation failed")
        }
        let serialized = PrivateKey.serialize(pub)
        secret = bytes
        publicKey = serialized
        address = try! Address(bytes: Keccak256.hash(serialized)[12...])
    }

    /// A key from 64 hex digits, with or without `0x`. Surrounding whitespace is ignored.
    public init(hex: String) throws(SigningError) {
        let trimmed = hex.trimmingWhitespace()
        let bytes: [UInt8]
        do { bytes = try Hex.decode(trimmed) } catch {
            throw SigningError(.invalidKey, "private key is not hex")
        }
        try self.init(bytes: bytes)
    }

    static func serialize(_ pub: secp256k1_pubkey) -> [UInt8] {
        var pub = pub
        var out = [UInt8](repeating: 0, count: 65)
        var len = 65
        _ = secp256k1_ec_pubkey_serialize(Secp256k1.context, &out, &len, &pub, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return Array(out[1...])
    }

    /// Signs a 32-byte digest with an RFC 6979 deterministic nonce; `s` is always low.
    public func sign(digest: [UInt8]) -> Signature {
        precondition(digest.count == 32, "a digest is 32 bytes")
        var sig = secp256k1_ecdsa_recoverable_signature()
        let ok = secp256k1_ecdsa_sign_recoverable(Secp256k1.context, &sig, digest, secret, nil, nil)
        precondition(ok == 1, "libsecp256k1 refused a verified key")
        var compact = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1.context, &compact, &recid, &sig)
        return compact.withUnsafeBytes { p in
            Signature(r: UInt256(bigEndianWordAt: p.baseAddress!), s: UInt256(bigEndianWordAt: p.baseAddress! + 32), yParity: UInt8(recid))
        }
    }

    public var description: String { "PrivateKey(\(address.checksummed), secret redacted)" }
    public var debugDescription: String { description }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }
}
