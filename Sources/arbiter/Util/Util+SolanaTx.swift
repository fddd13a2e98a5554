import ArgumentParser
import EVMCodec
import EVMPrimitives
import Foundation
import SolanaPrimitives

extension Util {
    /// `solana build-tx --jsonl`: one transaction per line of standard input, compiled and signed.
    struct SolanaBuildTx: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-tx", abstract: "Compile and sign Solana transactions described as JSON, one per line of standard input.",
            discussion: """
                Each line: {"payer": "0x<seed>", "signers": ["0x<seed>", …], "blockhash": base58, "instructions": \
                [{"programId", "accounts": [{"pubkey", "isSigner", "isWritable"}], "data": "0x…"}], "tables": null (legacy) \
                or [{"key", "addresses": […]}] (v0)}. Answer: {"tx": "0x…", "message": "0x…", "id": first signature}, or {"error"}. \
                Seeds come on standard input only.
                """)
        @Flag(name: .long) var jsonl = false

        func run() throws {
            guard jsonl else { throw CLIError("build-tx reads JSON lines from standard input: pass --jsonl") }
            Solana.lines { text in
                let v = try JSONValue.parse(Array(text.utf8))
                let payer = try SolanaKeyOptions.keypair(v["payer"]?.stringValue ?? "", source: "payer")
                let signers = try (v["signers"]?.arrayValue ?? []).map { try SolanaKeyOptions.keypair($0.stringValue ?? "", source: "signer") }
                guard let hash = v["blockhash"]?.stringValue, let blockhash = Base58.decode(hash) else { throw CLIError("blockhash: not base58") }
                let instructions = try (v["instructions"]?.arrayValue ?? []).map(Self.instruction)
                var tables: [AddressLookupTable]? = nil
                if let list = v["tables"]?.arrayValue {
                    tables = try list.map { t in
                        AddressLookupTable(key: try Solana.key(t["key"]?.stringValue ?? "", "table"),
                                           addresses: try (t["addresses"]?.arrayValue ?? []).map { try Solana.key($0.stringValue ?? "", "address") })
                    }
                }
                let m = try Message.compile(payer: payer.publicKey, instructions: instructions, recentBlockhash: blockhash, tables: tables)
                let tx = try SolanaTransaction(message: m, signers: [payer] + signers)
                return .object([("tx", .string(Hex.encode(tx.serialized()))), ("message", .string(Hex.encode(m.serialized()))), ("id", .string(tx.id))])
            }
        }

        static func instruction(_ v: JSONValue) throws -> Instruction {
            let accounts = try (v["accounts"]?.arrayValue ?? []).map { a in
                AccountMeta(try Solana.key(a["pubkey"]?.stringValue ?? "", "account"), signer: a["isSigner"] == .bool(true), writable: a["isWritable"] == .bool(true))
            }
            return Instruction(programId: try Solana.key(v["programId"]?.stringValue ?? "", "programId"), accounts: accounts,
                               data: try Util.hexBytes(v["data"]?.stringValue ?? "0x", "data"))
        }
    }

    /// `solana decode-tx`: a transaction's bytes as JSON, decoded strictly, signatures verified.
    struct SolanaDecodeTx: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode-tx", abstract: "Decode a Solana transaction (0x-hex) strictly: message, accounts, instructions, lookups, signatures.")
        @Argument var transaction: String?
        @Flag(name: .long, help: "One transaction (0x-hex) per line of standard input.") var jsonl = false

        static func answer(_ text: String) throws -> JSONValue {
            let tx = try context("transaction") { try SolanaTransaction(bytes: try Util.hexBytes(text, "transaction")) }
            let m = tx.message
            func n(_ v: Int) -> JSONValue { .number(String(v)) }
            let ixs: [JSONValue] = m.instructions.map { ix in
                .object([("programIdIndex", n(Int(ix.programIdIndex))), ("accounts", .array(ix.accounts.map { n(Int($0)) })), ("data", .string(Hex.encode(ix.data)))])
            }
            let lookups: [JSONValue] = m.lookups.map { l in
                .object([("table", .string(l.table.base58)), ("writable", .array(l.writable.map { n(Int($0)) })), ("readonly", .array(l.readonly.map { n(Int($0)) }))])
            }
            return .object([
                ("version", .string(m.version == .v0 ? "v0" : "legacy")),
                ("header", .array([n(Int(m.header.numRequiredSignatures)), n(Int(m.header.numReadonlySigned)), n(Int(m.header.numReadonlyUnsigned))])),
                ("accountKeys", .array(m.accountKeys.map { .string($0.base58) })), ("recentBlockhash", .string(Base58.encode(m.recentBlockhash))),
                ("instructions", .array(ixs)), ("lookups", .array(lookups)), ("signatures", .array(tx.signatures.map { .string(Base58.encode($0)) })),
                ("verifies", .bool(tx.verify())), ("size", n(tx.serialized().count)),
            ])
        }

        func run() throws {
            if jsonl { return Solana.lines(Self.answer) }
            guard let transaction else { throw CLIError("decode-tx needs a transaction (or --jsonl)") }
            Output.line(try Self.answer(transaction).text)
        }
    }
}

extension Util {
    /// `solana build-transfer`: a signed System transfer from the key in $ARBITER_SOLANA_KEY, with
    /// an optional compute budget and an optional Jito tip in the same transaction.
    struct SolanaBuildTransfer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-transfer", abstract: "A signed System transfer (v0) from the key in $ARBITER_SOLANA_KEY: {\"tx\": base64, \"id\", \"fee\"}.")
        @OptionGroup var key: SolanaKeyOptions
        @Option(name: .long, help: "The recipient (base58).") var to: String
        @Option(name: .long, help: "Lamports to send.") var lamports: UInt64
        @Option(name: .long, help: "A recent blockhash (base58).") var blockhash: String
        @Option(name: .long, help: "SetComputeUnitLimit (units).") var unitLimit: UInt32?
        @Option(name: .long, help: "SetComputeUnitPrice (micro-lamports per unit).") var unitPrice: UInt64?
        @Option(name: .long, help: "A Jito tip account (base58) and, with --tip-lamports, the tip.") var tipAccount: String?
        @Option(name: .long) var tipLamports: UInt64?
        @Flag(name: .long, help: "A legacy message instead of v0.") var legacy = false

        func run() throws {
            let k = try key.load()
            guard let hash = Base58.decode(blockhash), hash.count == 32 else { throw CLIError("--blockhash: not a base58 32-byte hash") }
            var ixs: [Instruction] = []
            if let unitLimit { ixs.append(ComputeBudget.setComputeUnitLimit(unitLimit)) }
            if let unitPrice { ixs.append(ComputeBudget.setComputeUnitPrice(unitPrice)) }
            ixs.append(SystemProgram.transfer(from: k.publicKey, to: try Solana.key(to, "to"), lamports: lamports))
            switch (tipAccount, tipLamports) {
            case (let account?, let tip?):
                guard tip >= 1_000 else { throw CLIError("--tip-lamports: Jito's minimum tip is 1000 lamports") }
                ixs.append(SystemProgram.transfer(from: k.publicKey, to: try Solana.key(account, "tip account"), lamports: tip))
            case (nil, nil): break
            default: throw CLIError("--tip-account and --tip-lamports go together")
            }
            let m = try Message.compile(payer: k.publicKey, instructions: ixs, recentBlockhash: hash, tables: legacy ? nil : [])
            let tx = try SolanaTransaction(message: m, signers: [k])
            // The fee as the runtime charges it: the default limit is 3,000 units per builtin instruction.
            let limit = unitLimit ?? UInt32(ixs.count * 3_000)
            guard let priority = ComputeBudget.priorityFee(limit: limit, price: unitPrice ?? 0) else { throw CLIError("the priority fee overflows 64 bits") }
            Output.line(JSONValue.object([("tx", .string(Data(tx.serialized()).base64EncodedString())), ("id", .string(tx.id)),
                                          ("fee", .number(String(5_000 + priority))), ("size", .number(String(tx.serialized().count)))]).text)
        }
    }
}
