import ArgumentParser
import EVMCodec
import EVMPrimitives
import SolanaPrimitives

extension Util {
    /// `arbiter util solana …`: keys, program-derived and associated token addresses, signatures.
    struct Solana: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Solana keys and addresses: keygen-address, pda, ata, sign (each with --jsonl for batches).",
            subcommands: [KeygenAddress.self, PDA.self, ATA.self, Sign.self])

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

        static func key(_ text: String, _ what: String) throws -> PublicKey {
            try context(what) { try PublicKey(base58: text) }
        }
    }

    struct KeygenAddress: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keygen-address", abstract: "The address of the Ed25519 key with this 32-byte seed (0x-hex).")
        @Argument var seed: String?
        @Flag(name: .long, help: "One seed per line of standard input.") var jsonl = false

        func run() throws {
            let answer = { (s: String) throws -> JSONValue in
                .object([("address", .string(try Keypair(seed: try Util.hexBytes(s, "seed")).publicKey.base58))])
            }
            if jsonl { return Solana.lines(answer) }
            guard let seed else { throw CLIError("keygen-address needs a seed (or --jsonl)") }
            Output.line(try answer(seed).text)
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
            abstract: "The Ed25519 signature (base58) of a message (0x-hex) by the key with a 32-byte seed; --jsonl: {\"seed\", \"message\"} per line.")
        @Argument var seed: String?
        @Argument var message: String?
        @Flag(name: .long) var jsonl = false

        static func answer(seed: String, message: String) throws -> JSONValue {
            let k = try Keypair(seed: try Util.hexBytes(seed, "seed"))
            let m = try Util.hexBytes(message, "message")
            let sig = try k.sign(m)
            return .object([("signer", .string(k.publicKey.base58)), ("signature", .string(Base58.encode(sig))),
                            ("verifies", .bool(Keypair.verify(sig, message: m, signer: k.publicKey)))])
        }

        func run() throws {
            if jsonl {
                return Solana.lines { text in
                    let v = try JSONValue.parse(Array(text.utf8))
                    guard let s = v["seed"]?.stringValue, let m = v["message"]?.stringValue else { throw CLIError("needs seed and message") }
                    return try Self.answer(seed: s, message: m)
                }
            }
            guard let seed, let message else { throw CLIError("sign needs a seed and a message (or --jsonl)") }
            Output.line(try Self.answer(seed: seed, message: message).text)
        }
    }
}
