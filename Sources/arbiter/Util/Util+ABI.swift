import ArgumentParser
import EVMCodec
import EVMPrimitives

extension Util {
    struct ABIEncode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "abi-encode",
            abstract: "ABI-encode arguments (no selector). Put values after -- so that negative integers parse.")

        @Argument(help: "A signature \"f(uint256,address)\" or a type list \"(uint256,address)\".")
        var signature: String
        @Argument(help: "Values: integers, addresses, true/false, 0x-hex bytes, strings, [a,b] arrays, (a,b) tuples.")
        var values: [String] = []

        @OptionGroup var output: OutputOptions

        func run() throws {
            let ts = try types(signature)
            let vs = try Util.values(values, as: ts)
            let data = Hex.encode(try context("encoding") { try ABI.encode(vs, as: ts) })
            output.emit(data, [("data", .string(data))])
        }
    }

    struct Calldata: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calldata: the selector followed by the ABI-encoded arguments.")

        @Argument(help: "A function signature, e.g. \"transfer(address,uint256)\".")
        var signature: String
        @Argument(help: "Values, as for abi-encode.")
        var values: [String] = []

        @OptionGroup var output: OutputOptions

        func run() throws {
            let f = try context("signature") { try FunctionSignature(signature) }
            let vs = try Util.values(values, as: f.inputs.map(\.type))
            let data = Hex.encode(try context("encoding") { try f.calldata(vs) })
            output.emit(data, [("data", .string(data))])
        }
    }

    struct ABIDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "abi-decode",
            abstract: "Decode ABI data: one value per line, or a JSON array with --json.",
            discussion: """
                Types are a list "(uint256,address)" or a signature; a signature's return list \
                ("f(address)(uint256)" or "f(address) returns (uint256)") is used when it has one. \
                With --json integers are decimal strings, addresses checksummed, bytes 0x-hex, \
                arrays and tuples JSON arrays.
                """)

        @Argument(help: "The types, e.g. \"(uint256,address[],(bool,bytes))\".")
        var types: String
        @Argument(help: "0x-hex data.")
        var data: String
        @Flag(name: .long, help: "Calldata: check and strip the selector of the signature first.")
        var input = false

        @OptionGroup var output: OutputOptions

        func run() throws {
            let bytes = try hexBytes(data, "data")
            let values: [ABIValue]
            if input {
                let f = try context("signature") { try FunctionSignature(types) }
                values = try context("decoding") { try f.decodeCalldata(bytes) }
            } else {
                let ts = try Util.types(types, outputs: true)
                values = try context("decoding") { try ABI.decode(ts, from: bytes) }
            }
            if output.json {
                Output.line("[" + values.map(\.json).joined(separator: ",") + "]")
            } else {
                for v in values { Output.line(v.displayText) }
            }
        }
    }
}
