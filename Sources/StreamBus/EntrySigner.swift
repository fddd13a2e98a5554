import Crypto

/// HMAC-SHA256 signatures on bus entries, with key rotation: entries are signed with the current
/// key and accepted under the current or the previous one, so keys roll without a stop. The
/// signature covers the stream name, the key id and the payload, so an entry cannot be replayed
/// into another partition's stream.
public struct EntrySigner: Sendable {
    public struct Key: Sendable {
        public var id: String
        var secret: SymmetricKey

        /// `secret` should be 32 random bytes; never logged.
        public init(id: String, secret: [UInt8]) {
            self.id = id
            self.secret = SymmetricKey(data: secret)
        }
    }

    public let current: Key
    public let previous: Key?

    public init(current: Key, previous: Key? = nil) {
        self.current = current
        self.previous = previous
    }

    /// The current key's id and signature of `payload` in `stream`.
    public func sign(_ payload: [UInt8], stream: String) -> (keyID: String, signature: [UInt8]) {
        (current.id, Array(HMAC<SHA256>.authenticationCode(for: Self.message(payload, stream: stream, keyID: current.id), using: current.secret)))
    }

    /// Whether `signature` is a valid one of `payload` in `stream` under the named accepted key
    /// (compared in constant time).
    public func verify(_ payload: [UInt8], stream: String, keyID: String, signature: [UInt8]) -> Bool {
        let key: Key
        if keyID == current.id { key = current } else if let p = previous, keyID == p.id { key = p } else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Self.message(payload, stream: stream, keyID: keyID), using: key.secret)
    }

    static func message(_ payload: [UInt8], stream: String, keyID: String) -> [UInt8] {
        Array(stream.utf8) + [0] + Array(keyID.utf8) + [0] + payload
    }
}
