import CSecp256k1
import EVMPrimitives

/// A recoverable ECDSA signature: (r, s) and the parity of R's y coordinate.
public struct Signature: Hashable, Sendable {
    public let r: UInt256
    public let s: UInt256
    /// 0 or 1.
    public let yParity: UInt8

    public init(r: UInt256, s: UInt256, yParity: UInt8) {
        self.r = r
        self.s = s
        self.yParity = yParity
    }

    /// True when `s ≤ n/2`, as EIP-2 requires of transaction signatures.
    public var isLowS: Bool { s <= Secp256k1.halfOrder }

    /// r ‖ s ‖ v, 65 bytes, with v = 27 + yParity (the personal_sign and ethers form).
    public var bytes65: [UInt8] { r.bigEndianBytes + s.bigEndianBytes + [27 + yParity] }

    /// Parses r ‖ s ‖ v with v ∈ {0, 1, 27, 28}.
    public init(bytes65 b: [UInt8]) throws(SigningError) {
        guard b.count == 65 else { throw SigningError(.invalidSignature, "a signature is 65 bytes, got \(b.count)") }
        let v = b[64]
        guard v == 0 || v == 1 || v == 27 || v == 28 else {
            throw SigningError(.invalidSignature, "signature v must be 0, 1, 27 or 28, got \(v)")
        }
        self.init(r: try! UInt256(bigEndian: b[0..<32]), s: try! UInt256(bigEndian: b[32..<64]), yParity: v >= 27 ? v - 27 : v)
    }

    /// The address whose key made this signature over `digest`.
    public func recoverSigner(digest: [UInt8]) throws(SigningError) -> Address {
        guard digest.count == 32 else { throw SigningError(.invalidSignature, "a digest is 32 bytes") }
        guard yParity <= 1, !r.isZero, !s.isZero, r < Secp256k1.order, s < Secp256k1.order else {
            throw SigningError(.invalidSignature, "signature values out of range")
        }
        var sig = secp256k1_ecdsa_recoverable_signature()
        let compact = r.bigEndianBytes + s.bigEndianBytes
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(Secp256k1.context, &sig, compact, Int32(yParity)) == 1 else {
            throw SigningError(.invalidSignature, "signature does not parse")
        }
        var pub = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(Secp256k1.context, &pub, &sig, digest) == 1 else {
            throw SigningError(.recoveryFailed, "no public key recovers from this signature")
        }
        let serialized = PrivateKey.serialize(pub)
        return try! Address(bytes: Keccak256.hash(serialized)[12...])
    }
}

/// EIP-191 version 0x45 messages (`personal_sign`).
public enum PersonalMessage {
    /// keccak256("\x19Ethereum Signed Message:\n" ‖ decimal length ‖ message).
    public static func digest(_ message: [UInt8]) -> [UInt8] {
        Keccak256.hash(Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8) + message)
    }

    /// Signs `message`; the result's ``Signature/bytes65`` is the usual 65-byte form.
    public static func sign(_ message: [UInt8], with key: PrivateKey) -> Signature {
        key.sign(digest: digest(message))
    }

    /// The signer of `message`.
    public static func recoverSigner(_ message: [UInt8], signature: Signature) throws(SigningError) -> Address {
        try signature.recoverSigner(digest: digest(message))
    }
}
