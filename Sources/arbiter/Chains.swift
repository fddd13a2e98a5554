import ArgumentParser
import EVMCodec
import EVMPrimitives
import Foundation
import Registry

/// Options shared by the registry commands: the user's config file.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "An arbiter.toml with overrides (add or disable chains, DEXs, tokens, RPC URLs).")
    var config: String?

    /// The bundled registry merged with `--config`, validated.
    func registry() throws -> Registry {
        let base = try Registry.bundled()
        guard let config else { return base }
        let text = String(decoding: try Input.file(config), as: UTF8.self)
        return try base.applying(overrides: text, file: config)
    }
}

struct Chains: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The chains Arbiter knows: partitions, DEXs, tokens, flash-loan sources, MEV protection.")

    @Argument(help: "A chain name for its details.")
    var chain: String?
    @Flag(name: .long, help: "Print JSON.")
    var json = false
    @OptionGroup var config: ConfigOptions

    func run() throws {
        let registry = try config.registry()
        if let chain {
            guard let c = registry.chain(chain) else {
                throw CLIError("unknown chain \"\(chain)\" (known: \(registry.chains.map(\.name).joined(separator: ", ")))")
            }
            if json {
                Output.line(RegistryJSON.chainDetail(c, registry).text)
            } else {
                RegistryText.chainDetail(c, registry).forEach(Output.line)
            }
        } else if json {
            Output.line(JSONValue.array(registry.chains.map { RegistryJSON.chainSummary($0, registry) }).text)
        } else {
            RegistryText.table(registry).forEach(Output.line)
        }
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Configuration checks.", subcommands: [Validate.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the registry and an arbiter.toml: silent with exit 0, or one error per line and exit 1.")

        @OptionGroup var config: ConfigOptions

        func run() throws {
            do {
                _ = try config.registry()
            } catch let e as RegistryError {
                for issue in e.issues { Output.standardError(issue.description) }
                Output.flush()
                throw ExitCode(1)
            }
        }
    }
}
