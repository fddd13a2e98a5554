import ArgumentParser
import EVMCodec
import EVMPrimitives
import Foundation
import SolanaPrimitives

extension Util {
    /// `arbiter util solana …`: keys, program-derived and associated token addresses, signatures.
    struct Solana: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Solana keys and addresses: keygen-address, pda, ata, sign (each with --jsonl for batches).",
            subcommands: [KeygenAddress.self, PDA.self, ATA.self, Sign.self, SolanaBuildTx.self, SolanaBuildTransfer.self, SolanaDecodeTx.self,
                          SolanaQuote.self, SolanaDetect.self])

        /// Runs `answer` on each line of standard input (one JSON answer or {"error"} per line).
        static func lines(_ answer: (String) throws -> JSONValue) {
            for line in Input.standardInput().split(separator: 0x0a, omittingEmptySubsequences: false) {
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                do {
                    Output.line(try answer(text).text)
                } catch {
                    Output.line(JSONValue.object([("error", .string("\(error)"))]).text)
                }
            }
        }

        /// A string field of a JSON line.
        static func field(_ text: String, _ name: String) throws -> String {
            guard let v = try JSONValue.parse(Array(text.utf8))[name]?.stringValue else { throw CLIError("needs \(name)") }
            return v
        }

        static func key(_ text: String, _ what: String) throws -> PublicKey {
            try context(what) { try PublicKey(base58: text) }
        }
    }

    struct KeygenAddress: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen-address", abstract: "The address of the Ed25519 key whose 32-byte seed is in $ARBITER_SOLANA_KEY (or --key-file).",
            discussion: "With --jsonl, standard input holds one {\"seed\": \"0x…\"} per line (keys never come from arguments).")
        @OptionGroup var key: SolanaKeyOptions
        @Flag(name: .long, help: "One seed per line of standard input.") var jsonl = false

        func run() throws {
            if jsonl { return Solana.lines { .object([("address", .string(try SolanaKeyOptions.keypair(try Solana.field($0, "seed")).publicKey.base58))]) } }
            Output.line(JSONValue.object([("address", .string(try key.load().publicKey.base58))]).text)
        }
    }

    struct PDA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pda", abstract: "The program-derived address of seeds (0x-hex) under --program: the first bump from 255 off the curve.",
            discussion: "With --jsonl, each line is {\"program\": base58, \"seeds\": [\"0x…\"]}.")
        @Option(name: .long) var program: String?
        @Argument var seeds: [String] = []
        @Flag(name: .long) var jsonl = false

        static func answer(program: String, seeds: [String]) throws -> JSONValue {
            let (key, bump) = try context("pda") {
                try PublicKey.findProgramAddress(seeds: try seeds.map { try Util.hexBytes($0, "seed") }, program: try Solana.key(program, "program"))
            }
            return .object([("address", .string(key.base58)), ("bump", .number(String(bump)))])
        }

        func run() throws {
            if jsonl {
                return Solana.lines { text in
                    let v = try JSONValue.parse(Array(text.utf8))
                    guard let p = v["program"]?.stringValue, let s = v["seeds"]?.arrayValue else { throw CLIError("needs program and seeds") }
                    return try Self.answer(program: p, seeds: s.compactMap(\.stringValue))
                }
            }
            guard let program else { throw CLIError("pda needs --program (or --jsonl)") }
            Output.line(try Self.answer(program: program, seeds: seeds).text)
        }
    }

    struct ATA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ata", abstract: "The associated token account of an owner for a mint (SPL Token, or --token-program for Token-2022).",
            discussion: "With --jsonl, each line is {\"owner\", \"mint\", \"tokenProgram\"?} in base58.")
        @Argument var owner: String?
        @Argument var mint: String?
        @Option(name: .long) var tokenProgram: String?
        @Flag(name: .long) var jsonl = false

        static func answer(owner: String, mint: String, program: String?) throws -> JSONValue {
            let p = try program.map { try Solana.key($0, "token program") } ?? .tokenProgram
            let a = try context("ata") { try PublicKey.associatedTokenAddress(owner: try Solana.key(owner, "owner"), mint: try Solana.key(mint, "mint"), tokenProgram: p) }
            return .object([("address", .string(a.base58))])
        }

        func run() throws {
            if jsonl {
                return Solana.lines { text in
                    let v = try JSONValue.parse(Array(text.utf8))
                    guard let o = v["owner"]?.stringValue, let m = v["mint"]?.stringValue else { throw CLIError("needs owner and mint") }
                    return try Self.answer(owner: o, mint: m, program: v["tokenProgram"]?.stringValue)
                }
            }
            guard let owner, let mint else { throw CLIError("ata needs an owner and a mint (or --jsonl)") }
            Output.line(try Self.answer(owner: owner, mint: mint, program: tokenProgram).text)
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The Ed25519 signature (base58) of a message (0x-hex) by the key in $ARBITER_SOLANA_KEY; --jsonl: {\"seed\", \"message\"} per line.")
        @OptionGroup var key: SolanaKeyOptions
        @Argument var message: String?
        @Flag(name: .long) var jsonl = false

        static func answer(_ k: Keypair, message: String) throws -> JSONValue {
            let m = try Util.hexBytes(message, "message")
            let sig = try k.sign(m)
            return .object([("signer", .string(k.publicKey.base58)), ("signature", .string(Base58.encode(sig))),
                            ("verifies", .bool(Keypair.verify(sig, message: m, signer: k.publicKey)))])
        }

        func run() throws {
            if jsonl {
                return Solana.lines { text in try Self.answer(try SolanaKeyOptions.keypair(try Solana.field(text, "seed")), message: try Solana.field(text, "message")) }
            }
            guard let message else { throw CLIError("sign needs a message (or --jsonl)") }
            Output.line(try Self.answer(try key.load(), message: message).text)
        }
    }
}

/// A Solana signing key: a 32-byte Ed25519 seed in 0x-hex, from `ARBITER_SOLANA_KEY` or
/// `--key-file`; never an argument, never echoed.
struct SolanaKeyOptions: ParsableArguments {
    static let environmentVariable = "ARBITER_SOLANA_KEY"
    @Option(name: .long, help: "A file holding the 0x-hex 32-byte Ed25519 seed (instead of $ARBITER_SOLANA_KEY).")
    var keyFile: String?

    func load() throws -> Keypair {
        if let keyFile { return try Self.keypair(String(decoding: try Input.file(keyFile), as: UTF8.self), source: keyFile) }
        guard let env = getenv(Self.environmentVariable) else { throw CLIError("no signing key: set \(Self.environmentVariable) or pass --key-file <path>") }
        return try Self.keypair(String(cString: env), source: "$" + Self.environmentVariable)
    }

    static func keypair(_ text: String, source: String = "seed") throws -> Keypair {
        guard let seed = try? Hex.decodePrefixed(text.trimmingCharacters(in: .whitespacesAndNewlines)), let k = try? Keypair(seed: seed) else {
            throw CLIError("\(source): not an Ed25519 seed (expected 32 bytes of 0x-hex)")
        }
        return k
    }
}
