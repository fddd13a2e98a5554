import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import Pipeline

extension BacktestRun {
    private func n(_ v: Int) -> JSONValue { .number(String(v)) }
    private func d(_ v: Double) -> JSONValue { .number(String(format: "%.6f", v)) }

    var recordingJSON: JSONValue {
        .object([("events", n(report.events)), ("chunks", n(report.chunks)), ("files", n(report.files)),
                 ("skipped", .array(report.skipped.map { .string($0.description) }))])
    }

    var json: JSONValue {
        let groups = { (list: [(key: String, trades: Int, usd: Double)]) in
            JSONValue.array(list.map { .object([("name", .string($0.key)), ("trades", n($0.trades)), ("usd", d($0.usd))]) })
        }
        let assets = byAsset.map { a -> JSONValue in
            let (symbol, decimals) = token(a.chainID, a.asset)
            return .object([("chain", .string(chainNames[a.chainID] ?? String(a.chainID))), ("asset", .string(a.asset.checksummed)),
                            ("symbol", .string(symbol)), ("decimals", n(decimals)), ("trades", n(a.trades)),
                            ("profit", .string(a.profit.description)), ("net", .string(a.net.description))])
        }
        let list = trades.map { t -> JSONValue in
            .object([("opportunity", .string(Hex.encode(t.id))), ("chain", .number(String(t.chainID))), ("kind", .string(t.kind.name)),
                     ("flashSource", .string(t.flashSource.name)), ("asset", .string(t.asset.checksummed)), ("amountIn", .string(t.amountIn.description)),
                     ("sized", .number(String(t.sized))), ("landed", .number(String(t.landed))), ("profit", .string(t.profit.description)),
                     ("costInAsset", .string(t.costInAsset.description)), ("net", .string(t.net.description)), ("gasUnits", .number(String(t.gasUnits))),
                     ("gasPrice", .string(t.gasPrice.description)), ("l1Fee", .string(t.l1FeeWei.description)), ("usd", d(t.usd)),
                     ("latencyMs", d(Double(t.latency) / 1e6)), ("at", .number(String(t.at)))])
        }
        return .object([
            ("name", .string(name)), ("seconds", d(seconds)), ("offered", n(backtester.offered)), ("trades", n(trades.count)),
            ("notSimulated", n(notSimulated.count)),
            ("hitRate", d(hitRate)), ("usd", d(usd)),
            ("refusals", .object(backtester.refusals.sorted { $0.key < $1.key }.map { ($0.key, n($0.value)) })),
            ("byChain", groups(byChain)), ("byStrategy", groups(byStrategy)), ("byAsset", .array(assets)),
            ("latencyMs", .object(latency.map { ($0.stage, .object(zip(["p50", "p90", "p99"], $0.ms).map { ($0.0, d($0.1)) })) })),
            ("withinBudget", settings.latencyBudgetMs.map { b in n(trades.filter { $0.latency <= UInt64(b) * 1_000_000 }.count) } ?? .null),
            ("tradeList", .array(list)),
        ])
    }

    var lines: [String] {
        var out = ["\(name): \(backtester.offered) opportunities, \(trades.count) traded (hit rate \(String(format: "%.1f", hitRate * 100)) %), "
                   + String(format: "net $%.2f", usd) + String(format: " (%.3f s)", seconds)]
        for a in byAsset {
            let (symbol, decimals) = token(a.chainID, a.asset)
            out.append("  \(chainNames[a.chainID] ?? String(a.chainID)) \(symbol): \(a.trades) trades, kept \(Self.decimal(a.profit, decimals)), "
                       + "net of gas \(Self.decimal(a.net, decimals))")
        }
        for s in byStrategy { out.append("  \(s.key): \(s.trades) trades, " + String(format: "$%.2f", s.usd)) }
        let refused = backtester.refusals.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        out.append("  refused: \(refused.isEmpty ? "none" : refused)" + (notSimulated.isEmpty ? "" : "; \(notSimulated.count) CEX–DEX and CoW backrun opportunities not simulated (an exchange leg, a settlement ahead)"))
        out.append("  latency p50/p90/p99 ms: " + latency.map { "\($0.stage) " + $0.ms.map { String(format: "%.2f", $0) }.joined(separator: "/") }.joined(separator: "; "))
        return out
    }
}
