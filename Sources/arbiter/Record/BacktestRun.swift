import EVMCodec
import EVMPrimitives
import Execution
import Foundation
import MarketWatch
import Opportunities
import Pipeline
import Recording
import Registry

/// One configuration's backtest over the whole recording.
struct BacktestRun {
    var name: String
    var settings: BacktestSettings
    var backtester: Backtester
    var registry: Registry
    var chainNames: [UInt64: String]
    /// Every opportunity found: its gross in USD (display).
    var sizes: [Double] = []
    /// Per opportunity found: head → state applied, state applied → detected (ns).
    var stages: [(applied: UInt64, detected: UInt64)] = []
    var report = RecordingReader.Report()
    var seconds = 0.0
    /// CEX–DEX opportunities found again: their exchange leg is not simulated.
    var notSimulated: Set<[UInt8]> = []

    static func simulate(_ directory: String, settings: BacktestSettings, name: String) throws -> BacktestRun {
        let reader = try RecordingReader(directory: URL(fileURLWithPath: directory))
        var session = ReplaySession(source: directory, overrides: settings.overrides, minProfitBps: settings.minProfitBps)
        var run: BacktestRun? = nil
        var last: UInt64 = 0
        let began = ContinuousClock.now
        let report = try reader.forEachChunk { events in
            for e in events {
                last = max(last, e.arrival)
                guard let event = try session.feed(e) else { continue }
                switch event {
                case .snapshot(let chainID, let s):
                    run?.backtester.advance(Self.state(chainID, s), now: s.appliedAt)
                case .detected(let stream, let chainID, let snapshot, let now, _, let found):
                    if run == nil {
                        guard let registry = session.registry else { continue }
                        let ids = session.orderedChains.map(\.chainID)
                        run = BacktestRun(name: name, settings: settings, backtester: try settings.backtester(registry, chainIDs: ids), registry: registry,
                                          chainNames: Dictionary(session.orderedChains.map { ($0.chainID, $0.name) }, uniquingKeysWith: { a, _ in a }))
                    }
                    // A CEX–DEX spread has an exchange leg, a CoW backrun rides behind a settlement the
                    // recorded state never holds: neither is simulated here.
                    if session.detections[stream]?.kind != "detection" {
                        for o in found { run!.notSimulated.insert(o.id) }
                        continue
                    }
                    let state = Self.state(chainID, session.latest(chainID: chainID) ?? snapshot)
                    for o in found {
                        run!.sizes.append(Double(o.grossProfitMicroUSD) / 1e6)
                        let t = o.timestamps
                        run!.stages.append((t.stateApplied &- t.eventReceived, t.detected &- t.stateApplied))
                        run!.backtester.offer(o, state: state, now: now)
                    }
                case .solanaDetected(_, let found):
                    // Solana cycles execute on the Solana cluster, whose accounts are not EVM state: not simulated (counted).
                    for o in found { run?.notSimulated.insert(o.id) }
                case .published: break
                }
            }
        }
        guard var run else { throw CLIError("\(directory): no detection was recorded (record with arbiter lab|run --record)") }
        run.backtester.finish(now: last)
        run.report = report
        let elapsed = ContinuousClock.now - began
        run.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return run
    }

    static func state(_ chainID: UInt64, _ s: ChainWatcher.Snapshot) -> ChainState {
        ChainState(chainID: chainID, block: s.block, baseFee: s.baseFee, book: s.book, token0: s.pools.map(\.token0))
    }

    var trades: [Backtester.Trade] { backtester.trades }
    var hitRate: Double { backtester.offered == 0 ? 0 : Double(trades.count) / Double(backtester.offered) }
    var usd: Double { trades.reduce(0) { $0 + $1.usd } }

    /// The asset's symbol and decimals on the chain (its address when the registry has none).
    func token(_ chainID: UInt64, _ a: Address) -> (symbol: String, decimals: Int) {
        guard let name = chainNames[chainID], let t = registry.tokens(on: name).first(where: { $0.address == .evm(a) }) else { return (a.checksummed, 0) }
        return (t.symbol, t.decimals)
    }

    struct AssetTotal {
        var chainID: UInt64
        var asset: Address
        var trades = 0
        var profit = Int256.zero
        var net = Int256.zero
    }

    /// P&L per (chain, asset), exact.
    var byAsset: [AssetTotal] {
        var totals: [String: AssetTotal] = [:]
        for t in trades {
            let key = "\(t.chainID)/\(t.asset.checksummed)"
            var a = totals[key] ?? AssetTotal(chainID: t.chainID, asset: t.asset)
            a.trades += 1
            a.profit = a.profit &+ t.profit
            a.net = a.net &+ t.net
            totals[key] = a
        }
        return totals.values.sorted { ($0.chainID, $0.asset.checksummed) < ($1.chainID, $1.asset.checksummed) }
    }

    /// Trades and USD grouped by `key`.
    func grouped(_ key: (Backtester.Trade) -> String) -> [(key: String, trades: Int, usd: Double)] {
        var by: [String: (Int, Double)] = [:]
        for t in trades { by[key(t), default: (0, 0)].0 += 1; by[key(t), default: (0, 0)].1 += t.usd }
        return by.map { ($0.key, $0.value.0, $0.value.1) }.sorted { $0.key < $1.key }
    }

    var byChain: [(key: String, trades: Int, usd: Double)] { grouped { chainNames[$0.chainID] ?? String($0.chainID) } }
    var byStrategy: [(key: String, trades: Int, usd: Double)] { grouped { "\($0.kind.name)/\($0.flashSource.name)" } }

    /// Percentiles (50, 90, 99) of `values` in ns, as ms.
    static func percentiles(_ values: [UInt64]) -> [Double] {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return [0, 0, 0] }
        return [0.5, 0.9, 0.99].map { Double(sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * $0).rounded()))]) / 1e6 }
    }

    var latency: [(stage: String, ms: [Double])] {
        [("head→state", Self.percentiles(stages.map(\.applied))), ("state→detected", Self.percentiles(stages.map(\.detected))),
         ("head→decision", Self.percentiles(trades.map(\.latency)))]
    }

    static func decimal(_ v: Int256, _ decimals: Int) -> String {
        let digits = String(v.magnitude.description)
        guard decimals > 0 else { return v.description }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        var fraction = String(padded.suffix(decimals))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let whole = padded.dropLast(decimals)
        return (v.isNegative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }
}
