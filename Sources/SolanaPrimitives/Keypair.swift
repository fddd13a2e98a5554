import Crypto
import Foundation

/// An Ed25519 signing key (RFC 8032, deterministic signatures) from its 32-byte seed.
public struct Keypair: Sendable {
    let key: Curve25519.Signing.PrivateKey
    public let publicKey: PublicKey

    public init(seed: [UInt8]) throws(SolanaError) {
        guard seed.count == 32, let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw SolanaError(.invalidKey, "an Ed25519 seed of \(seed.count) bytes")
        }
        key = k
        publicKey = try PublicKey(bytes: Array(k.publicKey.rawRepresentation))
    }

    /// The 64-byte signature of `message`.
    public func sign(_ message: [UInt8]) throws(SolanaError) -> [UInt8] {
        guard let s = try? key.signature(for: message), s.count == 64 else { throw SolanaError(.invalidSignature, "Ed25519 signing failed") }
        return Array(s)
    }

    /// Whether `signature` is `signer`'s over `message`.
    public static func verify(_ signature: [UInt8], message: [UInt8], signer: PublicKey) -> Bool {
        guard signature.count == 64, let k = try? Curve25519.Signing.PublicKey(rawRepresentation: signer.bytes) else { return false }
        return k.isValidSignature(signature, for: message)
    }
}
