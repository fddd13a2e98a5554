import AMMMath
import EVMPrimitives

/// Every watched pool of one chain, kept equal to the chain's state by applying its logs in order.
///
/// - A log at or before a pool's last applied position is a duplicate (a backfill overlapping the
///   live stream, a resent log) and is skipped, so nothing is applied twice.
/// - Each applied log leaves an undo entry; entries are kept for `reorgDepth` blocks. A log the node
///   re-sends with `removed: true`, or `rollBack(toBefore:)`, undoes every change from that block on.
/// - Malformed logs, logs of pools not watched and events that do not fit the pool are counted and
///   skipped; a pool whose state can no longer be trusted (a Curve exchange our state would not
///   have paid, a reorg deeper than the journal) is marked stale for a re-read.
///
/// A value type: a copy taken between blocks is a consistent snapshot (arrays are shared until
/// the next write; pool states are boxed, so that write copies a reference per pool, and a state no
/// snapshot shares is changed in place: `PoolStates`).
public struct PoolBook: Sendable {
    /// A pool's dense index: O(1) access to its state.
    public struct PoolID: Hashable, Sendable {
        public let index: Int
        public init(index: Int) { self.index = index }
    }

    public enum Outcome: Equatable, Sendable {
        case applied(PoolID)
        case duplicate
        case unknownPool
        /// An event market state does not follow (a Transfer, a V2 Swap): nothing to change.
        case ignored
        case malformed(LogDecodeError.Code)
        /// The event does not fit the pool's kind or state; the pool is now stale.
        case stale(PoolID)
        /// A removed log: this many changes were undone.
        case rolledBack(Int)
    }

    public struct Counters: Equatable, Sendable {
        public var applied = 0
        public var duplicates = 0
        public var unknownPool = 0
        public var ignored = 0
        public var malformed = 0
        public var stale = 0
        public var undone = 0
        public init() {}
    }

    public private(set) var pools = PoolStates()
    public private(set) var addresses: [Address] = []
    /// The position of the last log applied to each pool, or of the state it was registered with.
    public private(set) var appliedThrough: [LogPosition] = []
    /// Pools that need their state read again from the chain.
    public private(set) var stale: Set<Int> = []
    public private(set) var counters = Counters()
    public let reorgDepth: UInt64

    private var ids = AddressIndex()
    /// liquidityGross per initialised tick of each V3 pool: a Burn un-initialises a tick at zero.
    /// Per pool (empty unless V3), sorted by tick: a dense array costs a third of a dictionary.
    private var gross: [TickGrossTable] = []
    /// What one applied log overwrote, kept without reference counting (a plain value: appending,
    /// finalising and undoing copy bytes, nothing else): the reserves a sync replaced, the price,
    /// liquidity and tick a V3 swap replaced, or, for the rarer changes (a Mint, a Burn, a Curve
    /// exchange), a key into `undoStates` where the whole previous state is kept.
    private struct Undo: Sendable {
        /// `.none`: the pool was read afresh since (registered again): nothing of it to undo.
        enum Kind: UInt8 { case reserves, price, state, none }
        var position: LogPosition
        var pool: Int
        var previousThrough: LogPosition
        var kind = Kind.state
        var a = UInt256.zero
        var b = UInt256.zero
        var tick: Int32 = 0
        var serial = 0
    }
    /// The states (and liquidityGross entries, in the order they were changed) that `.state` undo
    /// entries replaced, by their serial.
    private var undoStates: [Int: (state: Pool, gross: [(tick: Int32, gross: UInt256?)])] = [:]
    private var undoSerial = 0
    /// Undo entries, oldest first, from `journalStart` on: finalising a block only moves the start,
    /// and the array is compacted once the dead prefix is half of it (amortised O(1) per entry).
    private var journal: [Undo] = []
    private var journalStart = 0
    /// Changes before this block are no longer in the journal.
    private var journalFloor: UInt64 = 0

    public init(reorgDepth: UInt64 = 64) {
        self.reorgDepth = reorgDepth
    }

    public var count: Int { pools.count }

    public func id(of address: Address) -> PoolID? { ids[address].map(PoolID.init(index:)) }

    public subscript(id: PoolID) -> Pool { pools[id.index] }

    /// Adds a pool with its state as read at `position` (use `LogPosition(block: b, index: .max)`
    /// for state read at the end of block b), or replaces a stale one's. For V3 pools,
    /// `tickGross` gives each initialised tick's liquidityGross (`ticks(int24)`).
    @discardableResult
    public mutating func register(_ address: Address, pool: Pool, at position: LogPosition, tickGross: [Int32: UInt256] = [:]) -> PoolID {
        let i: Int
        if let existing = ids[address] {
            i = existing
            // Its undo entries describe changes to the state this read replaces: voided (undoing past
            // the read leaves the pool stale, to be read again, as its position says).
            for k in journalStart..<journal.count where journal[k].pool == i {
                if journal[k].kind == .state { undoStates[journal[k].serial] = nil }
                journal[k].kind = .none
            }
            pools.set(i, pool)
            appliedThrough[i] = position
            stale.remove(i)
        } else {
            i = pools.count
            ids.insert(address, i)
            pools.append(pool)
            addresses.append(address)
            appliedThrough.append(position)
        }
        if i == gross.count { gross.append(TickGrossTable()) }
        gross[i] = TickGrossTable(tickGross)
        return PoolID(index: i)
    }

    /// Applies one log (see the type's notes).
    public mutating func apply(_ log: EVMLog) -> Outcome {
        guard let i = ids[log.address] else {
            counters.unknownPool += 1
            return .unknownPool
        }
        if log.removed { return .rolledBack(rollBack(toBefore: log.blockNumber)) }
        guard log.position > appliedThrough[i] else {
            counters.duplicates += 1
            return .duplicate
        }
        let event: PoolEvent
        do {
            event = try PoolLogDecoder.decode(log)
        } catch where error.code == .unknownEvent {
            counters.ignored += 1
            return .ignored
        } catch {
            counters.malformed += 1
            return .malformed(error.code)
        }
        var undo = Undo(position: log.position, pool: i, previousThrough: appliedThrough[i])
        // A Mint or Burn changes the pool's liquidityGross table too: changed on a copy, kept if the
        // event fits. (Other events leave it alone: not even read, it is cold.) These, and a Curve
        // exchange, keep the whole previous state for an undo; the others only what they overwrite.
        let (liquidity, whole) = switch event {
        case .v3Mint, .v3Burn: (true, true)
        case .curveExchange: (false, true)
        default: (false, false)
        }
        var table = liquidity ? gross[i] : TickGrossTable()
        let before: Pool? = whole ? pools[i] : nil
        var previousGross: [(tick: Int32, gross: UInt256?)] = []
        guard pools.update(i, { Self.transition(&$0, event, gross: &table, previousGross: &previousGross, undo: &undo) }) else {
            counters.stale += 1
            stale.insert(i)
            return .stale(PoolID(index: i))
        }
        if liquidity { gross[i] = table }
        if let before {
            undoSerial += 1
            (undo.kind, undo.serial) = (.state, undoSerial)
            undoStates[undoSerial] = (before, previousGross)
        }
        appliedThrough[i] = log.position
        journal.append(undo)
        counters.applied += 1
        return .applied(PoolID(index: i))
    }

    /// Applies `event` to `pool`; false, and `pool` unchanged, when the event does not fit it.
    /// Switched on the event, then the pool's kind: a (pool, event) tuple would copy the pool's
    /// state once more per log.
    /// A sync or a V3 swap notes what it overwrites in `undo`; a Mint or Burn, the liquidityGross
    /// entries it changes in `previousGross`.
    private static func transition(_ pool: inout Pool, _ event: PoolEvent, gross: inout TickGrossTable, previousGross: inout [(tick: Int32, gross: UInt256?)],
                                   undo: inout Undo) -> Bool {
        switch event {
        case .sync(let r0, let r1):
            guard case .uniswapV2(var p) = pool, r0 <= UniswapV2Math.maxReserve, r1 <= UniswapV2Math.maxReserve else { return false }
            (undo.kind, undo.a, undo.b) = (.reserves, p.reserve0, p.reserve1)
            p.reserve0 = r0
            p.reserve1 = r1
            pool = .uniswapV2(p)
        case .solidlySync(let r0, let r1):
            guard case .solidly(var p) = pool else { return false }
            (undo.kind, undo.a, undo.b) = (.reserves, p.reserve0, p.reserve1)
            p.reserve0 = r0
            p.reserve1 = r1
            pool = .solidly(p)
        case .v3Swap(_, _, let price, let liquidity, let tick):
            guard case .uniswapV3 = pool, price >= TickMath.minSqrtRatio, price < TickMath.maxSqrtRatio, tick >= TickMath.minTick,
                  tick <= TickMath.maxTick
            else { return false }
            // Moved out, not copied: its tick arrays are neither retained nor released (their
            // headers are cold), and the pool is set again just below.
            guard case .uniswapV3(var p) = consume pool else { preconditionFailure("checked above") }
            (undo.kind, undo.a, undo.b, undo.tick) = (.price, p.sqrtPriceX96, p.liquidity, p.tick)
            p.sqrtPriceX96 = price
            p.liquidity = liquidity
            p.tick = tick
            pool = .uniswapV3(p)
        case .v3Mint(let lower, let upper, let amount), .v3Burn(let lower, let upper, let amount):
            let adding = if case .v3Mint = event { true } else { false }
            guard case .uniswapV3(var p) = pool, update(&p, gross: &gross, lower: lower, upper: upper, amount: amount, adding: adding, previousGross: &previousGross)
            else { return false }
            pool = .uniswapV3(p)
        case .curveExchange(let sold, let dx, let bought, let dy):
            // The event does not carry the admin fee taken from the balances: replay the exchange
            // on our state, which must pay exactly what the pool paid.
            guard case .curve(let p) = pool, sold + bought == 1, let out = try? p.amountOut(amountIn: dx, zeroForOne: sold == 0), out == dy,
                  let after = try? p.applying(amountIn: dx, zeroForOne: sold == 0)
            else { return false }
            pool = .curve(after)
        }
        return true
    }

    /// `Pool._modifyPosition` for a Mint (adding) or Burn: liquidityGross and liquidityNet of both
    /// ticks, the tick un-initialised when its gross reaches zero, in-range liquidity.
    private static func update(_ p: inout V3Pool, gross: inout TickGrossTable, lower: Int32, upper: Int32, amount: UInt256, adding: Bool,
                               previousGross: inout [(tick: Int32, gross: UInt256?)]) -> Bool {
        guard lower < upper else { return false }
        var g = gross
        for (tick, isUpper) in [(lower, false), (upper, true)] {
            let before = g[tick] ?? .zero
            let after: UInt256
            if adding {
                guard let a = before.checkedAdd(amount), a <= UInt256(limbs: .max, .max, 0, 0) else { return false }
                after = a
            } else {
                guard before >= amount else { return false }
                after = before - amount
            }
            previousGross.append((tick, g[tick]))
            let delta = Int256(bitPattern: amount)
            let net = p.liquidityNet(at: tick) ?? .zero
            // Lower ticks add liquidity when crossed upwards, upper ticks remove it.
            let newNet = (adding != isUpper) ? net &+ delta : net &- delta
            g[tick] = after.isZero ? nil : after
            guard (try? p.setTick(tick, liquidityNet: after.isZero ? nil : newNet)) != nil else { return false }
        }
        if lower <= p.tick && p.tick < upper {
            if adding {
                guard let l = p.liquidity.checkedAdd(amount), l <= UInt256(limbs: .max, .max, 0, 0) else { return false }
                p.liquidity = l
            } else {
                guard p.liquidity >= amount else { return false }
                p.liquidity = p.liquidity - amount
            }
        }
        gross = g
        return true
    }

    /// Puts back what a sync (the reserves) or a V3 swap (price, liquidity, tick) overwrote; false
    /// if the pool is not of the kind the entry was made on (it cannot be: an entry of a pool
    /// registered again is voided), and then nothing changes.
    private static func restore(_ pool: inout Pool, _ undo: Undo) -> Bool {
        switch (undo.kind, pool) {
        case (.reserves, .uniswapV2(var p)):
            (p.reserve0, p.reserve1) = (undo.a, undo.b)
            pool = .uniswapV2(p)
        case (.reserves, .solidly(var p)):
            (p.reserve0, p.reserve1) = (undo.a, undo.b)
            pool = .solidly(p)
        case (.price, .uniswapV3):
            guard case .uniswapV3(var p) = consume pool else { preconditionFailure("matched above") }
            (p.sqrtPriceX96, p.liquidity, p.tick) = (undo.a, undo.b, undo.tick)
            pool = .uniswapV3(p)
        default:
            return false
        }
        return true
    }

    /// Undoes every change from block `block` on (a reorg whose fork point is `block − 1`);
    /// returns how many. A pool whose state still comes from block `block` or later (a reorg
    /// deeper than the journal, or state read in a replaced block) is marked stale.
    @discardableResult
    public mutating func rollBack(toBefore block: UInt64) -> Int {
        var n = 0
        while journal.count > journalStart, let last = journal.last, last.position.block >= block {
            journal.removeLast()
            switch last.kind {
            case .none:
                n += 1
                continue
            case .reserves, .price:
                if !pools.update(last.pool, { Self.restore(&$0, last) }) { stale.insert(last.pool) }
            case .state:
                let previous = undoStates.removeValue(forKey: last.serial)!
                pools.set(last.pool, previous.state)
                if !previous.gross.isEmpty {
                    var g = gross[last.pool]
                    for (tick, value) in previous.gross.reversed() { g[tick] = value }
                    gross[last.pool] = g
                }
            }
            appliedThrough[last.pool] = last.previousThrough
            n += 1
        }
        // A pool still holding state from a replaced block (registered from a read in it, or changed
        // before the journal's floor) cannot be undone: it needs a fresh read.
        for i in appliedThrough.indices where appliedThrough[i].block >= block { stale.insert(i) }
        counters.undone += n
        return n
    }

    /// Drops undo entries older than `reorgDepth` blocks below `head`: those blocks are final.
    public mutating func finalize(head: UInt64) {
        guard head > reorgDepth else { return }
        let floor = head - reorgDepth
        guard floor > journalFloor else { return }
        while journalStart < journal.count && journal[journalStart].position.block < floor {
            if journal[journalStart].kind == .state { undoStates[journal[journalStart].serial] = nil }
            journalStart += 1
        }
        if journalStart > 1_024 && journalStart * 2 > journal.count {
            journal.removeFirst(journalStart)
            journalStart = 0
        }
        journalFloor = floor
    }

    /// The liquidityGross of `tick` in V3 pool `id`; nil when the tick is not initialised.
    public func liquidityGross(_ id: PoolID, tick: Int32) -> UInt256? { gross[id.index][tick] }

    /// Undo entries held (for tests and metrics).
    public var journalCount: Int { journal.count - journalStart }

    /// The book as a block's state, without its undo history: what a snapshot keeps. A copy that
    /// shared the journal would make the next change to this book copy all of it (up to
    /// `reorgDepth` blocks of entries, each with a pool's previous state) once per block; without
    /// it, the owner's journal stays uniquely held. Changes made to the copy start a journal of
    /// its own; undoing past them marks pools stale, as a reorg deeper than the journal does.
    public var withoutUndoHistory: PoolBook {
        var copy = self
        copy.journal = []
        copy.journalStart = 0
        copy.undoStates = [:]
        return copy
    }
}

/// liquidityGross (a uint128) of a V3 pool's initialised ticks, sorted by tick.
struct TickGrossTable: Sendable {
    private struct Entry: Sendable {
        var tick: Int32
        var low: UInt64
        var high: UInt64
    }
    private var entries: [Entry] = []

    init() {}

    init(_ values: [Int32: UInt256]) {
        entries = values.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map { Entry(tick: $0.key, low: $0.value.w0, high: $0.value.w1) }
    }

    private func position(_ tick: Int32) -> Int {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if entries[mid].tick < tick { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The tick's gross, nil when it is not initialised. Values are below 2^128.
    subscript(tick: Int32) -> UInt256? {
        get {
            let i = position(tick)
            guard i < entries.count, entries[i].tick == tick else { return nil }
            return UInt256(limbs: entries[i].low, entries[i].high, 0, 0)
        }
        set {
            let i = position(tick)
            let present = i < entries.count && entries[i].tick == tick
            if let v = newValue, !v.isZero {
                let e = Entry(tick: tick, low: v.w0, high: v.w1)
                if present { entries[i] = e } else { entries.insert(e, at: i) }
            } else if present {
                entries.remove(at: i)
            }
        }
    }
}
