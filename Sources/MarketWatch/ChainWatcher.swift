import AMMMath
import CoreMetrics
import EVMCodec
import EVMPrimitives
import EthClient
import JSONRPC
import Logging
import MarketState
import ServiceLifecycle
import Synchronization

/// One chain's market state as a service: pool state kept equal to the chain's, block by block,
/// through dropped sockets, rate limits and reorgs, published as one consistent snapshot per block
/// and as PriceMatrix writes.
///
/// - Start: the pools' state is read at the head through Multicall3 (`PoolStateReader`); pools that
///   are not deployed yet wait for their factory's creation event.
/// - Each head (WebSocket `newHeads`, or polling over HTTP) goes through a `ChainTracker`. Advancing
///   fetches the logs of every block since the last one applied with `eth_getLogs` (so a dropped
///   socket or a skipped head is backfilled by the same path, and no log is applied twice), applies
///   them to the `PoolBook` in chain order, registers pools the factories created, re-reads stale
///   pools, and publishes a snapshot of that block. A log whose block hash is not the header's we
///   hold shows a reorg under our feet: that block's header is fed to the tracker first.
/// - A reorg rolls the book back to the fork point and applies the new chain's logs; a reorg deeper
///   than the undo journal reads everything again.
/// - RPC failures are retried with back-off (the provider pool fails over underneath); malformed
///   heads and logs are counted and skipped.
public final class ChainWatcher: Service {
    public enum HeadSource: Sendable {
        case webSocket(WebSocketSession)
        case polling(Duration)
    }

    public struct Options: Sendable {
        /// Blocks of undo entries kept; deeper reorgs re-read state.
        public var reorgDepth: UInt64 = 64
        /// V3 tick-bitmap words read on each side of the price.
        public var v3Words = 2
        /// Blocks per `eth_getLogs` call.
        public var logRange: UInt64 = 1_000
        /// A chain with no new head for this long is stale.
        public var staleAfter: Duration = .seconds(30)
        /// The first wait after a failed RPC step, doubled up to 8 s.
        public var retryBackoff: Duration = .milliseconds(250)
        /// Snapshots buffered for a slow consumer of `snapshots`; older ones are dropped and counted.
        public var snapshotBuffer = 8
        public init() {}
    }

    public struct Configuration: Sendable {
        public var chainID: UInt64
        public var name: String
        /// Calls, logs and state reads (a provider pool over HTTP, usually).
        public var rpc: RPCClient
        public var heads: HeadSource
        public var multicall: Address
        public var pools: [WatchedPool]
        public var factories: [WatchedFactory]
        public var matrix: PriceMatrix
        public var options: Options
        /// Each step on the state as it is taken (a recording: `WatchInput`), when set.
        public var recorder: (@Sendable (WatchInput) -> Void)? = nil
        /// Epoch nanoseconds: when heads arrive and snapshots are made.
        public var clock: @Sendable () -> UInt64 = { WallClock.nanoseconds() }

        public init(chainID: UInt64, name: String, rpc: RPCClient, heads: HeadSource, multicall: Address, pools: [WatchedPool],
                    factories: [WatchedFactory] = [], matrix: PriceMatrix, options: Options = Options()) {
            self.chainID = chainID
            self.name = name
            self.rpc = rpc
            self.heads = heads
            self.multicall = multicall
            self.pools = pools
            self.factories = factories
            self.matrix = matrix
            self.options = options
        }
    }

    /// The state of one block: every registered pool as it was at the end of `block`.
    public struct Snapshot: Sendable {
        public var chainID: UInt64
        public var block: UInt64
        public var hash: UInt256
        public var book: PoolBook
        /// What each registered pool is, by `PoolBook.PoolID.index`.
        public var pools: [WatchedPool]
        /// For V3 pools, the ticks whose liquidity was read: quotes must stay within them.
        public var covered: [ClosedRange<Int32>?]
        /// Nanoseconds since the epoch: when the head that led to this block arrived, and when
        /// its state was complete (the first two stages of an opportunity's latency).
        public var headReceivedAt: UInt64
        public var appliedAt: UInt64
        /// The newest head's base fee, for pricing gas.
        public var baseFee: UInt256?
        /// Its place among the watcher's snapshots (1, 2, …): a later one is newer, whatever its
        /// block (a reorg's is lower).
        public var sequence: UInt64 = 0
    }

    public struct Status: Equatable, Sendable {
        public var chainID: UInt64
        public var name: String
        /// The chain's head as last reported, and the block the state is at.
        public var head: UInt64?
        public var stateBlock: UInt64?
        public var pools = 0
        /// Pools derived but not deployed (yet), and created ones not readable yet.
        public var absent = 0
        public var pending = 0
        public var stalePools = 0
        public var book = PoolBook.Counters()
        /// Logs applied over the run, across resyncs (each starts a new book, and `book` with it).
        public var appliedTotal = 0
        public var heads = 0
        public var reorgs = 0
        public var backfills = 0
        public var resyncs = 0
        public var discovered = 0
        public var malformedHeads = 0
        public var malformedLogs = 0
        /// Factory creation logs that did not decode (part of `malformedLogs`).
        public var malformedCreations = 0
        public var rpcErrors = 0
        /// Answers that did not parse (a log object without its fields, a bad aggregate3 result).
        public var malformedResponses = 0
        public var droppedSnapshots = 0
        /// Snapshots published (the last one's `sequence`).
        public var snapshots: UInt64 = 0
        /// The head source is live: the WebSocket is up, or the last poll was answered.
        public var connected = false
        /// When the last head arrived, and how long without one makes the chain stale.
        public var lastHeadAt: ContinuousClock.Instant?
        public var staleAfter: Duration = .seconds(30)

        /// No head for `staleAfter` (or none yet): detectors should not trust this chain's prices.
        public func chainStale(at now: ContinuousClock.Instant = .now) -> Bool {
            guard let last = lastHeadAt else { return true }
            return now - last > staleAfter
        }

        public init(chainID: UInt64, name: String) {
            self.chainID = chainID
            self.name = name
        }

        /// Blocks the state is behind the chain's head.
        public var headLag: UInt64 { head.map { h in h - min(h, stateBlock ?? 0) } ?? 0 }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let metrics: WatchMetrics
    private let eth: EthClient
    private let reader: PoolStateReader
    private let shared: Mutex<(status: Status, latest: Snapshot?)>
    private let snapshotStream: AsyncStream<Snapshot>
    private let snapshotContinuation: AsyncStream<Snapshot>.Continuation
    /// Snapshots go to the stream only once someone has asked for it.
    private let streaming = Atomic<Bool>(false)

    /// Metrics go to `metricsFactory` (the bootstrapped backend unless one is given).
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "arbiter.market"),
                metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.configuration = configuration
        metrics = WatchMetrics(chain: configuration.name, factory: metricsFactory)
        var logger = logger
        logger[metadataKey: "arb.chain"] = .string(configuration.name)
        self.logger = logger
        eth = EthClient(configuration.rpc)
        reader = PoolStateReader(eth: eth, multicall: configuration.multicall)
        var status = Status(chainID: configuration.chainID, name: configuration.name)
        status.staleAfter = configuration.options.staleAfter
        shared = Mutex((status, nil))
        (snapshotStream, snapshotContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(configuration.options.snapshotBuffer))
    }

    public var status: Status {
        var status = shared.withLock { $0.status }
        if case .webSocket(let session) = configuration.heads { status.connected = session.isConnected }
        return status
    }
    /// The last published snapshot.
    public var latest: Snapshot? { shared.withLock { $0.latest } }
    /// Every snapshot published from now on, for one consumer; when it falls behind, older ones
    /// are dropped (and counted).
    public var snapshots: AsyncStream<Snapshot> {
        streaming.store(true, ordering: .releasing)
        return snapshotStream
    }

    /// The provider the chain's calls go to now, when the RPC client is a provider pool.
    public var provider: String? { (configuration.rpc.transport as? ProviderPool)?.current }

    public func run() async throws {
        defer { snapshotContinuation.finish() }
        var s = WatchState(configuration)
        guard await retrying({ () async throws(RPCError) in try await self.load(&s) }) != nil else { return }
        switch configuration.heads {
        case .polling(let interval):
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                if let h = await retrying({ () async throws(RPCError) in try await self.eth.header(.latest) }) {
                    update { $0.connected = true }
                    await handle(h, &s)
                }
                try? await Task.sleep(for: interval)
            }
        case .webSocket(let session):
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await session.run() }
                var first = true
                for await event in session.subscribe([.string("newHeads")]).cancelOnGracefulShutdown() {
                    switch event {
                    case .subscribed:
                        // After a reconnect, heads may have been missed: start from the chain's.
                        if !first, let h = await retrying({ () async throws(RPCError) in try await self.eth.header(.latest) }) { await handle(h, &s) }
                        first = false
                    case .item(let json):
                        do {
                            await handle(try EthClient.Header(json: json), &s)
                        } catch {
                            update { $0.malformedHeads += 1 }
                            metrics.malformedHeads.increment()
                            logger.debug("malformed head: \(error)")
                        }
                    }
                }
                group.cancelAll()
            }
        }
    }

    // MARK: - Steps

    /// Reads every pool's state at the head and starts the tracker there.
    private func load(_ s: inout WatchState) async throws(RPCError) {
        let head = try await eth.header(.latest)
        s.headReceivedAt = configuration.clock()
        s.baseFee = head.baseFee
        let reads = try await read(s.universe, at: head.number)
        _ = step(.reset(head: head, reads: reads.map(\.recorded)), &s)
        publish(&s)
    }

    /// Takes one step on the state, recorded first when a recorder is set.
    private func step(_ input: WatchInput, _ s: inout WatchState) -> WatchOutcome {
        configuration.recorder?(input)
        return s.perform(input, matrix: configuration.matrix)
    }

    /// The tracker's verdict on a head (`ancestor`: an ancestor it asked for).
    private func track(_ h: EthClient.Header, ancestor: Bool = false, _ s: inout WatchState) -> ChainTracker.Action {
        guard case .action(let a) = step(ancestor ? .ancestor(.init(h)) : .observe(.init(h)), &s) else { return .ignore }
        return a
    }

    private func handle(_ header: EthClient.Header, _ s: inout WatchState) async {
        s.headReceivedAt = configuration.clock()
        if let fee = header.baseFee { s.baseFee = fee }
        update {
            $0.heads += 1
            $0.head = max($0.head ?? 0, header.number)
            $0.lastHeadAt = .now
            metrics.headLag.record($0.headLag)
        }
        var action = track(header, &s)
        for _ in 0..<256 {
            switch action {
            case .ignore:
                return
            case .advance(let n), .backfill(_, let n):
                if case .backfill = action {
                    update { $0.backfills += 1 }
                    metrics.backfills.increment()
                }
                guard let result = await retrying({ () async throws(RPCError) in try await self.catchUp(&s, to: n) }) else { return }
                guard let replaced = result else { return }
                // A log from a block the tracker knows by another hash: the chain moved under us.
                guard let h = await retrying({ () async throws(RPCError) in try await self.eth.header(.number(replaced)) }) else { return }
                action = track(h, &s)
            case .fetchAncestor(let n):
                guard let a = await retrying({ () async throws(RPCError) in try await self.eth.header(.number(n)) }) else { return }
                action = track(a, ancestor: true, &s)
            case .reorg(let fork, let head):
                update { $0.reorgs += 1 }
                metrics.reorgs.increment()
                logger.info("reorg: fork point \(fork), new head \(head)")
                _ = step(.rollBack(toBefore: fork + 1), &s)
                action = .advance(head)
            case .resync:
                // The new book counts from zero: so does the baseline the next publish counts from.
                update {
                    $0.resyncs += 1
                    $0.book = PoolBook.Counters()
                }
                logger.info("reorg deeper than \(s.tracker.depth) blocks: reading all state again")
                _ = await retrying({ () async throws(RPCError) in try await self.load(&s) })
                return
            }
        }
    }

    /// Applies the logs of every block after the last applied one through `target`; nil when done,
    /// or the number of a block whose logs came with a hash other than the one the tracker holds.
    private func catchUp(_ s: inout WatchState, to target: UInt64) async throws(RPCError) -> UInt64? {
        while s.applied < target {
            let from = s.applied + 1, to = min(target, s.applied + configuration.options.logRange)
            let logs = try await eth.logs(addresses: s.filter, topics: WatchState.topics, from: from, to: to)
            if let bad = logs.first(where: { l in s.tracker.hash(at: l.blockNumber).map { $0 != l.blockHash } ?? false }) {
                return bad.blockNumber
            }
            guard case .created(let created) = step(.logs(logs.sorted { $0.position < $1.position }), &s) else { preconditionFailure("logs give created pools") }
            update { $0.discovered += created.count }
            let reread = s.toRead()
            if !reread.isEmpty { _ = step(.register(block: to, reads: try await read(reread, at: to).map(\.recorded)), &s) }
            _ = step(.finish(block: to), &s)
        }
        publish(&s)
        return nil
    }

    /// The spot prices of `pools` at a past `block` as the PriceMatrix holds them (the larger
    /// address's token per the smaller's, raw units), by a state read at that block (absent: the
    /// pool did not exist, or has no price). For warming statistics up from history; a full node
    /// answers for its last 128 blocks.
    public func spotPrices(of pools: [WatchedPool], at block: UInt64) async throws(RPCError) -> [Address: Double] {
        var out: [Address: Double] = [:]
        // V3: slot0's price alone (token1 per token0 by address, as V3 pools sort their tokens).
        let v3 = pools.filter { $0.kind == .uniswapV3 }
        for (p, sqrt) in zip(v3, try await reader.v3Prices(v3.map(\.address), at: block)) {
            guard let sqrt, !sqrt.isZero else { continue }
            let r = sqrt.doubleValue / 79_228_162_514_264_337_593_543_950_336.0  // 2^96
            out[p.address] = r * r
        }
        for r in try await read(pools.filter { $0.kind != .uniswapV3 }, at: block) {
            guard let p = r.state?.spotPrice, p > 0, p.isFinite else { continue }
            out[r.pool.address] = r.pool.matrixPrice(p)
        }
        return out
    }

    /// State of `pools` at `block`: the pools that exist, with their V3 ticks.
    private func read(_ pools: [WatchedPool], at block: UInt64) async throws(RPCError) -> [WatchState.Read] {
        var out: [WatchState.Read] = []
        var v2ByFee: [UInt32: [WatchedPool]] = [:]
        var v3: [WatchedPool] = [], solidly: [WatchedPool] = [], curve: [WatchedPool] = []
        for p in pools {
            switch p.kind {
            case .uniswapV2(let fee): v2ByFee[fee, default: []].append(p)
            case .uniswapV3: v3.append(p)
            case .solidly: solidly.append(p)
            case .curve: curve.append(p)
            }
        }
        for (fee, group) in v2ByFee.sorted(by: { $0.key < $1.key }) {
            let states = try await reader.v2(group.map(\.address), feePips: fee, at: block)
            for (p, st) in zip(group, states) { out.append(.init(pool: p, state: st.map { .uniswapV2($0) }, tickGross: [:], covered: nil)) }
        }
        if !v3.isEmpty {
            let states = try await reader.v3(v3.map(\.address), words: configuration.options.v3Words, at: block)
            for (p, st) in zip(v3, states) {
                out.append(.init(pool: p, state: st.map { .uniswapV3($0.pool) }, tickGross: st?.tickGross ?? [:], covered: st?.covered))
            }
        }
        if !solidly.isEmpty {
            let specs = solidly.map { p -> (address: Address, decimals: (UInt8, UInt8), feePips: UInt32) in
                guard case .solidly(let fee, let d0, let d1) = p.kind else { preconditionFailure("grouped by kind") }
                return (p.address, (d0, d1), fee)
            }
            let states = try await reader.solidly(specs, at: block)
            for (p, st) in zip(solidly, states) { out.append(.init(pool: p, state: st.map { .solidly($0) }, tickGross: [:], covered: nil)) }
        }
        if !curve.isEmpty {
            let specs = curve.map { p -> (address: Address, decimals: (UInt8, UInt8)) in
                guard case .curve(let d0, let d1) = p.kind else { preconditionFailure("grouped by kind") }
                return (p.address, (d0, d1))
            }
            let states = try await reader.curve(specs, at: block)
            for (p, st) in zip(curve, states) { out.append(.init(pool: p, state: st.map { .curve($0) }, tickGross: [:], covered: nil)) }
        }
        return out
    }

    private func publish(_ s: inout WatchState) {
        guard case .snapshot(var snapshot) = step(.publish(headReceivedAt: s.headReceivedAt, appliedAt: configuration.clock(), baseFee: s.baseFee), &s) else {
            preconditionFailure("publish gives a snapshot")
        }
        // `latest` first: a consumer handed this one finds it there, or a newer one, never an older.
        shared.withLock {
            $0.status.snapshots += 1
            snapshot.sequence = $0.status.snapshots
            $0.latest = snapshot
        }
        if streaming.load(ordering: .acquiring), case .dropped = snapshotContinuation.yield(snapshot) { update { $0.droppedSnapshots += 1 } }
        update {
            // A resync starts a new book, whose counters start again from zero.
            let applied = s.book.counters.applied, malformed = s.book.counters.malformed + s.malformedCreations
            let newlyApplied = applied >= $0.book.applied ? applied - $0.book.applied : applied
            metrics.updates.increment(by: newlyApplied)
            $0.appliedTotal += newlyApplied
            let before = $0.book.malformed + $0.malformedCreations
            metrics.malformedLogs.increment(by: malformed >= before ? malformed - before : malformed)
            $0.stateBlock = s.applied
            $0.pools = s.book.count
            $0.absent = s.absent.count
            $0.pending = s.pending.count
            $0.stalePools = s.book.stale.count
            $0.book = s.book.counters
            $0.malformedCreations = s.malformedCreations
            $0.malformedLogs = malformed
            metrics.headLag.record($0.headLag)
            metrics.pools.record($0.pools)
            metrics.stalePools.record($0.stalePools)
        }
    }

    private func update(_ body: (inout Status) -> Void) { shared.withLock { body(&$0.status) } }

    /// Runs `op` until it succeeds (nil only when the task is cancelled), backing off between tries.
    private func retrying<T>(_ op: () async throws(RPCError) -> T) async -> T? {
        var wait = configuration.options.retryBackoff
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                return try await op()
            } catch {
                metrics.rpcErrors.increment()
                if error.code == .malformedResponse { metrics.malformedAnswers.increment() }
                update {
                    $0.rpcErrors += 1
                    if error.code == .malformedResponse { $0.malformedResponses += 1 }
                    if case .polling = configuration.heads { $0.connected = false }
                }
                logger.debug("rpc: \(error)")
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(8))
            }
        }
        return nil
    }
}

extension ChainTracker.Header {
    init(_ h: EthClient.Header) { self.init(number: h.number, hash: h.hash, parentHash: h.parentHash) }
}
