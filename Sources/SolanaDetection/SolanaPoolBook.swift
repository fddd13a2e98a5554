import AMMMath
import SolanaPrimitives
import SolanaVenues

/// The Solana pools we watch, kept from their accounts: every account write carries the slot it
/// was read at, and an older write never replaces a newer one. A pool is rebuilt from its accounts
/// (the pool's own, then its vaults, tick arrays or bin arrays) whenever one of them changes; a pool
/// whose accounts do not decode is dropped from quoting and counted, never half-applied.
public struct SolanaPoolBook: Sendable {
    public enum Venue: String, Sendable, CaseIterable {
        case raydiumAMM, whirlpool, meteoraDLMM, raydiumCLMM, phoenix

        public var program: PublicKey {
            switch self {
            case .raydiumAMM: RaydiumAMMAccount.program
            case .whirlpool: WhirlpoolAccount.program
            case .meteoraDLMM: DLMMPairAccount.program
            case .raydiumCLMM: RaydiumCLMMAccount.program
            case .phoenix: PhoenixMarketAccount.program
            }
        }
    }

    /// A decoded pool: its venue, mints (token0, token1 of its `Pool`), state and the newest slot of
    /// the accounts it was built from.
    public struct Entry: Sendable {
        public var address: PublicKey
        public var venue: Venue
        public var mint0: PublicKey
        public var mint1: PublicKey
        public var pool: Pool
        public var slot: UInt64
        /// The tick or bin arrays it was built over, and the versions of them it read: when the
        /// pool's own account changes and they have not, the pool moves over the same arrays.
        var sources: [PublicKey] = []
        var versions: [UInt64] = []
        /// The arrays' start ticks or indexes, as `sources`.
        var indexes: [Int64] = []
    }

    public struct Counts: Sendable, Equatable {
        public init() {}
        public var applied = 0
        /// Writes older than what we hold, ignored.
        public var stale = 0
        /// Pools whose accounts did not decode (each time it happened).
        public var undecodable = 0
        /// Pools rebuilt.
        public var rebuilt = 0
        /// Raydium pools left at their previous state because one vault is known written at a
        /// slot the other is not yet known as of (a trade moves both: the pool is rebuilt when
        /// the second arrives, or a read shows it as of that slot).
        public var halfWritten = 0
    }

    struct Held: Sendable {
        /// The slot the data is known current as of: a notification's (the write's), or a
        /// read's (the node's when it answered; later reads of the same bytes move it on).
        var slot: UInt64
        /// The earliest slot the data can have been written at: a notification's slot; for a read
        /// that changed it, the slot after the one the previous data was known as of (0 for a first read).
        var written: UInt64
        /// Which write this is (every write gets the next number).
        var version: UInt64
        var data: [UInt8]
        /// The dependency decoded once, when it was written (nil: a pool's own account, or empty).
        var decoded: Decoded?
    }

    /// A pool's account or dependency as decoded (or why it did not decode); boxed, so that
    /// holding and copying one copies no account (a Raydium `AmmInfo` is over 700 bytes of keys).
    indirect enum Decoded: Sendable {
        case raydium(RaydiumAMMAccount)
        case whirlpool(WhirlpoolAccount)
        case pair(DLMMPairAccount)
        case token(SPLTokenAccount)
        case tickArray(WhirlpoolTickArray)
        case binArray(DLMMBinArray)
        case clmm(RaydiumCLMMAccount)
        case clmmConfig(RaydiumCLMMConfig)
        case clmmTickArray(RaydiumCLMMTickArray)
        case phoenix(PhoenixMarketAccount)
        case invalid(VenueDecodeError)
    }

    /// A tick array or bin array address by pool and index (the derivation hashes up to 255 times).
    struct Derived: Hashable, Sendable {
        var pool: PublicKey
        var index: Int64
    }

    /// How many tick arrays (Whirlpool) or bin arrays (DLMM) each side of the current one we follow.
    public var arraysEachSide: Int
    public private(set) var entries: [PublicKey: Entry] = [:]
    public private(set) var counts = Counts()
    /// Changes whenever a pool enters or leaves `entries` (a detector's cycle index follows it).
    public private(set) var generation = 0
    /// Changes whenever the set of followed accounts may have (a pool watched, a pool's
    /// dependencies changed): a follower subscribing account by account follows it.
    public private(set) var followedGeneration = 0
    var venues: [PublicKey: Venue] = [:]
    var accounts: [PublicKey: Held] = [:]
    /// The accounts each pool is built from beyond its own, as its last state asked for.
    var dependencies: [PublicKey: [PublicKey]] = [:]
    var dependents: [PublicKey: Set<PublicKey>] = [:]
    var derived: [Derived: PublicKey] = [:]
    /// Raydium pools half-written now (their previous state kept): an account of theirs known as
    /// of a later slot, even unchanged, may complete them.
    var awaiting = Set<PublicKey>()
    /// The cluster's unix time, for DLMM fees and Phoenix orders' expiry.
    public var clock: Int64 = 0
    /// The cluster's slot as its clock last said: a Phoenix book is judged at it or later (a
    /// notification of an older write, processed after the clock's, must not take it back).
    public var clockSlot: UInt64 = 0

    public init(arraysEachSide: Int = 2) { self.arraysEachSide = arraysEachSide }

    /// Starts following `pool` on `venue`; its accounts come through `apply`.
    public mutating func watch(_ pool: PublicKey, venue: Venue) {
        venues[pool] = venue
        dependents[pool, default: []].insert(pool)
        followedGeneration += 1
    }

    /// Whether `account` is one the book follows (a pool's own, or one a pool is built from).
    public func follows(_ account: PublicKey) -> Bool { venues[account] != nil || !(dependents[account]?.isEmpty ?? true) }

    /// The venue `pool` is followed as, nil when it is not followed.
    public func venue(of pool: PublicKey) -> Venue? { venues[pool] }

    /// Every account a pool needs that we hold no data for yet (to fetch).
    public var missing: [PublicKey] {
        var out = Set<PublicKey>()
        for (pool, _) in venues where accounts[pool] == nil { out.insert(pool) }
        for deps in dependencies.values { for d in deps where accounts[d] == nil { out.insert(d) } }
        return out.sorted()
    }

    /// All the accounts the book follows.
    public var followed: [PublicKey] {
        var out = Set(venues.keys)
        for deps in dependencies.values { out.formUnion(deps) }
        return out.sorted()
    }

    /// Takes `data` of `account` at `slot`: written at that slot (a notification), or `read` as of
    /// it (a read's context slot: written at it or before); returns the pools rebuilt from it. A
    /// missing account (`data` nil: closed, or never created) is held as empty.
    @discardableResult
    public mutating func apply(_ account: PublicKey, slot: UInt64, data: [UInt8]?, read: Bool = false) -> [PublicKey] {
        let previous = accounts[account]
        if let previous, previous.slot > slot {
            counts.stale += 1
            return []
        }
        counts.applied += 1
        let bytes = data ?? []
        let written = !read ? slot : previous.map { $0.data == bytes ? $0.written : $0.slot + 1 } ?? 0
        accounts[account] = Held(slot: slot, written: written, version: UInt64(counts.applied), data: bytes, decoded: decodeDependency(account, bytes))
        var rebuilt: [PublicKey] = []
        for pool in dependents[account] ?? [] where rebuild(pool) { rebuilt.append(pool) }
        return rebuilt.sorted()
    }

    /// Whether a half-written pool waits on `account`: then the same bytes seen again at a later
    /// slot (`seen`) may complete it.
    public func awaits(_ account: PublicKey) -> Bool {
        !awaiting.isEmpty && dependents[account].map { !awaiting.isDisjoint(with: $0) } ?? false
    }

    /// `account`'s data seen again, unchanged, as of `slot`: held as current as of it; returns the
    /// half-written pools that completes. (A vault whose write we saw, read again with its partner
    /// as of a later slot, must not wait for a notification the read already covered.)
    @discardableResult
    public mutating func seen(_ account: PublicKey, slot: UInt64) -> [PublicKey] {
        guard let held = accounts[account], held.slot < slot else { return [] }
        accounts[account]!.slot = slot
        var rebuilt: [PublicKey] = []
        for pool in dependents[account] ?? [] where awaiting.contains(pool) && rebuild(pool) { rebuilt.append(pool) }
        return rebuilt.sorted()
    }

    /// Rebuilds `pool` from its accounts; false when they are incomplete or do not decode.
    mutating func rebuild(_ pool: PublicKey) -> Bool {
        guard let venue = venues[pool], let own = accounts[pool], !own.data.isEmpty else { return false }
        do {
            let decoded = try decode(pool, venue: venue, own: own)
            setDependencies(pool, decoded.needs)
            guard let entry = decoded.entry else { return false }
            if entries.updateValue(entry, forKey: pool) == nil { generation += 1 }
            counts.rebuilt += 1
            return true
        } catch {
            awaiting.remove(pool)
            if entries.removeValue(forKey: pool) != nil { generation += 1 }
            counts.undecodable += 1
            return false
        }
    }

    mutating func setDependencies(_ pool: PublicKey, _ needs: [PublicKey]) {
        guard dependencies[pool] != needs else { return }
        followedGeneration += 1
        for old in dependencies[pool] ?? [] where !needs.contains(old) { dependents[old]?.remove(pool) }
        for n in needs {
            dependents[n, default: []].insert(pool)
            // Written before the pool asked for it: decoded now, once.
            if let h = accounts[n], h.decoded == nil, !h.data.isEmpty { accounts[n]!.decoded = decodeDependency(n, h.data) }
        }
        dependencies[pool] = needs
    }

    /// The pool's entry (nil while an account it needs is not held yet) and the accounts it needs.
    mutating func decode(_ pool: PublicKey, venue: Venue, own: Held) throws -> (entry: Entry?, needs: [PublicKey]) {
        switch venue {
        case .raydiumAMM:
            let info = try decoded(own, { if case .raydium(let a) = $0 { a } else { nil } }, RaydiumAMMAccount.init(data:))!
            let needs = [info.coinVault, info.pcVault]
            guard let coin = held(info.coinVault), let pc = held(info.pcVault) else { return (nil, needs) }
            // Each vault's data as of a slot no earlier than either's known write (two
            // notifications: the same slot; a read covers the writes up to its slot).
            guard max(coin.written, pc.written) <= min(coin.slot, pc.slot) else {
                counts.halfWritten += 1
                awaiting.insert(pool)
                return (nil, needs)
            }
            awaiting.remove(pool)
            guard info.swaps(at: clock) else { throw VenueDecodeError(.unsupported, "Raydium pool \(pool) does not swap (status \(info.status))") }
            let p = try info.pool(coinVault: try token(coin), pcVault: try token(pc))
            return (Entry(address: pool, venue: venue, mint0: info.coinMint, mint1: info.pcMint, pool: .raydiumAMM(p),
                          slot: max(accounts[pool]!.slot, coin.slot, pc.slot)), needs)
        case .whirlpool:
            let w = try decoded(own, { if case .whirlpool(let a) = $0 { a } else { nil } }, WhirlpoolAccount.init(data:))!
            let width = Int32(w.tickSpacing) * WhirlpoolPool.ticksPerArray
            let current = WhirlpoolPool.arrayStart(w.tickCurrent, tickSpacing: w.tickSpacing)
            let starts = (-arraysEachSide...arraysEachSide).map { current + Int32($0) * width }
                .filter { $0 + width > WhirlpoolMath.minTick && $0 <= WhirlpoolMath.maxTick }
            let keys = try arrays(pool, starts.map(Int64.init), venue: venue)
            guard let (holds, slot) = all(keys, after: accounts[pool]!.slot) else { return (nil, keys) }
            let versions = holds.map(\.version)
            let built: WhirlpoolPool
            if case .whirlpool(let previous)? = unchanged(pool, keys, versions) {
                built = try w.pool(over: previous)
            } else {
                // Arrays never created hold nothing: a swap into one is refused by the pool's quote.
                let arrays = try holds.compactMap { h in try tickArray(h) }
                guard arrays.allSatisfy({ $0.whirlpool == pool }) else { throw VenueDecodeError(.owner, "a tick array of another pool") }
                built = try w.pool(tickArrays: arrays)
            }
            return (Entry(address: pool, venue: venue, mint0: w.mintA, mint1: w.mintB, pool: .whirlpool(built), slot: slot,
                          sources: keys, versions: versions, indexes: starts.map(Int64.init)), keys)
        case .meteoraDLMM:
            let pair = try decoded(own, { if case .pair(let a) = $0 { a } else { nil } }, DLMMPairAccount.init(data:))!
            let current = DLMMPool.arrayIndex(of: pair.activeID)
            let indexes = (-Int64(arraysEachSide)...Int64(arraysEachSide)).map { current + $0 }
            let keys = try arrays(pool, indexes, venue: venue)
            guard let (holds, slot) = all(keys, after: accounts[pool]!.slot) else { return (nil, keys) }
            let versions = holds.map(\.version)
            let built: DLMMPool
            if case .meteoraDLMM(let previous, _)? = unchanged(pool, keys, versions),
               previous.binStep == pair.binStep, previous.parameters == pair.parameters {
                built = try pair.pool(over: previous)
            } else {
                built = try pair.pool(address: pool, binArrays: try holds.compactMap { h in try binArray(h) })
            }
            return (Entry(address: pool, venue: venue, mint0: pair.mintX, mint1: pair.mintY, pool: .meteoraDLMM(built, timestamp: clock),
                          slot: slot, sources: keys, versions: versions, indexes: indexes), keys)
        case .raydiumCLMM:
            let c = try decoded(own, { if case .clmm(let a) = $0 { a } else { nil } }, RaydiumCLMMAccount.init(data:))!
            // The fee's config, and the arrays the bitmap marks initialized that a swap reads
            // next each way (the one holding the current tick first when it is initialized).
            let down = RaydiumCLMMPool.initializedArrays(from: c.tickCurrent, tickSpacing: c.tickSpacing, bitmap: c.bitmap, zeroForOne: true, count: arraysEachSide + 1)
            let up = RaydiumCLMMPool.initializedArrays(from: c.tickCurrent, tickSpacing: c.tickSpacing, bitmap: c.bitmap, zeroForOne: false, count: arraysEachSide + 1)
            let starts = Array(Set(down + up)).sorted()
            let keys = try arrays(pool, starts.map(Int64.init), venue: venue)
            let needs = [c.ammConfig] + keys
            guard let configHeld = held(c.ammConfig), let (holds, slot) = all(keys, after: max(accounts[pool]!.slot, configHeld.slot)) else { return (nil, needs) }
            guard let config = try decoded(configHeld, { if case .clmmConfig(let a) = $0 { a } else { nil } }, RaydiumCLMMConfig.init(data:)) else {
                throw VenueDecodeError(.owner, "Raydium CLMM pool \(pool): its config \(c.ammConfig) does not exist")
            }
            let versions = holds.map(\.version)
            let built: RaydiumCLMMPool
            if case .raydiumCLMM(let previous)? = unchanged(pool, keys, versions) {
                built = try c.pool(over: previous, config: config)
            } else {
                let arrays = try holds.compactMap { h throws(VenueDecodeError) in
                    try decoded(h, { if case .clmmTickArray(let t) = $0 { t } else { nil } }, RaydiumCLMMTickArray.init(data:))
                }
                guard arrays.allSatisfy({ $0.pool == pool }) else { throw VenueDecodeError(.owner, "a tick array of another pool") }
                built = try c.pool(config: config, tickArrays: arrays)
            }
            return (Entry(address: pool, venue: venue, mint0: c.mint0, mint1: c.mint1, pool: .raydiumCLMM(built), slot: slot,
                          sources: keys, versions: versions, indexes: starts.map(Int64.init)), needs)
        case .phoenix:
            // One account holds the whole book; its orders' expiry is judged at the slot it was read and the cluster's time.
            let m = try decoded(own, { if case .phoenix(let a) = $0 { a } else { nil } }, PhoenixMarketAccount.init(data:))!
            guard m.active else { throw VenueDecodeError(.unsupported, "Phoenix market \(pool) is not active (status \(m.status))") }
            let book = try m.book(slot: max(own.slot, clockSlot), unixTimestamp: UInt64(max(0, clock)))
            return (Entry(address: pool, venue: venue, mint0: m.baseMint, mint1: m.quoteMint, pool: .phoenix(book), slot: own.slot), [])
        }
    }

    func held(_ key: PublicKey) -> Held? { accounts[key] }

    /// The pool as last built, when it was built over `keys` at `versions` (its arrays unchanged).
    func unchanged(_ pool: PublicKey, _ keys: [PublicKey], _ versions: [UInt64]) -> Pool? {
        guard let e = entries[pool], e.sources == keys, e.versions == versions else { return nil }
        return e.pool
    }

    /// What we hold of every one of `keys` and the newest slot among them and `slot`; nil while
    /// one is not held.
    func all(_ keys: [PublicKey], after slot: UInt64) -> ([Held], UInt64)? {
        var out: [Held] = []
        out.reserveCapacity(keys.count)
        var newest = slot
        for k in keys {
            guard let h = accounts[k] else { return nil }
            out.append(h)
            newest = max(newest, h.slot)
        }
        return (out, newest)
    }

    /// `data` of `account` decoded, once, as what it is to the book: a pool's own account, or
    /// what the pools depending on it take it for (nil when empty or nothing depends on it).
    func decodeDependency(_ account: PublicKey, _ data: [UInt8]) -> Decoded? {
        guard !data.isEmpty else { return nil }
        // A pool's own account, or one a pool (of the venue of the first pool that follows it) is built from.
        let own = venues[account]
        guard let venue = own ?? dependents[account]?.first.flatMap({ venues[$0] }) else { return nil }
        do {
            switch (venue, own != nil) {
            case (.raydiumAMM, true): return .raydium(try RaydiumAMMAccount(data: data))
            case (.whirlpool, true): return .whirlpool(try WhirlpoolAccount(data: data))
            case (.meteoraDLMM, true): return .pair(try DLMMPairAccount(data: data))
            case (.raydiumAMM, false): return .token(try SPLTokenAccount(data: data))
            case (.whirlpool, false): return .tickArray(try WhirlpoolTickArray(data: data))
            case (.meteoraDLMM, false): return .binArray(try DLMMBinArray(data: data))
            case (.raydiumCLMM, true): return .clmm(try RaydiumCLMMAccount(data: data))
            case (.phoenix, true): return .phoenix(try PhoenixMarketAccount(data: data))
            case (.phoenix, false): return nil  // a market depends on no other account
            case (.raydiumCLMM, false):
                // A pool's config, or one of its tick arrays: told apart by size.
                return data.count == RaydiumCLMMConfig.size ? .clmmConfig(try RaydiumCLMMConfig(data: data)) : .clmmTickArray(try RaydiumCLMMTickArray(data: data))
            }
        } catch {
            return .invalid(error)
        }
    }

    /// `h` as `T`: decoded when it was written (`pick`), else decoded now; nil when the
    /// account does not exist.
    func decoded<T>(_ h: Held, _ pick: (Decoded) -> T?, _ decode: ([UInt8]) throws(VenueDecodeError) -> T) throws(VenueDecodeError) -> T? {
        guard !h.data.isEmpty else { return nil }
        if case .invalid(let e)? = h.decoded { throw e }
        if let d = h.decoded, let t = pick(d) { return t }
        return try decode(h.data)
    }

    func token(_ h: Held) throws(VenueDecodeError) -> SPLTokenAccount {
        guard let t = try decoded(h, { if case .token(let t) = $0 { t } else { nil } }, SPLTokenAccount.init(data:)) else {
            return try SPLTokenAccount(data: h.data)  // an empty vault: refused as the decoder refuses it
        }
        return t
    }

    func tickArray(_ h: Held) throws(VenueDecodeError) -> WhirlpoolTickArray? {
        try decoded(h, { if case .tickArray(let t) = $0 { t } else { nil } }, WhirlpoolTickArray.init(data:))
    }

    func binArray(_ h: Held) throws(VenueDecodeError) -> DLMMBinArray? {
        try decoded(h, { if case .binArray(let b) = $0 { b } else { nil } }, DLMMBinArray.init(data:))
    }

    /// The addresses of `pool`'s arrays at `indexes`: those it follows already when they are the
    /// same (the common case: the price stayed within its array), else derived or looked up.
    mutating func arrays(_ pool: PublicKey, _ indexes: [Int64], venue: Venue) throws -> [PublicKey] {
        if let e = entries[pool], e.indexes == indexes { return e.sources }
        return try indexes.map { try address(pool, $0, venue: venue) }
    }

    /// The address derived for `pool` at `index` (a tick array's start or a bin array's index), kept.
    mutating func address(_ pool: PublicKey, _ index: Int64, venue: Venue) throws -> PublicKey {
        let k = Derived(pool: pool, index: index)
        if let a = derived[k] { return a }
        let a = switch venue {
        case .whirlpool: try Self.tickArrayAddress(pool, start: Int32(index))
        case .raydiumCLMM: try RaydiumCLMMAccount.tickArrayAddress(pool, start: Int32(index))
        default: try Self.binArrayAddress(pool, index: index)
        }
        derived[k] = a
        return a
    }

    /// Orca's tick array address: seeds "tick_array", the pool, the start index in decimal.
    public static func tickArrayAddress(_ pool: PublicKey, start: Int32) throws -> PublicKey {
        try PublicKey.findProgramAddress(seeds: [Array("tick_array".utf8), pool.bytes, Array(String(start).utf8)], program: WhirlpoolAccount.program).0
    }

    /// Meteora's bin array address: seeds "bin_array", the pair, the index as i64 little-endian.
    public static func binArrayAddress(_ pair: PublicKey, index: Int64) throws -> PublicKey {
        let le = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: index) >> (8 * UInt64($0))) }
        return try PublicKey.findProgramAddress(seeds: [Array("bin_array".utf8), pair.bytes, le], program: DLMMPairAccount.program).0
    }

    /// Re-stamps the pools whose quotes depend on the cluster's time: DLMM pairs (their fees decay
    /// with it) and Phoenix books (their orders expire by it, and by the slot: with `slot`, the
    /// cluster's current one, a book unchanged since an earlier slot is judged at this one).
    public mutating func setClock(_ unixTime: Int64, slot: UInt64? = nil) {
        clock = unixTime
        if let slot { clockSlot = max(clockSlot, slot) }
        for (k, e) in entries {
            switch e.pool {
            case .meteoraDLMM(let p, _): entries[k]!.pool = .meteoraDLMM(p, timestamp: unixTime)
            case .phoenix(var b):
                b.unixTimestamp = UInt64(max(0, unixTime))
                b.slot = max(b.slot, slot ?? 0)
                entries[k]!.pool = .phoenix(b)
            default: break
            }
        }
    }
}
