import EVMPrimitives
import Synchronization

/// The best price per (chain, token pair, venue): the design's "L1 cache", read on the hot path by
/// detectors and written by market state (and, later, the CEX feed).
///
/// Slots are dense and never move: storage grows in chunks of 1,024 entries behind a directory
/// that is itself replaced by a larger copy when full (old directories are kept, so a reader that
/// loaded one stays valid). Reads are lock-free: each entry is a sequence lock (an even version
/// while stable), and a reader retries the rare read that overlaps a write. Slot lookup by key
/// takes a lock and is meant for set-up; the hot path keeps the `Slot` it was given.
public final class PriceMatrix: Sendable {
    /// A slot's identity.
    public struct Key: Hashable, Sendable {
        public var chainID: UInt64
        /// The pair, sorted: `token0 < token1` as numbers, as in Uniswap.
        public var token0: Address
        public var token1: Address
        /// The venue (a DEX, or a CEX market), as the writer numbers them.
        public var venue: UInt32

        public init(chainID: UInt64, tokenA: Address, tokenB: Address, venue: UInt32) {
            self.chainID = chainID
            (self.token0, self.token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA)
            self.venue = venue
        }
    }

    /// A slot: its position, and the address of its entry (chunks never move), so a read or a
    /// write goes straight to it. Valid for the matrix that gave it.
    public struct Slot: Hashable, Sendable {
        public let index: Int
        @usableFromInline let address: UInt

        init(index: Int, address: UInt) {
            self.index = index
            self.address = address
        }

        @inlinable @inline(__always)
        var entry: UnsafeMutablePointer<Atomic<UInt64>> { UnsafeMutablePointer(bitPattern: address)! }
    }

    /// Where a price came from: a pool (`dex`, one slot per pool's venue) or an exchange's book
    /// (`cexBinance`, venue `cexBinanceVenue`).
    public enum Source: UInt8, Sendable, CaseIterable {
        case dex = 1
        case cexBinance = 2
    }

    /// The venue number of Binance's book in keys (DEX venues are small numbers).
    public static let cexBinanceVenue: UInt32 = 0xCE00_0001

    /// How old a price of each source may be to be used, in nanoseconds of its writer's clock.
    /// A pool's price holds until its next event, so DEX prices do not age (their freshness is
    /// the watcher's); an exchange's book moves all the time, so its price ages out (10 s, the
    /// original's limit).
    public struct Staleness: Sendable {
        public var maxAge: [Source: UInt64] = [.cexBinance: 10_000_000_000]
        public init() {}

        /// Whether `e` may be used at `now` (the writer's clock).
        public func fresh(_ e: Entry, now: UInt64) -> Bool {
            guard let limit = maxAge[e.source] else { return true }
            return now <= e.writtenAt || now - e.writtenAt <= limit
        }
    }

    /// A slot's price when it is fresh for its source at `now`.
    public func read(_ slot: Slot, freshAt now: UInt64, staleness: Staleness) -> Entry? {
        guard let e = read(slot), staleness.fresh(e, now: now) else { return nil }
        return e
    }

    /// One price: token1 per token0 (in raw units), the block (or CEX event time) it is from, when
    /// it was written, and its source. A price is a signal for screening, so a `Double`; sizing
    /// and execution use the exact pool state.
    public struct Entry: Equatable, Sendable {
        public var price: Double
        public var block: UInt64
        /// Nanoseconds on the writer's clock.
        public var writtenAt: UInt64
        public var source: Source

        @inlinable
        public init(price: Double, block: UInt64, writtenAt: UInt64, source: Source) {
            self.price = price
            self.block = block
            self.writtenAt = writtenAt
            self.source = source
        }
    }

    static let chunkBits = 10
    static let chunkSize = 1 << chunkBits
    /// Words per entry: version, price bits, block, written-at, source.
    static let words = 5

    typealias Word = Atomic<UInt64>
    /// The directory: chunk pointers (as bits), replaced wholesale when it grows.
    private let directory: Atomic<UInt>
    /// Slots assigned, published after their storage exists.
    private let assigned = Atomic<Int>(0)
    private let state: Mutex<State>

    private struct State: @unchecked Sendable {
        var slots: [Key: Int] = [:]
        var capacity = 0  // chunk pointers the current directory holds
        var retired: [UnsafeMutablePointer<Atomic<UInt>>] = []
        var chunks: [UnsafeMutablePointer<Word>] = []
    }

    /// `expected` slots are allocated up front.
    public init(expected: Int = 4096) {
        let cap = Swift.max(4, (expected + Self.chunkSize - 1) >> Self.chunkBits)
        let dir = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: cap)
        for i in 0..<cap { (dir + i).initialize(to: Atomic(0)) }
        directory = Atomic(UInt(bitPattern: dir))
        var s = State()
        s.capacity = cap
        state = Mutex(s)
        for _ in 0..<((expected + Self.chunkSize - 1) >> Self.chunkBits) { state.withLock { addChunk(&$0) } }
    }

    deinit {
        state.withLock { s in
            for c in s.chunks { c.deinitialize(count: Self.chunkSize * Self.words); c.deallocate() }
            for d in s.retired { d.deallocate() }
            let dir = UnsafeMutablePointer<Atomic<UInt>>(bitPattern: directory.load(ordering: .relaxed))!
            dir.deallocate()
        }
    }

    /// The number of slots assigned.
    public var count: Int { assigned.load(ordering: .acquiring) }

    /// The slot for `key`, assigned on first use.
    public func slot(for key: Key) -> Slot {
        state.withLock { s in
            if let i = s.slots[key] { return Self.slot(i, in: s) }
            let i = s.slots.count
            if i >> Self.chunkBits >= s.chunks.count { addChunk(&s) }
            s.slots[key] = i
            assigned.store(i + 1, ordering: .releasing)
            return Self.slot(i, in: s)
        }
    }

    /// The slot already assigned to `key`, if any.
    public func existingSlot(for key: Key) -> Slot? {
        state.withLock { s in s.slots[key].map { Self.slot($0, in: s) } }
    }

    /// The slot at position `index`, nil when none is assigned there yet. Lock-free: a reader on
    /// another thread may walk the slots while they are being assigned.
    public func slot(at index: Int) -> Slot? {
        guard index >= 0 && index < count else { return nil }
        let dir = UnsafeMutablePointer<Atomic<UInt>>(bitPattern: directory.load(ordering: .acquiring))!
        let chunk = UnsafeMutablePointer<Word>(bitPattern: dir[index >> Self.chunkBits].load(ordering: .acquiring))!
        return Slot(index: index, address: UInt(bitPattern: chunk + (index & (Self.chunkSize - 1)) * Self.words))
    }

    private static func slot(_ i: Int, in s: State) -> Slot {
        let entry = s.chunks[i >> chunkBits] + (i & (chunkSize - 1)) * words
        return Slot(index: i, address: UInt(bitPattern: entry))
    }

    private func addChunk(_ s: inout State) {
        let chunk = UnsafeMutablePointer<Word>.allocate(capacity: Self.chunkSize * Self.words)
        for i in 0..<(Self.chunkSize * Self.words) { (chunk + i).initialize(to: Word(0)) }
        var dir = UnsafeMutablePointer<Atomic<UInt>>(bitPattern: directory.load(ordering: .acquiring))!
        if s.chunks.count == s.capacity {
            // A directory twice the size; the old one stays readable for readers holding it.
            let bigger = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: s.capacity * 2)
            for i in 0..<(s.capacity * 2) {
                (bigger + i).initialize(to: Atomic(i < s.capacity ? dir[i].load(ordering: .relaxed) : 0))
            }
            s.retired.append(dir)
            s.capacity *= 2
            directory.store(UInt(bitPattern: bigger), ordering: .releasing)
            dir = bigger
        }
        dir[s.chunks.count].store(UInt(bitPattern: chunk), ordering: .releasing)
        s.chunks.append(chunk)
    }

    /// Writes a slot. Writers to the same slot are serialised by its version; readers never block.
    @inlinable
    public func write(_ slot: Slot, _ e: Entry) {
        let p = slot.entry
        var v = p[0].load(ordering: .relaxed)
        while true {
            if v & 1 == 0 {
                let (done, seen) = p[0].compareExchange(expected: v, desired: v &+ 1, ordering: .acquiring)
                if done { break }
                v = seen
            } else {
                v = p[0].load(ordering: .relaxed)
            }
        }
        atomicMemoryFence(ordering: .releasing)
        p[1].store(e.price.bitPattern, ordering: .relaxed)
        p[2].store(e.block, ordering: .relaxed)
        p[3].store(e.writtenAt, ordering: .relaxed)
        p[4].store(UInt64(e.source.rawValue), ordering: .relaxed)
        p[0].store(v &+ 2, ordering: .releasing)
    }

    /// Reads a slot without locking; nil when it was never written.
    @inlinable
    public func read(_ slot: Slot) -> Entry? {
        let p = slot.entry
        while true {
            let v1 = p[0].load(ordering: .acquiring)
            if v1 & 1 != 0 { continue }
            let price = p[1].load(ordering: .relaxed)
            let block = p[2].load(ordering: .relaxed)
            let at = p[3].load(ordering: .relaxed)
            let source = p[4].load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            if p[0].load(ordering: .relaxed) == v1 {
                guard v1 != 0, let s = Source(rawValue: UInt8(truncatingIfNeeded: source)) else { return nil }
                return Entry(price: Double(bitPattern: price), block: block, writtenAt: at, source: s)
            }
        }
    }
}
