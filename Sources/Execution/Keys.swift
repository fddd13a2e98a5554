import Crypto
import EVMCodec
import EVMPrimitives
import EVMSigning
import Foundation
import _CryptoExtras

/// Where signing keys come from: an environment variable holding the key's hex, or a Web3
/// Secret Storage (v3) keystore file whose passphrase is in another environment variable.
/// Nothing here ever puts key material or a passphrase into an error or a log line.
public enum KeySource {
    /// `ARBITER_<ROLE>_KEY` (hex), else `ARBITER_<ROLE>_KEYSTORE` (a path) with
    /// `ARBITER_<ROLE>_PASSPHRASE`. Role: "EXECUTOR" or "FLASHBOTS". Nil when neither is set.
    public static func load(role: String, environment: [String: String]) throws -> PrivateKey? {
        let prefix = "ARBITER_\(role)_"
        if let hex = environment[prefix + "KEY"], !hex.isEmpty {
            do {
                return try PrivateKey(hex: hex)
            } catch {
                throw ExecutionError("\(prefix)KEY is not a valid secp256k1 private key (32 bytes of hex)")
            }
        }
        guard let path = environment[prefix + "KEYSTORE"], !path.isEmpty else { return nil }
        guard let passphrase = environment[prefix + "PASSPHRASE"] else {
            throw ExecutionError("\(prefix)KEYSTORE is set but \(prefix)PASSPHRASE is not")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ExecutionError("\(prefix)KEYSTORE: cannot read \(path)") }
        return try Keystore.decrypt(Array(data), passphrase: passphrase)
    }

    /// More keys of a role from `ARBITER_<ROLE>_EXTRA_KEYS` (comma-separated hex): the executor's
    /// further senders, each with its own nonces. Empty when unset.
    public static func extra(role: String, environment: [String: String]) throws -> [PrivateKey] {
        let name = "ARBITER_\(role)_EXTRA_KEYS"
        guard let list = environment[name], !list.isEmpty else { return [] }
        return try list.split(separator: ",").enumerated().map { i, hex in
            do {
                return try PrivateKey(hex: hex.trimmingCharacters(in: .whitespaces))
            } catch {
                throw ExecutionError("\(name) entry \(i + 1) is not a valid secp256k1 private key (32 bytes of hex)")
            }
        }
    }
}

/// Web3 Secret Storage Definition, version 3: scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR, and a
/// Keccak-256 MAC over the derived key's second half and the ciphertext.
public enum Keystore {
    public static func decrypt(_ json: [UInt8], passphrase: String) throws -> PrivateKey {
        guard let doc = try? JSONValue.parse(json) else { throw ExecutionError("keystore: not JSON") }
        guard doc["version"].flatMap(number) == 3 else { throw ExecutionError("keystore: only version 3 is supported") }
        guard let crypto = doc["crypto"] ?? doc["Crypto"] else { throw ExecutionError("keystore: no crypto section") }
        guard crypto["cipher"]?.stringValue == "aes-128-ctr" else { throw ExecutionError("keystore: cipher must be aes-128-ctr") }
        let iv = try bytes(crypto["cipherparams"]?["iv"], "cipherparams.iv")
        let ciphertext = try bytes(crypto["ciphertext"], "ciphertext")
        let mac = try bytes(crypto["mac"], "mac")
        guard iv.count == 16, mac.count == 32, !ciphertext.isEmpty else { throw ExecutionError("keystore: iv, mac or ciphertext has the wrong length") }
        guard let params = crypto["kdfparams"] else { throw ExecutionError("keystore: no kdfparams") }
        let salt = try bytes(params["salt"], "kdfparams.salt")
        guard let dklen = params["dklen"].flatMap(number), dklen >= 32 else { throw ExecutionError("keystore: dklen must be at least 32") }
        let password = Array(passphrase.utf8)
        let derived: [UInt8]
        switch crypto["kdf"]?.stringValue {
        case "scrypt":
            guard let n = params["n"].flatMap(number), let r = params["r"].flatMap(number), let p = params["p"].flatMap(number),
                  n > 1, n & (n - 1) == 0, n <= 1 << 20, (1...64).contains(r), (1...16).contains(p) else {
                throw ExecutionError("keystore: scrypt parameters out of range")
            }
            let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: dklen, rounds: n, blockSize: r, parallelism: p)
            derived = key.withUnsafeBytes { Array($0) }
        case "pbkdf2":
            guard params["prf"]?.stringValue == "hmac-sha256", let c = params["c"].flatMap(number), (1...10_000_000).contains(c) else {
                throw ExecutionError("keystore: pbkdf2 needs prf hmac-sha256 and a round count")
            }
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: .sha256, outputByteCount: dklen, unsafeUncheckedRounds: c)
            derived = key.withUnsafeBytes { Array($0) }
        default:
            throw ExecutionError("keystore: kdf must be scrypt or pbkdf2")
        }
        guard Keccak256.hash(Array(derived[16..<32]) + ciphertext) == mac else {
            throw ExecutionError("keystore: wrong passphrase (the MAC does not match)")
        }
        let plain = try AES._CTR.decrypt(ciphertext, using: SymmetricKey(data: Array(derived[0..<16])), nonce: AES._CTR.Nonce(nonceBytes: iv))
        guard plain.count == 32, let key = try? PrivateKey(bytes: Array(plain)) else { throw ExecutionError("keystore: the decrypted key is not a valid private key") }
        if let address = doc["address"]?.stringValue, let expected = try? Address(hex: address.hasPrefix("0x") ? address : "0x" + address), expected != key.address {
            throw ExecutionError("keystore: the key does not belong to the file's address")
        }
        return key
    }

    private static func number(_ v: JSONValue) -> Int? {
        if case .number(let s) = v { return Int(s) }
        return nil
    }

    private static func bytes(_ v: JSONValue?, _ what: String) throws -> [UInt8] {
        guard let s = v?.stringValue, let b = try? Hex.decode(s.hasPrefix("0x") ? s : "0x" + s) else { throw ExecutionError("keystore: \(what) is not hex") }
        return b
    }
}
