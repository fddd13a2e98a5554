import EVMCodec
import EVMPrimitives
import Execution
import Foundation

/// The live run's landed trades (its journal) valued again on the recorded state at the moment
/// each was detected: what the backtest says the executor keeps against what it realized.
struct LiveReconciliation {
    struct Pair {
        var opportunity: String
        var chain: UInt64
        var realized: Int256
        /// nil: the opportunity was not found again (or its path did not quote on the state), or
        /// it is a CEX–DEX spread (`notSimulated`).
        var backtest: Int256?
        var notSimulated: Bool
        /// The recorded configuration's simulation traded it too.
        var simulated: Bool
    }

    var pairs: [Pair] = []

    init(journal path: String, baseline: BacktestRun) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such journal") }
        let receipts = try Journal(path: path).receipts().filter { $0.status == 1 }
        let simulated = Set(baseline.trades.map { Hex.encode($0.id) })
        for r in receipts.sorted(by: { ($0.block, $0.txHash) < ($1.block, $1.txHash) }) {
            let id = (try? Hex.decode(r.opportunity)) ?? []
            pairs.append(Pair(opportunity: r.opportunity, chain: r.chain, realized: r.realizedProfit, backtest: baseline.backtester.valuations[id],
                              notSimulated: baseline.notSimulated.contains(id), simulated: simulated.contains(r.opportunity)))
        }
    }

    var equal: Int { pairs.filter { $0.backtest == $0.realized }.count }
    var missing: Int { pairs.filter { $0.backtest == nil && !$0.notSimulated }.count }
    var cexDex: Int { pairs.filter(\.notSimulated).count }

    var json: JSONValue {
        .object([("trades", .number(String(pairs.count))), ("equal", .number(String(equal))), ("missing", .number(String(missing))),
                 ("cexDex", .number(String(cexDex))),
                 ("simulated", .number(String(pairs.filter(\.simulated).count))),
                 ("pairs", .array(pairs.map { p in
                     .object([("opportunity", .string(p.opportunity)), ("chain", .number(String(p.chain))), ("realized", .string(p.realized.description)),
                              ("backtest", p.backtest.map { .string($0.description) } ?? .null), ("simulated", .bool(p.simulated))])
                 }))])
    }

    var line: String {
        "live: \(pairs.count) trades landed; valued again on the recorded state: \(equal) equal to the wei, \(pairs.count - equal - missing - cexDex) different, "
            + "\(missing) not found again" + (cexDex > 0 ? ", \(cexDex) CEX–DEX legs (not simulated)" : "")
            + "; the recorded configuration's simulation traded \(pairs.filter(\.simulated).count) of them"
    }
}
