import ArgumentParser
import EVMCodec
import EVMPrimitives
import EVMSigning
import Execution

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the signing key comes from: `ARBITER_PRIVATE_KEY`, `--key-file`, or a Web3 Secret
/// Storage (v3) `--keystore` whose passphrase is in `ARBITER_KEYSTORE_PASSPHRASE`. Never an
/// argument, so the key stays out of shell history and process listings.
struct KeyOptions: ParsableArguments {
    static let environmentVariable = "ARBITER_PRIVATE_KEY"
    static let passphraseVariable = "ARBITER_KEYSTORE_PASSPHRASE"

    @Option(name: .long, help: "A file holding the 0x-hex private key (instead of $ARBITER_PRIVATE_KEY).")
    var keyFile: String?
    @Option(name: .long, help: "A Web3 Secret Storage v3 keystore file; its passphrase in $ARBITER_KEYSTORE_PASSPHRASE.")
    var keystore: String?

    func load() throws -> PrivateKey {
        let text: String
        let source: String
        if let keystore {
            guard let passphrase = getenv(Self.passphraseVariable).map({ String(cString: $0) }) else {
                throw CLIError("--keystore needs its passphrase in \(Self.passphraseVariable)")
            }
            do {
                return try Keystore.decrypt(try Input.file(keystore), passphrase: passphrase)
            } catch {
                throw CLIError("\(keystore): \(error)")
            }
        }
        if let keyFile {
            text = String(decoding: try Input.file(keyFile), as: UTF8.self)
            source = keyFile
        } else if let env = getenv(Self.environmentVariable) {
            text = String(cString: env)
            source = "$" + Self.environmentVariable
        } else {
            throw CLIError("no signing key: set \(Self.environmentVariable) or pass --key-file <path>")
        }
        do {
            return try PrivateKey(hex: text)
        } catch {
            // The message never echoes the key text.
            throw CLIError("\(source): not a valid secp256k1 private key (expected 32 bytes of hex)")
        }
    }
}

extension Util {
    struct AddressOf: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "address-of", abstract: "The address of the signing key.")

        @OptionGroup var key: KeyOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let k = try key.load()
            output.emit(k.address.checksummed, [("address", .string(k.address.checksummed))])
        }
    }

    struct SignMessage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-message",
            abstract: "EIP-191 personal_sign of a UTF-8 message: prints r‖s‖v (65 bytes, v = 27/28).")

        @Argument(help: "The message, signed as its UTF-8 bytes (a 0x string is signed as text too).")
        var message: String
        @Flag(name: .long, help: "Treat the message as 0x-hex bytes instead of text.")
        var hex = false

        @OptionGroup var key: KeyOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let k = try key.load()
            let bytes = hex ? try hexBytes(message, "message") : Array(message.utf8)
            let sig = Hex.encode(PersonalMessage.sign(bytes, with: k).bytes65)
            output.emit(sig, [("address", .string(k.address.checksummed)), ("signature", .string(sig))])
        }
    }

    struct SignTx: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-tx",
            abstract: "Sign a transaction given as JSON-RPC fields; prints the raw signed transaction.",
            discussion: """
                Fields: type, chainId, nonce, to, value, gas, gasPrice | maxFeePerGas + \
                maxPriorityFeePerGas, data, accessList. Quantities are decimal or 0x-hex. \
                With --jsonl, standard input holds one transaction per line and one raw \
                transaction is printed per line.
                """)

        @Argument(help: "The transaction JSON (read from standard input when absent).")
        var transaction: String?
        @Flag(name: .long, help: "Read one transaction per line from standard input.")
        var jsonl = false

        @OptionGroup var key: KeyOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let k = try key.load()
            if jsonl {
                guard transaction == nil else { throw CLIError("--jsonl reads standard input; do not pass a transaction argument") }
                let input = Input.standardInput()
                var lineNumber = 0
                for line in input.split(separator: 0x0a, omittingEmptySubsequences: false) {
                    lineNumber += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
                    try sign(Array(line), key: k, what: "line \(lineNumber)")
                }
            } else {
                let bytes = transaction.map { Array($0.utf8) } ?? Input.standardInput()
                try sign(bytes, key: k, what: "transaction")
            }
        }

        private func sign(_ bytes: [UInt8], key: PrivateKey, what: String) throws {
            let signed = try context(what) {
                let json = try JSONValue.parse(bytes)
                let tx = try Transaction(json: json)
                if let from = try Transaction.declaredSender(in: json), from != key.address {
                    throw CLIError("\(what): from \(from.checksummed) is not the signing key's address \(key.address.checksummed)")
                }
                return tx.signed(with: key)
            }
            let raw = Hex.encode(signed.raw)
            output.emit(raw, [
                ("raw", .string(raw)), ("hash", .string(Hex.encode(signed.hash))), ("from", .string(signed.from.checksummed)),
            ])
        }
    }

    struct DecodeTx: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode-tx",
            abstract: "Decode a raw signed transaction: JSON with every field, the recovered from and the hash.")

        @Argument(help: "The raw transaction, 0x-hex.")
        var raw: String

        func run() throws {
            let bytes = try hexBytes(raw, "raw transaction")
            let tx = try context("decode-tx") { try SignedTransaction(raw: bytes) }
            Output.line(tx.json.text)
        }
    }
}
