import ArgumentParser
import EVMCodec
import EVMPrimitives

extension Util {
    struct RLPEncode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rlp-encode",
            abstract: "RLP-encode JSON made of 0x-hex strings and nested arrays, e.g. '[\"0x01\",[\"0x\"]]'.")

        @Argument(help: "The JSON structure.")
        var json: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let item = try context("rlp-encode") { try RLPItem(json: try JSONValue.parse(json)) }
            let data = Hex.encode(RLP.encode(item))
            output.emit(data, [("data", .string(data))])
        }
    }

    struct RLPDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rlp-decode",
            abstract: "Decode strict RLP and print it as JSON (0x-hex strings and arrays).")

        @Argument(help: "0x-hex RLP.")
        var data: String

        func run() throws {
            let bytes = try hexBytes(data, "data")
            let item = try context("rlp-decode") { try RLP.decode(bytes) }
            Output.line(item.json.text)
        }
    }
}
