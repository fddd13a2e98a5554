import ArgumentParser
import DetectBench
import Detection
import EVMCodec
import EVMPrimitives
import EthClient
import Foundation
import JSONRPC
import MarketState
import MarketWatch
import Pipeline
import Recording

/// `arbiter bench replay`: a recording of a seeded synthetic market (one chain, V2 and V3 pools,
/// blocks of Sync and Swap logs, a detection moment per block) written by the production
/// `RecordingWriter`, then read back through the replay path on one core: chunks inflated and
/// checked, each watcher step decoded (`WatchInput`) and applied (`WatchReplay`: the watcher's own
/// `WatchState`), each detection moment run (`DetectionStep` on that block's snapshot). Reported:
/// recorded inputs per second (logs, heads, the reset's pool reads, detection moments), steps
/// (recording events) per second, and what detection found; the cycle index, built once at the
/// first detection moment, timed apart.
struct ReplayBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Replay speed: a synthetic recording through decode → state → detect, on one core.")

    @Option(name: .long, help: "Pools on the chain.") var pools = 2_000
    @Option(name: .long, help: "Tokens (5 hubs and a long tail).") var tokens = 120
    @Option(name: .long, help: "Logs per block.") var logsPerBlock = 200
    @Option(name: .long, help: "Blocks recorded.") var blocks = 2_000
    @Option(name: .long, help: "Cycles kept per pool.") var cycles = 50
    @Option(name: .long, help: "Seed of the market.") var seed: UInt64 = 1
    @Option(name: .long, help: "Times the recording is replayed (each from a fresh state); the median pass is reported, with the spread.") var passes = 3
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (2...SyntheticMarket.capacity(tokens: tokens)).contains(pools) else { throw CLIError("--pools must be within 2…\(SyntheticMarket.capacity(tokens: tokens)) for \(tokens) tokens") }
        guard (1...100_000).contains(logsPerBlock), (1...1_000_000).contains(blocks) else { throw CLIError("--logs-per-block within 1…100000, --blocks within 1…1000000") }
        guard (1...50).contains(passes) else { throw CLIError("--passes must be within 1…50") }
    }

    func run() throws {
        var options = SyntheticMarket.Options()
        (options.chains, options.poolsPerChain, options.tokensPerChain, options.cyclesPerPool, options.seed) = (1, pools, tokens, cycles, seed)
        var market = try SyntheticMarket(options)
        let chain = market.chains[0]
        let watched = chain.refs.enumerated().map { i, r in
            let ref = r!
            let kind: WatchedPool.Kind
            if case .uniswapV2(let p) = chain.book.pools[i] { kind = .uniswapV2(feePips: p.fee0Pips) } else { kind = .uniswapV3 }
            return WatchedPool(address: ref.address, kind: kind, tokenA: ref.token0, tokenB: ref.token1, venue: ref.venue)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-bench-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try Self.record(&market, chain: chain, watched: watched, to: directory, blocks: blocks, logsPerBlock: logsPerBlock)

        let configuration = ChainWatcher.Configuration(chainID: chain.chainID, name: "synthetic", rpc: RPCClient(HTTPTransport(url: "http://127.0.0.1:9")),
                                                       heads: .polling(.seconds(1)), multicall: .zero, pools: watched, matrix: PriceMatrix(expected: 8_192))
        let inputs = written.inputs
        var runs: [Pass] = []
        for _ in 0..<passes {
            let run = try Self.pass(directory, configuration: configuration, detector: chain.detector)
            guard run.undecodable == 0, run.snapshots == blocks, run.report.events == run.steps, run.lastBlock == written.lastBlock else {
                throw CLIError("the replay did not reach the recorded state: \(run.undecodable) undecodable, \(run.snapshots) of \(blocks) snapshots, block \(run.lastBlock) of \(written.lastBlock)")
            }
            runs.append(run)
        }
        // The median pass by time (its figures are reported), and the fastest and slowest rates.
        let sorted = runs.sorted { $0.seconds < $1.seconds }
        let median = sorted[sorted.count / 2]
        let (report, steps, found, seconds, indexSeconds) = (median.report, median.steps, median.found, median.seconds, median.indexSeconds)
        let total = seconds + indexSeconds
        let rates = sorted.map { Double(inputs) / $0.seconds }
        let rate = Double(inputs) / seconds
        if json {
            Output.lineNow(JSONValue.object([
                ("pools", .number(String(pools))), ("logsPerBlock", .number(String(logsPerBlock))), ("blocks", .number(String(blocks))),
                ("inputs", .number(String(inputs))), ("steps", .number(String(steps))), ("bytes", .number(String(written.bytes))),
                ("chunks", .number(String(report.chunks))), ("seconds", .number(String(format: "%.4f", seconds))),
                ("indexSeconds", .number(String(format: "%.4f", indexSeconds))), ("totalSeconds", .number(String(format: "%.4f", total))),
                ("inputsPerSecond", .number(String(format: "%.0f", rate))), ("stepsPerSecond", .number(String(format: "%.0f", Double(steps) / seconds))),
                ("found", .number(String(found))), ("cyclesPerPool", .number(String(cycles))), ("seed", .number(String(seed))),
                ("passes", .number(String(passes))), ("passInputsPerSecond", .array(rates.map { .number(String(format: "%.0f", $0)) })),
            ]).text)
        } else {
            Output.lineNow(String(format: "replayed %d inputs (%d steps, %d chunks, %d bytes) in %.3f s after the cycle index (%.3f s): %.0f inputs/s, %.0f steps/s (median of %d passes; %.0f…%.0f); %d opportunities found",
                                  inputs, steps, report.chunks, written.bytes, seconds, indexSeconds, rate, Double(steps) / seconds, passes,
                                  rates.last ?? rate, rates.first ?? rate, found))
        }
    }

    /// One replay of the recording from a fresh watcher state and detection.
    struct Pass {
        var report: RecordingReader.Report
        var steps = 0, found = 0, undecodable = 0, snapshots = 0
        var lastBlock: UInt64 = 0
        /// The replay's time without the cycle index, and the index's (built at the first moment).
        var seconds = 0.0, indexSeconds = 0.0
    }

    static func pass(_ directory: URL, configuration: ChainWatcher.Configuration, detector: CycleDetector.Configuration) throws -> Pass {
        var replay = WatchReplay(configuration)
        var detection = DetectionStep(configuration: DetectionService.Configuration(partition: "P1", detector: detector))
        var latest: ChainWatcher.Snapshot? = nil
        var run = Pass(report: .init())
        // The first detection moment builds the chain's cycle index (once per chain and pool set):
        // timed apart, as `bench detect` does.
        var index = Duration.zero
        let reader = try RecordingReader(directory: directory)
        let began = ContinuousClock.now
        run.report = try reader.forEachChunk { events in
            for e in events {
                run.steps += 1
                if e.stream == 2 {
                    guard let m = try? DetectionService.Moment(decoding: e.payload), let s = latest, s.sequence == m.sequence else { run.undecodable += 1; continue }
                    let t0 = ContinuousClock.now
                    run.found += detection.process(s, now: m.now).found.count
                    if s.sequence == 1 { index = ContinuousClock.now - t0 }
                    // Let go of the snapshot once detected on (as a live detection moves on): the
                    // watcher's next changes then find its pools' states held once, and change them in place.
                    latest = nil
                    continue
                }
                guard let input = try? WatchInput(kind: e.kind, payload: e.payload) else { run.undecodable += 1; continue }
                if let s = replay.apply(input) {
                    latest = s
                    run.snapshots += 1
                }
            }
        }
        func secs(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        run.indexSeconds = secs(index)
        run.seconds = secs(ContinuousClock.now - began) - run.indexSeconds
        run.lastBlock = replay.block
        return run
    }

    /// The recording: stream 1 the watcher's steps (a reset with every pool's read, then per
    /// block its head, its logs, its end and a snapshot), stream 2 a detection moment per block.
    static func record(_ market: inout SyntheticMarket, chain: SyntheticMarket.Chain, watched: [WatchedPool], to directory: URL, blocks: Int,
                       logsPerBlock: Int) throws -> (inputs: Int, bytes: Int, lastBlock: UInt64) {
        var clock: UInt64 = 1_800_000_000_000_000_000
        let writer = try RecordingWriter(directory: directory, clock: { 1_800_000_000_000_000_000 })
        func hash(_ b: UInt64) -> UInt256 { UInt256(limbs: b, 0xB10C, 0, 0) }
        func append(_ stream: UInt32, _ kind: UInt8, _ payload: [UInt8]) throws {
            clock &+= 1_000
            try writer.append(RecordedEvent(stream: stream, kind: kind, arrival: clock, payload: payload))
        }
        let first: UInt64 = 1_000
        let reads = watched.enumerated().map { i, p in
            var gross: [Int32: UInt256] = [:]
            if case .uniswapV3(let v3) = chain.book.pools[i] { for t in v3.ticks { gross[t.index] = t.liquidityNet.magnitude } }
            return PoolRead(pool: p, state: chain.book.pools[i], tickGross: gross, covered: gross.isEmpty ? nil : -887_272...887_272)
        }
        let reset = WatchInput.reset(head: EthClient.Header(number: first, hash: hash(first), parentHash: hash(first - 1), timestamp: first, baseFee: UInt256(1_000_000_000)),
                                     reads: reads)
        try append(1, reset.kind, try reset.encoded())
        var inputs = reads.count
        for k in 1...UInt64(blocks) {
            let b = first + k
            let events = try market.events(logsPerBlock)
            let logs = events.enumerated().map { i, e in
                EVMLog(address: e.log.address, topics: e.log.topics, data: e.log.data, blockNumber: b, blockHash: hash(b), transactionIndex: UInt32(i),
                       logIndex: UInt32(i))
            }
            let head = clock
            for step in [WatchInput.observe(.init(number: b, hash: hash(b), parentHash: hash(b - 1))), .logs(logs), .finish(block: b),
                         .publish(headReceivedAt: head, appliedAt: clock &+ 5_000, baseFee: UInt256(1_000_000_000))] {
                try append(1, step.kind, try step.encoded())
            }
            try append(2, 1, DetectionService.Moment(sequence: k, now: clock &+ 10_000, references: []).encoded())
            inputs += 1 + logs.count + 1  // the head, the logs, the detection moment
        }
        try writer.close()
        return (inputs, Int(writer.counters.writtenBytes), first + UInt64(blocks))
    }
}
