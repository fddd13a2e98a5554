import ArgumentParser
import CMallocCount
import DetectBench
import EVMCodec
import StreamBus

#if canImport(Glibc)
import Glibc
#endif

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure Arbiter's hot paths.", subcommands: [DetectCommand.self, StatArbCommand.self, CexCommand.self, SolanaCommand.self, ReplayBenchCommand.self, PeersBenchCommand.self])
}

/// `arbiter bench detect`: a seeded synthetic market replayed through decode → state → detect →
/// publish, one event at a time.
struct DetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Replay a seeded synthetic stream of Sync/Swap logs through decode → state → detect → publish; print events/s, latency per event, allocations, RSS.")

    @Option(name: .long, help: "Chains, each with its own book and detector.") var chains = 15
    @Option(name: .long, help: "Pools per chain.") var pools = 500
    @Option(name: .long, help: "Events to replay (after 10% as warm-up).") var events = 200_000
    @Option(name: .long, help: "Tokens per chain (5 hubs and a long tail); fewer tokens, denser cycles.") var tokens = 40
    @Option(name: .long, help: "Cycles kept per pool.") var cycles = 50
    @Option(name: .long, help: "Seed of the market and its events.") var seed: UInt64 = 1
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Flag(name: .long, help: "Solana instead: account writes (Raydium vaults, Whirlpool prices, DLMM bin arrays, Phoenix markets) decoded into the pool book, then cycle detection; --pools per venue, --tokens mints, --books Phoenix markets.") var solana = false
    @Option(name: .long, help: "With --solana: Phoenix markets (an 85 kB account rewritten whole at each re-quote).") var books = 2
    @Flag(name: .long, help: "With --solana: Raydium CLMM pools among the venues too (--pools of them).") var clmm = false

    func validate() throws {
        if solana {
            guard (1...2_000).contains(pools) else { throw CLIError("--pools (per venue, with --solana) must be within 1…2000") }
            guard (2...200).contains(tokens) else { throw CLIError("--tokens (mints, with --solana) must be within 2…200") }
            guard (1...50_000_000).contains(events) else { throw CLIError("--events must be within 1…50000000") }
            return
        }
        guard (1...64).contains(chains) else { throw CLIError("--chains must be within 1…64") }
        guard (2...20_000).contains(pools) else { throw CLIError("--pools must be within 2…20000") }
        guard (1...50_000_000).contains(events) else { throw CLIError("--events must be within 1…50000000") }
        guard (1...10_000).contains(cycles) else { throw CLIError("--cycles must be within 1…10000") }
        guard (6...10_000).contains(tokens) else { throw CLIError("--tokens must be within 6…10000") }
        let room = SyntheticMarket.capacity(tokens: tokens)
        guard pools <= room else { throw CLIError("--pools \(pools) does not fit \(tokens) tokens on 8 venues (at most \(room))") }
    }

    func run() async throws {
        if solana { return try runSolana() }
        var options = SyntheticMarket.Options()
        options.chains = chains
        options.poolsPerChain = pools
        options.seed = seed
        options.cyclesPerPool = cycles
        options.tokensPerChain = tokens
        var market = try SyntheticMarket(options)
        let warmup = try market.events(max(1, events / 10))
        let stream = try market.events(events)
        let replay = DetectReplay(market)
        _ = await replay.run(warmup, bus: InProcessBus(capacity: 1 << 16))
        let bus = InProcessBus(capacity: 1 << 16)
        let r = await replay.run(stream, bus: bus, allocations: { arb_malloc_count() })
        let perEvent = arb_malloc_counting() == 1 ? Double(r.allocations) / Double(events) : nil
        let rss = Self.residentBytes()
        if json {
            func n(_ v: UInt64) -> JSONValue { .number(String(v)) }
            Output.line(JSONValue.object([
                ("chains", .number(String(chains))), ("poolsPerChain", .number(String(pools))), ("events", .number(String(events))),
                ("seed", n(seed)), ("eventsPerSecond", .number(String(format: "%.0f", r.eventsPerSecond))),
                ("latencyNs", .object([("p50", n(r.percentile(0.5))), ("p90", n(r.percentile(0.9))), ("p99", n(r.percentile(0.99))),
                                       ("p999", n(r.percentile(0.999))), ("max", n(r.latencies.last ?? 0))])),
                ("cyclesPerEvent", .number(String(format: "%.1f", r.cyclesPerEvent))), ("indexSeconds", .number(String(format: "%.3f", r.indexSeconds))), ("maxCyclesPerPool", .number(String(r.maxCyclesPerPool))),
                ("published", .number(String(r.published))), ("dropped", .number(String(bus.counters.dropped))),
                ("allocationsPerEvent", perEvent.map { .number(String(format: "%.3f", $0)) } ?? .null),
                ("rssBytes", rss.map { .number(String($0)) } ?? .null),
            ]).text)
        } else {
            Output.line("\(events) events over \(chains) chains × \(pools) pools (seed \(seed)): \(String(format: "%.0f", r.eventsPerSecond)) events/s")
            Output.line("latency per event: p50 \(Self.us(r.percentile(0.5)))  p90 \(Self.us(r.percentile(0.9)))  p99 \(Self.us(r.percentile(0.99)))  max \(Self.us(r.latencies.last ?? 0))")
            Output.line("cycles through the updated pool: \(String(format: "%.1f", r.cyclesPerEvent)) per event (cap \(r.maxCyclesPerPool)); published \(r.published); cycle indexes built in \(String(format: "%.2f", r.indexSeconds)) s")
            Output.line("allocations per event: \(perEvent.map { String(format: "%.3f", $0) } ?? "n/a")  RSS \(rss.map { String(format: "%.1f MB", Double($0) / 1e6) } ?? "n/a")")
        }
        Output.flush()
    }

    /// `--solana`: a seeded Solana market's account writes through the pool book and the detector.
    func runSolana() throws {
        var market = try SolanaMarket(poolsPerVenue: pools, mints: tokens, books: books, clmm: clmm, seed: seed)
        var (book, detector) = SolanaReplay.start(market)
        guard book.entries.count == market.pools.count else { throw CLIError("the synthetic market's pools did not all decode (\(book.counts))") }
        _ = SolanaReplay.run(market.writes(max(1, events / 10)), book: &book, detector: &detector)
        let r = SolanaReplay.run(market.writes(events), book: &book, detector: &detector)
        if json {
            func n(_ v: UInt64) -> JSONValue { .number(String(v)) }
            Output.line(JSONValue.object([
                ("venue", .string("solana")), ("pools", .number(String(market.pools.count))), ("books", .number(String(books))), ("clmm", .bool(clmm)), ("mints", .number(String(tokens))),
                ("writes", .number(String(r.writes))), ("seed", n(seed)), ("writesPerSecond", .number(String(format: "%.0f", r.writesPerSecond))),
                ("latencyNs", .object([("p50", n(r.percentile(0.5))), ("p90", n(r.percentile(0.9))), ("p99", n(r.percentile(0.99))),
                                       ("p999", n(r.percentile(0.999))), ("max", n(r.latencies.last ?? 0))])),
                ("rebuilt", .number(String(r.rebuilt))), ("cycles", .number(String(r.cycles))), ("sized", .number(String(r.sized))), ("published", .number(String(r.published))),
                ("stale", .number(String(book.counts.stale))), ("undecodable", .number(String(book.counts.undecodable))),
            ]).text)
        } else {
            Output.line("\(r.writes) Solana account writes over \(market.pools.count) pools, \(tokens) mints (seed \(seed)): \(String(format: "%.0f", r.writesPerSecond)) writes/s")
            Output.line("latency per write (decode, apply, detect): p50 \(Self.us(r.percentile(0.5)))  p90 \(Self.us(r.percentile(0.9)))  p99 \(Self.us(r.percentile(0.99)))  max \(Self.us(r.latencies.last ?? 0))")
            Output.line("pools rebuilt \(r.rebuilt), cycles evaluated \(r.cycles), sized \(r.sized), published \(r.published); undecodable \(book.counts.undecodable)")
        }
        Output.flush()
    }

    static func us(_ ns: UInt64) -> String { String(format: "%.2f µs", Double(ns) / 1000) }

    /// VmRSS from /proc/self/status.
    static func residentBytes() -> UInt64? {
        guard let bytes = try? Input.file("/proc/self/status") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { UInt64($0) }.first
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
