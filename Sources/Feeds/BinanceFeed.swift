import CoreMetrics
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import WSClient

/// Binance spot market data for a set of symbols: combined-stream WebSockets (`@bookTicker`,
/// `@aggTrade`, `@depth20@100ms`), sharded so that no connection carries more than 1,024 streams,
/// each kept up by a `FeedConnectionMachine`; REST resyncs after an outage or a trade gap. Books,
/// counters and health live in one `CexFeedState` behind a lock; `onBook` is told which symbol's
/// book changed.
public final class BinanceFeed: Service, Sendable {
    public enum Stream: String, Sendable, CaseIterable {
        case bookTicker = "bookTicker"
        case aggTrade = "aggTrade"
        case depth20 = "depth20@100ms"
    }

    public struct Options: Sendable {
        public var state = CexFeedState.Options()
        public var streams: [Stream] = Stream.allCases
        public var maxStreamsPerConnection = 1024
        public var maxConnectionAge: Duration = .seconds(23 * 3600 + 30 * 60)
        public var silenceTimeout: Duration = .seconds(30)
        public var connectTimeout: Duration = .seconds(10)
        public var initialBackoff: Duration = .milliseconds(250)
        public var maxBackoff: Duration = .seconds(30)
        /// Failed attempts in a row before a connection slot gives up (the feed then reports it down;
        /// its prices go stale and everything runs as without CEX input).
        public var maxFailures = 50
        public var attemptsPer5Minutes = 300
        /// How often the connection machines are ticked.
        public var tick: Duration = .milliseconds(100)
        public var maxFrameBytes = 1 << 20
        public var seed: UInt64 = 0x5eed
        public init() {}
    }

    /// What the feed is doing, for `watch` and metrics.
    public struct Status: Sendable {
        public var counters: CexFeedState.Counters
        public var reconnects: Int
        public var connectionsOpened: Int
        public var slotsDown: Int
        public var ageP99Millis: UInt32?
        public var gapsLastHour: Int
        public var frozenBooks: Int
        public var symbols: [(symbol: String, status: CexFeedState.Status, bid: CexDecimal, ask: CexDecimal)]
    }

    public let streamBase: String
    public let rest: BinanceREST
    public let options: Options
    public let state: Mutex<CexFeedState>
    let logger: Logger
    let onBook: @Sendable (Int) -> Void
    let now: @Sendable () -> UInt64
    let metricsFactory: any MetricsFactory
    let shared = Mutex(Shared())
    /// `--record`: told every change to `state`, under its lock (in the order applied).
    let recorder = Mutex<(@Sendable (FeedInput) -> Void)?>(nil)
    /// Whether `recorder` is set: read per frame without taking its lock.
    let recording = Atomic<Bool>(false)

    struct Shared {
        var lastFrame: [Int: UInt64] = [:]  // by generation
        var closers: [Int: AsyncStream<FeedConnectionMachine.Reason>.Continuation] = [:]
        var opened = 0
        var reconnects = 0
        var slotsDown = 0
        var nextGen = 1
        var resyncs: AsyncStream<[Int]>.Continuation?
        var observers: [@Sendable (Int) -> Void] = []
    }

    /// Adds `f` to what is told, after `onBook`, which symbol's book changed.
    public func observe(_ f: @escaping @Sendable (Int) -> Void) { shared.withLock { $0.observers.append(f) } }

    func changed(_ sym: Int) {
        onBook(sym)
        for f in shared.withLock({ $0.observers }) { f(sym) }
    }

    /// `streamBase`: `wss://data-stream.binance.vision` (or the stand-in's `ws://127.0.0.1:port`).
    public init(streamBase: String, rest: BinanceREST, symbols: [String], options: Options = Options(),
                logger: Logger = Logger(label: "arbiter.feeds.binance"), metrics: any MetricsFactory = MetricsSystem.factory,
                now: @escaping @Sendable () -> UInt64 = { monotonicNanos() },
                onBook: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.streamBase = streamBase.hasSuffix("/") ? String(streamBase.dropLast()) : streamBase
        self.rest = rest
        self.options = options
        state = Mutex(CexFeedState(symbols: symbols, options: options.state))
        self.logger = logger
        self.onBook = onBook
        self.now = now
        metricsFactory = metrics
    }

    /// The streams of each connection: every symbol's streams, at most `maxStreamsPerConnection` each.
    public var plan: [[String]] {
        let symbols = state.withLock { $0.symbols }
        var all: [String] = []
        for s in symbols { for k in options.streams { all.append("\(s.lowercased())@\(k.rawValue)") } }
        let n = max(1, options.maxStreamsPerConnection)
        return stride(from: 0, to: all.count, by: n).map { Array(all[$0..<min($0 + n, all.count)]) }
    }

    /// Records every change to the books from now on (`FeedInput`), the symbols first.
    public func record(to recorder: @escaping @Sendable (FeedInput) -> Void) {
        state.withLock { s in
            recorder(.symbols(s.symbols))
            self.recorder.withLock { $0 = recorder }
            recording.store(true, ordering: .releasing)
        }
    }

    /// One change to the books, recorded first when recording.
    @discardableResult
    func change(_ input: FeedInput) -> FeedInput.Result {
        let r = recorder.withLock { $0 }
        return state.withLock { s in
            r?(input)
            return s.perform(input)
        }
    }

    public var status: Status {
        let t = now()
        let sh = shared.withLock { ($0.opened, $0.reconnects, $0.slotsDown) }
        return state.withLock { s in
            Status(counters: s.counters, reconnects: sh.1, connectionsOpened: sh.0, slotsDown: sh.2,
                   ageP99Millis: s.health.ageP99Millis, gapsLastHour: s.health.gapsLastHour(at: t), frozenBooks: s.health.frozenBooks,
                   symbols: s.books.indices.map { i in (s.books[i].symbol, s.status(i, at: t), s.books[i].bid, s.books[i].ask) })
        }
    }

    /// A symbol's book when its price may be used now.
    public func usable(_ symbol: Int) -> CexBook? {
        let t = now()
        return state.withLock { $0.usable(symbol, at: t) }
    }

    public func run() async throws {
        let slots = plan
        let (resyncs, requests) = AsyncStream<[Int]>.makeStream()
        shared.withLock { $0.resyncs = requests }
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await self.serve(slots, resyncs: resyncs)
            } onCancel: {
                requests.finish()
            }
        }
    }

    func serve(_ slots: [[String]], resyncs: AsyncStream<[Int]>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // One resync at a time, so that a burst of gaps does not become a burst of REST calls.
                for await symbols in resyncs { await self.resync(symbols) }
            }
            for (i, streams) in slots.enumerated() {
                group.addTask { await self.runSlot(i, streams: streams, slots: slots.count) }
            }
            group.addTask {
                // Once a second: frozen books, and the integrity metrics.
                var metrics = FeedMetrics(exchange: "binance", factory: self.metricsFactory)
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    let t = self.now()
                    let frozen = self.change(.sweep(at: t)).frozen
                    for f in frozen { self.logger.warning("binance: \(self.state.withLock { $0.symbols[f] }) book frozen while trades print") }
                    metrics.update(self.status)
                }
            }
            await group.waitForAll()
        }
    }

    func symbols(of streams: [String]) -> [Int] {
        let names = Set(streams.compactMap { $0.split(separator: "@").first.map { String($0).uppercased() } })
        return state.withLock { s in s.symbols.indices.filter { names.contains(s.symbols[$0]) } }
    }

    func runSlot(_ slot: Int, streams: [String], slots: Int) async {
        var o = FeedConnectionMachine.Options()
        o.maxConnectionAge = options.maxConnectionAge.nanos
        o.silenceTimeout = options.silenceTimeout.nanos
        o.connectTimeout = options.connectTimeout.nanos
        o.initialBackoff = options.initialBackoff.nanos
        o.maxBackoff = options.maxBackoff.nanos
        o.maxFailures = options.maxFailures
        o.attemptsPerWindow = max(1, options.attemptsPer5Minutes / slots)
        var machine = FeedConnectionMachine(options: o, seed: options.seed &+ UInt64(slot))
        let symbols = symbols(of: streams)
        let url = "\(streamBase)/stream?streams=\(streams.joined(separator: "/"))"
        let (events, input) = AsyncStream<FeedConnectionMachine.Event>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.options.tick)
                    input.yield(.tick(at: self.now(), lastFrame: 0))
                }
                input.finish()
            }
            var genOf: [Int: Int] = [:]  // machine generation → feed-wide id
            for await event in events {
                var e = event
                if case .tick(let at, _) = event {
                    let current = machine.current.flatMap { genOf[$0.gen] }
                    let last = shared.withLock { s in current.flatMap { s.lastFrame[$0] } } ?? at
                    e = .tick(at: at, lastFrame: last)
                }
                let hadOutage = machine.outage
                let actions = machine.handle(e)
                if machine.outage && !hadOutage { change(.disconnected(symbols)) }
                for action in actions {
                    switch action {
                    case .connect(let gen, let reason):
                        let id = shared.withLock { s -> Int in
                            defer { s.nextGen += 1 }
                            s.opened += 1
                            if reason == .outage && s.opened > slots { s.reconnects += 1 }
                            return s.nextGen
                        }
                        genOf[gen] = id
                        if reason != .outage { logger.info("binance: connection \(slot) \(reason.rawValue): opening a replacement") }
                        group.addTask { await self.connection(id, gen: gen, url: url, symbols: symbols, events: input) }
                    case .close(let gen, let reason):
                        if let id = genOf[gen] {
                            let closer = shared.withLock { $0.closers[id] }
                            closer?.yield(reason)
                        }
                    case .resync:
                        requestResync(symbols)
                    case .giveUp(let failures):
                        shared.withLock { $0.slotsDown += 1 }
                        logger.error("binance: connection \(slot) gave up after \(failures) failed attempts; its prices go stale")
                    }
                }
                if machine.gaveUp { break }
            }
            group.cancelAll()
        }
    }

    func connection(_ id: Int, gen: Int, url: String, symbols: [Int], events: AsyncStream<FeedConnectionMachine.Event>.Continuation) async {
        let (closeRequests, closer) = AsyncStream<FeedConnectionMachine.Reason>.makeStream()
        shared.withLock { $0.closers[id] = closer }
        defer {
            shared.withLock { s in
                s.closers[id] = nil
                s.lastFrame[id] = nil
            }
        }
        var config = WebSocketClientConfiguration()
        config.maxFrameSize = options.maxFrameBytes
        do {
            try await WebSocketClient.connect(url: url, configuration: config, logger: logger) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var live = false
                        var iterator = inbound.messages(maxSize: self.options.maxFrameBytes).makeAsyncIterator()
                        while let message = try await iterator.next() {
                            let t = self.now()
                            self.shared.withLock { $0.lastFrame[id] = t }
                            switch message {
                            case .text(let text):
                                var text = text
                                text.withUTF8 { self.apply($0, at: t, gen: gen, events: events) }
                            case .binary(let buffer):
                                buffer.withUnsafeReadableBytes { raw in
                                    self.apply(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count), at: t, gen: gen, events: events)
                                }
                            }
                            if !live {
                                live = true
                                events.yield(.live(gen: gen, at: t))
                            }
                        }
                    }
                    group.addTask {
                        for await reason in closeRequests {
                            self.logger.debug("binance: closing connection \(id): \(reason.rawValue)")
                            try? await outbound.close(.normalClosure, reason: reason.rawValue)
                            return
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("binance: connection \(id): \(error)")
        }
        closer.finish()
        events.yield(.closed(gen: gen, at: now()))
    }

    func apply(_ p: UnsafeBufferPointer<UInt8>, at t: UInt64, gen: Int, events: AsyncStream<FeedConnectionMachine.Event>.Continuation) {
        let wall = UInt64(Date().timeIntervalSince1970 * 1000)
        // Unrecorded, the frame is parsed where it lies (no copy): the path `perform` takes too.
        let outcome = if !recording.load(ordering: .acquiring) {
            state.withLock { $0.ingest(p, at: t, wallMillis: wall) }
        } else {
            change(.frame(Array(p), at: t, wallMillis: wall)).outcome ?? .control
        }
        switch outcome {
        case .applied(let sym): changed(sym)
        case .gap(let sym, let from, let to):
            changed(sym)
            logger.debug("binance: trades \(from)...\(to) missed; resyncing")
            requestResync([sym])
        case .serverShutdown:
            logger.info("binance: the server announced a shutdown; replacing the connection early")
            events.yield(.shutdownNotice(gen: gen, at: t))
        case .old, .control, .malformed: break
        }
    }

    func requestResync(_ symbols: [Int]) {
        _ = shared.withLock { $0.resyncs }?.yield(symbols)
    }

    /// Snapshots for `symbols`: the depth (the book), and the trades a gap skipped. Bounded: three
    /// attempts per symbol, then it stays marked for resync and is retried on the next gap or outage.
    func resync(_ symbols: [Int]) async {
        for sym in symbols {
            let name = state.withLock { $0.symbols[sym] }
            var done = false
            for attempt in 1...3 where !done && !Task.isCancelled {
                do {
                    let d = try await rest.depth(name)
                    let t = now()
                    change(.depth(symbol: sym, lastUpdateID: d.lastUpdateID, bids: d.bids, asks: d.asks, at: t))
                    changed(sym)
                    // Pages of up to 1,000 trades from the oldest hole, while they fill holes.
                    var complete = true
                    for _ in 0..<20 {
                        guard let from = state.withLock({ $0.books[sym].missingFrom }) else { break }
                        let ids = try await rest.aggTradeIDs(name, fromID: from)
                        complete = change(.recoveredTrades(symbol: sym, ids: ids)).complete
                        if complete || ids.isEmpty || state.withLock({ $0.books[sym].missingFrom }) == from { break }
                    }
                    if complete { change(.resynced(sym)) }
                    done = complete
                } catch {
                    logger.debug("binance: resync \(name) attempt \(attempt): \(error)")
                    try? await Task.sleep(for: .milliseconds(200 * attempt))
                }
            }
            if !done { logger.warning("binance: resync of \(name) failed three times; it stays marked") }
        }
    }
}

extension Duration {
    var nanos: UInt64 {
        let c = components
        return UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds / 1_000_000_000))
    }
}

/// Nanoseconds on the monotonic clock.
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
