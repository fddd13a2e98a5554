import AMMMath
import EVMPrimitives
import EthClient
import MarketState

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `ChainWatcher` holds between steps, and the synchronous steps on it: applying a block
/// range's logs, registering pools read from the chain, rolling back, snapshots.
struct WatchState {
    /// The state of one pool read from the chain (nil: no pool there, or its read failed).
    struct Read {
        var pool: WatchedPool
        var state: Pool?
        var tickGross: [Int32: UInt256]
        var covered: ClosedRange<Int32>?
    }

    /// topic0 of every log fetched: pool events and factory creations.
    static let topics: [UInt256] = [
        PoolTopics.v2Sync, PoolTopics.solidlySync, PoolTopics.v3Swap, PoolTopics.pancakeV3Swap, PoolTopics.v3Mint, PoolTopics.v3Burn,
        PoolTopics.curveExchange, PoolDiscovery.pairCreated, PoolDiscovery.poolCreated,
    ]

    let chainID: UInt64
    let reorgDepth: UInt64
    var book: PoolBook
    var tracker: ChainTracker
    /// The last block whose logs are applied: the snapshot's block.
    var applied: UInt64 = 0
    /// When the head that led to the next snapshot arrived (ns since the epoch).
    var headReceivedAt: UInt64 = 0
    /// The base fee of the newest head seen.
    var baseFee: UInt256?
    /// Every pool to watch: configured and discovered.
    private(set) var universe: [WatchedPool]
    /// By `PoolID.index`.
    private(set) var info: [WatchedPool] = []
    private(set) var covered: [ClosedRange<Int32>?] = []
    private var slots: [PriceMatrix.Slot] = []
    /// Pools of the universe that are not deployed (yet), by address.
    private(set) var absent: [Address: WatchedPool] = [:]
    /// Pools a factory created whose state could not be read yet (a V3 pool not initialised):
    /// read again after every block until they are.
    private(set) var pending: [Address: WatchedPool] = [:]
    private let factories: [Address: WatchedFactory]
    private let tokens: Set<Address>
    /// Addresses whose logs are fetched: registered pools and factories.
    private(set) var filter: [Address] = []
    private(set) var malformedCreations = 0

    init(_ c: ChainWatcher.Configuration) {
        chainID = c.chainID
        reorgDepth = c.options.reorgDepth
        book = PoolBook(reorgDepth: c.options.reorgDepth)
        tracker = ChainTracker(depth: c.options.reorgDepth)
        var seen = Set<Address>()
        universe = c.pools.filter { seen.insert($0.address).inserted }
        factories = Dictionary(c.factories.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        tokens = Set(c.pools.flatMap { [$0.token0, $0.token1] })
    }

    /// A fresh book from reads at `head`.
    mutating func reset(head: EthClient.Header, reads: [Read], matrix: PriceMatrix) {
        book = PoolBook(reorgDepth: reorgDepth)
        tracker = ChainTracker(depth: reorgDepth)
        _ = tracker.observe(.init(head))
        info = []
        covered = []
        slots = []
        absent = [:]
        applied = head.number
        register(reads, at: head.number, matrix: matrix)
    }

    /// Registers (or replaces) pools read at the end of `block`; pools with no state are absent.
    mutating func register(_ reads: [Read], at block: UInt64, matrix: PriceMatrix) {
        for r in reads {
            guard let state = r.state else {
                if book.id(of: r.pool.address) == nil && pending[r.pool.address] == nil { absent[r.pool.address] = r.pool }
                continue
            }
            absent[r.pool.address] = nil
            pending[r.pool.address] = nil
            let id = book.register(r.pool.address, pool: state, at: LogPosition(block: block, index: .max), tickGross: r.tickGross)
            if id.index == info.count {
                info.append(r.pool)
                covered.append(r.covered)
                slots.append(matrix.slot(for: .init(chainID: chainID, tokenA: r.pool.token0, tokenB: r.pool.token1, venue: r.pool.venue)))
            } else {
                covered[id.index] = r.covered
            }
            write(id, block: block, matrix: matrix)
        }
        filter = book.addresses + factories.keys.sorted()
    }

    /// Applies a block range's logs in chain order; returns pools the factories created that are
    /// to be watched (pending: the caller reads their state at the range's end).
    mutating func apply(_ logs: [EVMLog], matrix: PriceMatrix) -> [WatchedPool] {
        var created: [WatchedPool] = []
        // One clock reading for the batch: its logs are applied together.
        let now = Self.nanoseconds()
        for log in logs {
            if !factories.isEmpty, let factory = factories[log.address] {
                guard let pool = creation(log, factory) else { continue }
                if book.id(of: pool.address) == nil && pending[pool.address] == nil {
                    if !universe.contains(where: { $0.address == pool.address }) { universe.append(pool) }
                    absent[pool.address] = nil
                    pending[pool.address] = pool
                    created.append(pool)
                }
                continue
            }
            if case .applied(let id) = book.apply(log) { write(id, block: log.blockNumber, matrix: matrix, at: now) }
        }
        return created
    }

    /// The pool a creation log announces, if both its tokens are watched.
    private mutating func creation(_ log: EVMLog, _ factory: WatchedFactory) -> WatchedPool? {
        let created: PoolDiscovery.Created
        do {
            created = try PoolDiscovery.decode(log)
        } catch where error.code == .unknownEvent {
            return nil
        } catch {
            malformedCreations += 1
            return nil
        }
        guard !log.removed, tokens.contains(created.token0), tokens.contains(created.token1) else { return nil }
        switch factory.kind {
        case .uniswapV2:
            guard created.feePips == nil else { return nil }
            return WatchedPool(address: created.pool, kind: factory.kind, tokenA: created.token0, tokenB: created.token1, venue: factory.venue)
        case .uniswapV3:
            guard let fee = created.feePips else { return nil }
            return WatchedPool(address: created.pool, kind: .uniswapV3, tokenA: created.token0, tokenB: created.token1, venue: factory.venue + fee)
        case .solidly, .curve:
            return nil  // their factories' events are not followed yet
        }
    }

    /// Pools whose state must be read (again): created ones not read yet, and stale ones.
    func toRead() -> [WatchedPool] { pending.values.sorted { $0.address < $1.address } + book.stale.sorted().map { info[$0] } }

    /// Undoes every change from `block` on, and rewrites the prices of the pools that changed back.
    mutating func rollBack(toBefore block: UInt64, matrix: PriceMatrix) {
        let before = book.appliedThrough
        book.rollBack(toBefore: block)
        applied = min(applied, block - 1)
        for i in before.indices where before[i] != book.appliedThrough[i] && !book.stale.contains(i) {
            write(PoolBook.PoolID(index: i), block: book.appliedThrough[i].block, matrix: matrix)
        }
    }

    mutating func finish(block: UInt64) {
        applied = block
        book.finalize(head: block)
    }

    func snapshot(appliedAt: UInt64) -> ChainWatcher.Snapshot {
        ChainWatcher.Snapshot(chainID: chainID, block: applied, hash: tracker.hash(at: applied) ?? .zero, book: book.withoutUndoHistory, pools: info, covered: covered,
                              headReceivedAt: headReceivedAt, appliedAt: appliedAt, baseFee: baseFee)
    }

    // Mutating, though it changes nothing here: as a non-mutating call from a mutating step, the
    // whole state was copied for it once per log.
    private mutating func write(_ id: PoolBook.PoolID, block: UInt64, matrix: PriceMatrix, at now: UInt64 = nanoseconds()) {
        // The matrix prices token1 per token0 by address order; a Curve pool's coins may be the other way.
        let p = info[id.index].matrixPrice(book.pools.spotPrice(id.index))
        matrix.write(slots[id.index], .init(price: p, block: block, writtenAt: now, source: .dex))
    }

    static func nanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

/// Nanoseconds since the Unix epoch: the clock of opportunity timestamps (comparable across
/// processes, unlike the monotonic clock).
public enum WallClock {
    public static func nanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}
