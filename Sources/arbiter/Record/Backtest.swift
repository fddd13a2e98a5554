import ArgumentParser
import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Opportunities
import Pipeline
import Recording
import Registry

/// `arbiter backtest DIR`: the recording replayed through detection again (`ReplaySession`), and
/// each opportunity found executed in simulation on the recorded state (`Backtester`): P&L per
/// chain, strategy and asset, hit rate, refusals, latency; with `--config` a second run with
/// that configuration beside the recorded one; with `--journal` the live trades reconciled.
struct Backtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backtest a recording: detection again, execution simulated on the recorded state; P&L per chain, strategy and asset, two configurations side by side.")

    @Argument(help: "The recording's directory (arbiter lab|run --record DIR).")
    var directory: String
    @Option(name: .long, help: "A candidate configuration (TOML: a [backtest] table and registry overrides), run beside the recorded one.")
    var config: String?
    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false
    @Option(name: .long, help: "Write an HTML report (charts: cumulative P&L, opportunity sizes, latency) to this file.")
    var html: String?
    @Option(name: .long, help: "The live run's journal: each trade it realized, valued again on the recorded state.")
    var journal: String?

    func run() throws {
        var runs = [try BacktestRun.simulate(directory, settings: BacktestSettings(), name: "recorded")]
        if let config {
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch { throw CLIError("\(config): cannot read it (\(error.localizedDescription))") }
            runs.append(try BacktestRun.simulate(directory, settings: try BacktestSettings.parse(text, file: config), name: config))
        }
        let live = try journal.map { try LiveReconciliation(journal: $0, baseline: runs[0]) }
        if let html {
            do { try BacktestReport.html(runs, live: live).write(toFile: html, atomically: true, encoding: .utf8) } catch {
                throw CLIError("\(html): cannot write the report (\(error.localizedDescription))")
            }
        }
        if json {
            var members: [(String, JSONValue)] = [("recording", runs[0].recordingJSON), ("runs", .array(runs.map(\.json)))]
            if let live { members.append(("live", live.json)) }
            Output.lineNow(JSONValue.object(members).text)
            return
        }
        Output.lineNow("replayed \(runs[0].report.events) events (\(runs[0].report.chunks) chunks); \(runs[0].report.skipped.count) skipped")
        for r in runs { for line in r.lines { Output.lineNow(line) } }
        if let live { Output.lineNow(live.line) }
    }
}
