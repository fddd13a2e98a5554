import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `arbiter` command: the searcher and its toolbox.
struct Arbiter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arbiter",
        abstract: "Multi-chain DEX arbitrage and MEV searcher.",
        subcommands: [Util.self, Chains.self, Config.self, Watch.self, Run.self, Lab.self, Replay.self, Backtest.self, Bench.self]
    )
}

/// Entry point. Bad input must end in exit status 1 and one line on stderr, which is
/// stricter than ArgumentParser's default (usage text, exit 64), so errors are routed here.
@main
enum Main {
    static func main() async {
        do {
            var command = try Arbiter.parseAsRoot()
            if var live = command as? AsyncParsableCommand {
                try await live.run()
            } else {
                try command.run()
            }
            Output.flush()
        } catch {
            Output.flush()
            if let code = error as? ExitCode {
                exit(code.rawValue)  // the command already said what went wrong
            }
            if Arbiter.exitCode(for: error) == .success {
                Arbiter.exit(withError: error)  // --help, --version: ArgumentParser prints them
            }
            let described: String
            if let e = error as? CLIError {
                described = e.message
            } else if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                described = Arbiter.message(for: error)  // usage errors, worded by ArgumentParser
            } else {
                described = String(describing: error)  // our libraries' errors say what was wrong
            }
            var message = described
            if message.hasPrefix("Unknown option '-"), message.dropFirst(17).first?.isNumber == true {
                message += " (put negative numbers after --)"
            }
            let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
            Output.standardError("error: \(line)")
            exit(1)
        }
    }
}

/// A user-facing error of the command-line tool.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
