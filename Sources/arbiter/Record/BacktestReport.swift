import EVMCodec
import Foundation

/// The backtest as one self-contained HTML page (no script, no outside file): the runs side by
/// side (summary, P&L per chain, strategy and asset, refusals, latency percentiles), the live
/// trades reconciled, and three SVG charts drawn here: cumulative P&L, the distribution of
/// opportunity sizes, and head → decision latency.
enum BacktestReport {
    static let colors = ["#2563eb", "#d97706", "#059669", "#dc2626"]

    static func html(_ runs: [BacktestRun], live: LiveReconciliation?) -> String {
        var body = "<h1>Arbiter backtest</h1>\n<p>\(runs[0].report.events) recorded events, \(runs[0].report.chunks) chunks"
            + (runs[0].report.skipped.isEmpty ? "" : ", \(runs[0].report.skipped.count) skipped (damaged)") + ".</p>\n"
        body += legend(runs)
        body += summary(runs)
        body += "<h2>Cumulative P&amp;L (USD)</h2>\n" + cumulative(runs)
        body += "<h2>Opportunity sizes (gross USD, log scale)</h2>\n" + histogram(id: "sizes", runs.map { $0.sizes.filter { $0 > 0 }.map { log10($0) } }, runs, unit: "log₁₀ $")
        body += "<h2>Head → decision latency (ms)</h2>\n" + histogram(id: "latency", runs.map { $0.trades.map { Double($0.latency) / 1e6 } }, runs, unit: "ms")
        for r in runs { body += assets(r) }
        if let live { body += reconciliation(live) }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Arbiter backtest</title>
            <style>
            body{font:14px system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
            table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd}
            .swatch{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
            </style></head><body>
            \(body)</body></html>
            """
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func legend(_ runs: [BacktestRun]) -> String {
        "<p id=\"legend\">" + runs.enumerated().map { i, r in
            "<span class=\"swatch\" style=\"background:\(colors[i % colors.count])\"></span>\(escape(r.name))"
        }.joined() + "</p>\n"
    }

    static func summary(_ runs: [BacktestRun]) -> String {
        func row(_ label: String, _ cell: (BacktestRun) -> String) -> String {
            "<tr><th>\(label)</th>" + runs.map { "<td>\(escape(cell($0)))</td>" }.joined() + "</tr>\n"
        }
        var t = "<table id=\"summary\"><tr><th></th>" + runs.map { "<th>\(escape($0.name))</th>" }.joined() + "</tr>\n"
        t += row("opportunities") { String($0.backtester.offered) }
        t += row("traded") { String($0.trades.count) }
        t += row("hit rate") { String(format: "%.1f %%", $0.hitRate * 100) }
        t += row("net USD") { String(format: "%.2f", $0.usd) }
        let chains = Set(runs.flatMap { $0.byChain.map(\.key) }).sorted()
        for c in chains { t += row("chain \(c)") { r in r.byChain.first { $0.key == c }.map { "\($0.trades) · $" + String(format: "%.2f", $0.usd) } ?? "-" } }
        let strategies = Set(runs.flatMap { $0.byStrategy.map(\.key) }).sorted()
        for s in strategies { t += row(s) { r in r.byStrategy.first { $0.key == s }.map { "\($0.trades) · $" + String(format: "%.2f", $0.usd) } ?? "-" } }
        let reasons = Set(runs.flatMap { $0.backtester.refusals.keys }).sorted()
        for reason in reasons { t += row("refused \(reason)") { String($0.backtester.refusals[reason] ?? 0) } }
        for (i, stage) in runs[0].latency.map(\.stage).enumerated() {
            t += row("\(stage) p50/p90/p99 ms") { $0.latency[i].ms.map { String(format: "%.2f", $0) }.joined(separator: " / ") }
        }
        return t + "</table>\n"
    }

    static func assets(_ r: BacktestRun) -> String {
        var t = "<h2>P&amp;L per asset: \(escape(r.name))</h2>\n<table class=\"assets\"><tr><th>chain</th><th>asset</th><th>trades</th><th>kept</th><th>net of gas</th></tr>\n"
        for a in r.byAsset {
            let (symbol, decimals) = r.token(a.chainID, a.asset)
            t += "<tr><td>\(escape(r.chainNames[a.chainID] ?? String(a.chainID)))</td><td>\(escape(symbol))</td><td>\(a.trades)</td>"
                + "<td>\(BacktestRun.decimal(a.profit, decimals))</td><td>\(BacktestRun.decimal(a.net, decimals))</td></tr>\n"
        }
        return t + "</table>\n"
    }

    static func reconciliation(_ live: LiveReconciliation) -> String {
        var t = "<h2>Live trades valued again</h2>\n<p id=\"live-summary\">\(escape(live.line))</p>\n"
        t += "<table id=\"live\"><tr><th>opportunity</th><th>chain</th><th>realized</th><th>backtest</th></tr>\n"
        for p in live.pairs {
            t += "<tr><td>\(p.opportunity.prefix(18))…</td><td>\(p.chain)</td><td>\(p.realized)</td><td>\(p.backtest.map(\.description) ?? "-")</td></tr>\n"
        }
        return t + "</table>\n"
    }

    static let (width, height, pad) = (900.0, 280.0, 40.0)

    static func axes(_ id: String, x: (Double, Double), y: (Double, Double), unit: String) -> String {
        let f = { (v: Double) in String(format: abs(v) >= 100 ? "%.0f" : "%.3g", v) }
        return "<line x1=\"\(pad)\" y1=\"\(height - pad)\" x2=\"\(width - 10)\" y2=\"\(height - pad)\" stroke=\"#999\"/>"
            + "<line x1=\"\(pad)\" y1=\"10\" x2=\"\(pad)\" y2=\"\(height - pad)\" stroke=\"#999\"/>"
            + "<text x=\"\(pad)\" y=\"\(height - 22)\" font-size=\"11\">\(f(x.0))</text>"
            + "<text x=\"\(width - 60)\" y=\"\(height - 22)\" font-size=\"11\">\(f(x.1)) \(escape(unit))</text>"
            + "<text x=\"2\" y=\"\(height - pad)\" font-size=\"11\">\(f(y.0))</text><text x=\"2\" y=\"20\" font-size=\"11\">\(f(y.1))</text>"
    }

    /// Cumulative net USD against seconds since the first trade of any run.
    static func cumulative(_ runs: [BacktestRun]) -> String {
        let start = runs.flatMap { $0.trades.map(\.at) }.min() ?? 0
        let series = runs.map { r -> [(Double, Double)] in
            var total = 0.0
            return r.trades.sorted { $0.at < $1.at }.map { t in
                total += t.usd
                return (Double(t.at &- start) / 1e9, total)
            }
        }
        let xs: [Double] = series.flatMap { $0.map(\.0) }
        let ys: [Double] = series.flatMap { $0.map(\.1) } + [0]
        let (yLow, yHigh) = (ys.min() ?? 0, ys.max() ?? 1)
        let x: (Double, Double) = (0, max(1e-9, xs.max() ?? 1))
        let y: (Double, Double) = (yLow, max(yHigh, yLow + 1e-9))
        var svg = "<svg id=\"cumulative-pnl\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">" + axes("cumulative", x: x, y: y, unit: "s")
        for (i, s) in series.enumerated() {
            let points = ([(0.0, 0.0)] + s).map { (p: (Double, Double)) -> String in
                let px: Double = pad + (p.0 - x.0) / (x.1 - x.0) * (width - pad - 10)
                let py: Double = (height - pad) - (p.1 - y.0) / (y.1 - y.0) * (height - pad - 10)
                return String(format: "%.1f,%.1f", px, py)
            }.joined(separator: " ")
            svg += "<polyline class=\"series\" data-run=\"\(escape(runs[i].name))\" data-points=\"\(s.count)\" data-total=\"\(String(format: "%.6f", s.last?.1 ?? 0))\" "
                + "fill=\"none\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"2\" points=\"\(points)\"/>"
        }
        return svg + "</svg>\n"
    }

    /// A histogram of each run's `values` over shared bins, the runs' bars side by side.
    static func histogram(id: String, _ values: [[Double]], _ runs: [BacktestRun], unit: String, bins: Int = 24) -> String {
        let all = values.flatMap { $0 }
        let lo = all.min() ?? 0, hi = max(all.max() ?? 1, lo + 1e-9)
        let counts = values.map { v -> [Int] in
            var c = Array(repeating: 0, count: bins)
            for x in v { c[min(bins - 1, Int((x - lo) / (hi - lo) * Double(bins)))] += 1 }
            return c
        }
        let top = Double(max(1, counts.flatMap { $0 }.max() ?? 1))
        var svg = "<svg id=\"\(id)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">" + axes(id, x: (lo, hi), y: (0, top), unit: unit)
        let slot = (width - pad - 10) / Double(bins), bar = slot / Double(max(1, runs.count)) - 1
        for (i, c) in counts.enumerated() {
            for (b, n) in c.enumerated() where n > 0 {
                let h = Double(n) / top * (height - pad - 10)
                svg += String(format: "<rect class=\"bar\" data-run=\"%@\" data-count=\"%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"/>",
                              escape(runs[i].name), n, pad + Double(b) * slot + Double(i) * (bar + 1), height - pad - h, max(1, bar), h, colors[i % colors.count])
            }
        }
        return svg + "</svg>\n"
    }
}
