import ArgumentParser
import DetectBench
import EVMCodec
import Feeds
import Foundation

/// `arbiter bench cex`: seeded Binance combined-stream frames (book tickers, aggregate trades,
/// 20-level partial books, in recorded shapes) through the feed's core, one at a time on one
/// core: parsed strictly and applied to the books, as a connection's reader does.
struct CexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cex",
        abstract: "Parse and apply seeded Binance stream frames through the CEX feed's core; print frames/s and time per frame.")

    @Option(name: .long, help: "Frames (after 10% as many for warm-up).") var frames = 2_000_000
    @Option(name: .long, help: "Symbols.") var symbols = 8
    @Option(name: .long, help: "Seed of the frames.") var seed: UInt64 = 1
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (1_000...50_000_000).contains(frames) else { throw CLIError("--frames must be within 1000…50000000") }
        guard (1...1_000).contains(symbols) else { throw CLIError("--symbols must be within 1…1000") }
    }

    enum Kind: Int, CaseIterable { case bookTicker, aggTrade, depth }

    /// The frames: half book tickers, a third trades, the rest 20-level books; prices as a random walk.
    static func frames(count: Int, symbols names: [String], seed: UInt64) -> [(Kind, [UInt8])] {
        var g = SplitMix(seed: seed)
        var mids = names.indices.map { 100.0 + Double($0) * 250 }
        var u = [UInt64](repeating: 1_000_000, count: names.count), a = [UInt64](repeating: 5_000, count: names.count)
        func d(_ x: Double, _ places: Int = 2) -> String { String(format: "%.\(places)f", x) }
        var out: [(Kind, [UInt8])] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let i = Int(g.next() % UInt64(names.count))
            let s = names[i], l = s.lowercased()
            mids[i] *= 1 + (Double(g.next() % 2001) - 1000) * 1e-7
            let m = mids[i], half = max(0.01, m * 1e-5)
            u[i] += 1 + g.next() % 4
            let r = g.next() % 100
            let text: String
            let kind: Kind
            if r < 50 {
                kind = .bookTicker
                text = #"{"stream":"\#(l)@bookTicker","data":{"u":\#(u[i]),"s":"\#(s)","b":"\#(d(m - half, 8))","B":"\#(d(Double(g.next() % 100_000) / 1000, 8))","a":"\#(d(m + half, 8))","A":"\#(d(Double(g.next() % 100_000) / 1000, 8))"}}"#
            } else if r < 85 {
                kind = .aggTrade
                a[i] += 1
                let t = 1_733_000_000_000 + g.next() % 1_000_000
                text = #"{"stream":"\#(l)@aggTrade","data":{"e":"aggTrade","E":\#(t),"s":"\#(s)","a":\#(a[i]),"p":"\#(d(m, 8))","q":"\#(d(Double(g.next() % 10_000) / 1000, 8))","f":\#(a[i] * 3),"l":\#(a[i] * 3 + 2),"T":\#(t),"m":\#(g.next() % 2 == 0),"M":true}}"#
            } else {
                kind = .depth
                let bids = (0..<20).map { k in #"["\#(d(m - half - Double(k) * 0.01, 8))","\#(d(Double(1 + k), 8))"]"# }.joined(separator: ",")
                let asks = (0..<20).map { k in #"["\#(d(m + half + Double(k) * 0.01, 8))","\#(d(Double(1 + k), 8))"]"# }.joined(separator: ",")
                text = #"{"stream":"\#(l)@depth20@100ms","data":{"lastUpdateId":\#(u[i]),"bids":[\#(bids)],"asks":[\#(asks)]}}"#
            }
            out.append((kind, Array(text.utf8)))
        }
        return out
    }

    func run() throws {
        let names = (0..<symbols).map { ["ETHUSDT", "BTCUSDT", "BNBUSDT", "SOLUSDT", "AVAXUSDT", "ARBUSDT", "OPUSDT", "POLUSDT"][$0 % 8] + ($0 < 8 ? "" : "\($0)") }
        let warm = Self.frames(count: frames / 10, symbols: names, seed: seed &+ 1)
        let stream = Self.frames(count: frames, symbols: names, seed: seed)
        var state = CexFeedState(symbols: names)
        for (_, f) in warm { _ = state.ingest(f, at: 1) }
        let bytes = stream.reduce(0) { $0 + $1.1.count }
        // The whole stream, untimed per frame: the throughput.
        let clock = ContinuousClock()
        var applied = 0, rejected = 0
        let started = clock.now
        for (k, (_, f)) in stream.enumerated() {
            switch state.ingest(f, at: UInt64(k)) {
            case .applied, .old, .gap: applied += 1
            default: rejected += 1
            }
        }
        let total = StatArbCommand.nanoseconds(clock.now - started)
        // Again, each frame timed, for the time per frame by kind.
        var per: [[UInt64]] = Kind.allCases.map { _ in [] }
        var second = CexFeedState(symbols: names)
        for (_, f) in warm { _ = second.ingest(f, at: 1) }
        for (k, (kind, f)) in stream.enumerated() {
            let t0 = clock.now
            _ = second.ingest(f, at: UInt64(k))
            per[kind.rawValue].append(StatArbCommand.nanoseconds(clock.now - t0))
        }
        for i in per.indices { per[i].sort() }
        let rate = Double(frames) / (Double(total) / 1e9)
        let p = StatArbCommand.Samples.percentile
        if json {
            func group(_ v: [UInt64]) -> JSONValue {
                .object([("count", .number(String(v.count))), ("p50", .number(String(p(v, 0.5)))), ("p99", .number(String(p(v, 0.99))))])
            }
            Output.line(JSONValue.object([
                ("frames", .number(String(frames))), ("symbols", .number(String(symbols))), ("seed", .number(String(seed))),
                ("bytes", .number(String(bytes))), ("applied", .number(String(applied))), ("rejected", .number(String(rejected))),
                ("framesPerSecond", .number(String(format: "%.0f", rate))), ("nsPerFrame", .number(String(format: "%.1f", Double(total) / Double(frames)))),
                ("megabytesPerSecond", .number(String(format: "%.1f", Double(bytes) / (Double(total) / 1e9) / 1e6))),
                ("latencyNs", .object([("bookTicker", group(per[0])), ("aggTrade", group(per[1])), ("depth20", group(per[2]))])),
            ]).text)
        } else {
            Output.line("\(frames) frames over \(symbols) symbols (seed \(seed), \(bytes) bytes): \(String(format: "%.0f", rate)) frames/s parsed and applied, \(String(format: "%.1f", Double(total) / Double(frames))) ns each; \(rejected) rejected")
            Output.line("per frame: book ticker p50 \(p(per[0], 0.5)) ns p99 \(p(per[0], 0.99)) ns; aggregate trade p50 \(p(per[1], 0.5)) ns p99 \(p(per[1], 0.99)) ns; 20-level book p50 \(p(per[2], 0.5)) ns p99 \(p(per[2], 0.99)) ns")
        }
        Output.flush()
    }
}

