import ArgumentParser
import EVMCodec
import EVMPrimitives

/// `arbiter util`: a cast-like toolbox over the EVM primitives, codecs and signing.
struct Util: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "EVM utilities: hashing, ABI and RLP coding, checksums, CREATE2, signing, pool quotes and sizing.",
        subcommands: [
            Keccak.self, Sig.self, Topic.self, ABIEncode.self, Calldata.self, ABIDecode.self,
            ToChecksum.self, Create2.self, RLPEncode.self, RLPDecode.self,
            AddressOf.self, SignTx.self, SignMessage.self, DecodeTx.self, Quote.self, Optimize.self, Stats.self, CowDecode.self, Solana.self,
        ]
    )
}

/// The `--json` flag shared by the util commands.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print structured JSON instead of plain text.")
    var json = false

    /// Prints `plain`, or with `--json` the object built from `members`.
    func emit(_ plain: @autoclosure () -> String, _ members: @autoclosure () -> [(key: String, value: JSONValue)]) {
        Output.line(json ? JSONValue.object(members()).text : plain())
    }
}

extension Util {
    /// Wraps a library error so that the message names what was being parsed.
    static func context<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("\(what): \(error)")
        }
    }

    /// Bytes from `0x`-hex text.
    static func hexBytes(_ text: String, _ what: String) throws -> [UInt8] {
        try context(what) { try Hex.decodePrefixed(text) }
    }

    /// A 32-byte word from `0x`-hex (exactly 32 bytes) or a decimal number.
    static func word(_ text: String, _ what: String) throws -> UInt256 {
        try context(what) {
            if text.hasPrefix("0x") || text.hasPrefix("0X") {
                let b = try Hex.decode(text)
                guard b.count == 32 else { throw CLIError("\(what): expected 32 bytes of 0x-hex, got \(b.count)") }
                return b.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
            }
            return try UInt256(decimal: text)
        }
    }

    /// The parameter types named by `text`: a list `(uint256,address)` or a signature
    /// `f(uint256,address)`. With `outputs`, a signature's `returns (…)`/`f(…)(…)` list is used when present.
    static func types(_ text: String, outputs: Bool = false) throws -> [ABIType] {
        try context("signature") {
            let trimmed = text.trimmingPrefix(while: \.isWhitespace)
            if trimmed.hasPrefix("(") || trimmed.hasPrefix("tuple(") {
                return try ABIType.parseList(text)
            }
            let f = try FunctionSignature(text)
            return (outputs && !f.outputs.isEmpty ? f.outputs : f.inputs).map(\.type)
        }
    }

    /// Parses command-line values against `types`, with a message naming the argument.
    static func values(_ args: [String], as types: [ABIType]) throws -> [ABIValue] {
        guard args.count == types.count else {
            throw CLIError("expected \(types.count) argument\(types.count == 1 ? "" : "s") for (\(types.map(\.canonical).joined(separator: ","))), got \(args.count)")
        }
        return try zip(args, types).enumerated().map { i, pair in
            try context("argument \(i + 1)") { try ABIValue.parse(pair.0, as: pair.1) }
        }
    }
}
