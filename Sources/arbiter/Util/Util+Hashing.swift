import ArgumentParser
import EVMCodec
import EVMPrimitives

extension Util {
    struct Keccak: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "keccak256 of 0x-hex bytes or of UTF-8 text (standard input when no argument is given).")

        @Argument(help: "0x-hex bytes, or any other text (hashed as UTF-8).")
        var input: String?

        @OptionGroup var output: OutputOptions

        func run() throws {
            let bytes: [UInt8]
            if let input {
                if (input.hasPrefix("0x") || input.hasPrefix("0X")), let b = try? Hex.decode(input) {
                    bytes = b
                } else {
                    bytes = Array(input.utf8)
                }
            } else {
                bytes = Input.standardInput()
            }
            let hash = Hex.encode(Keccak256.hash(bytes))
            output.emit(hash, [("hash", .string(hash))])
        }
    }

    struct Sig: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The 4-byte selector of a function signature.")

        @Argument(help: "A function signature, e.g. \"swap(uint256,uint256,address,bytes)\".")
        var signature: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let f = try context("signature") { try FunctionSignature(signature) }
            let selector = Hex.encode(f.selector)
            output.emit(selector, [("selector", .string(selector)), ("signature", .string(f.canonical))])
        }
    }

    struct Topic: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The topic0 of an event signature.")

        @Argument(help: "An event signature, e.g. \"Transfer(address indexed from, address indexed to, uint256 value)\".")
        var signature: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let e = try context("event signature") { try EventSignature(signature) }
            let topic = Hex.encode(e.topic0.bigEndianBytes)
            output.emit(topic, [("topic0", .string(topic)), ("signature", .string(e.canonical))])
        }
    }

    struct ToChecksum: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The EIP-55 checksummed form of an address.")

        @Argument(help: "An address; mixed case must carry a valid checksum.")
        var address: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let a = try context("address") { try Address(hex: address) }
            output.emit(a.checksummed, [("address", .string(a.checksummed))])
        }
    }

    struct Create2: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The CREATE2 address keccak256(0xff ‖ deployer ‖ salt ‖ initCodeHash)[12:].")

        @Argument(help: "The deploying contract (e.g. a factory).")
        var deployer: String
        @Argument(help: "The salt: 32 bytes of 0x-hex, or a decimal number.")
        var salt: String
        @Argument(help: "keccak256 of the init code: 32 bytes of 0x-hex.")
        var initCodeHash: String

        @OptionGroup var output: OutputOptions

        func run() throws {
            let d = try context("deployer") { try Address(hex: deployer) }
            let s = try word(salt, "salt")
            let h = try word(initCodeHash, "init code hash")
            let a = Address.create2(deployer: d, salt: s, initCodeHash: h)
            output.emit(a.checksummed, [("address", .string(a.checksummed))])
        }
    }
}
