import AMMMath
import Opportunities
import SolanaDetection
import SolanaPrimitives
import SolanaVenues

/// A seeded Solana market for `arbiter bench detect --solana`: Raydium AMM v4, Orca Whirlpool,
/// Meteora DLMM and Raydium CLMM pools over a few mints and Phoenix order books beside them, their
/// accounts written in the mainnet layouts, and a stream of account writes as a validator would
/// send them: a Raydium vault after a trade, a Whirlpool's or CLMM pool's price, a DLMM pair's
/// active bin or a bin array's reserves, a Phoenix market (84,944 bytes: the smallest size the
/// program dispatches) after its maker re-quoted its ladder. As the EVM benchmark's
/// market: prices wander around each token's reference (σ 0.03% a write, mean-reverting); now
/// and then (0.2% of writes) a pool jumps 2%, opening arbitrage, until its next write.
public struct SolanaMarket: Sendable {
    public struct Write: Sendable {
        public var key: PublicKey
        public var slot: UInt64
        public var data: [UInt8]
    }

    public let sol: PublicKey
    public private(set) var pools: [(PublicKey, SolanaPoolBook.Venue)] = []
    /// The accounts as they stand (first the pools' own, then their dependencies).
    public private(set) var initial: [Write] = []
    var rng: SplitMix
    var slot: UInt64 = 1
    /// Per pool: what its writes are made from, and its reference price (token1 per token0, raw).
    enum Model: Sendable {
        case raydium(coinVault: PublicKey, pcVault: PublicKey, coin: PublicKey, pc: PublicKey, coinAmount: UInt64)
        case whirlpool(key: PublicKey, data: [UInt8])
        case clmm(key: PublicKey, data: [UInt8])
        case dlmm(key: PublicKey, data: [UInt8], binStep: UInt16, arrays: [(key: PublicKey, data: [UInt8])])
        /// The market re-quoted around the reference moved by each of `PhoenixLadder.moves`.
        case phoenix(key: PublicKey, variants: [[UInt8]])
    }
    var models: [(model: Model, reference: Double)] = []
    /// Share of writes that are a 2% jump.
    public var jumpRate = 0.002

    /// `books`: Phoenix markets (each an 85 kB account rewritten whole on every re-quote);
    /// `clmm`: whether Raydium CLMM pools are among the venues.
    public init(poolsPerVenue: Int, mints: Int, books: Int = 0, clmm: Bool = false, seed: UInt64) throws {
        rng = SplitMix(seed: seed)
        sol = try PublicKey(base58: "So11111111111111111111111111111111111111112")
        var all = [sol]
        for _ in 1..<max(mints, 2) { all.append(try key()) }
        // Token k is worth 1/(k+1) SOL; each pool is a little off that.
        func pair(_ i: Int) -> (Int, Int) {
            let a = i % all.count, b = (a + 1 + (i / all.count) % (all.count - 1)) % all.count
            return (min(a, b), max(a, b))
        }
        for i in 0..<poolsPerVenue {
            let (a, b) = pair(i)
            let price = Double(a + 1) / Double(b + 1)  // token b per token a
            try addRaydium(all[a], all[b], price: price)
            try addWhirlpool(all[a], all[b], price: price)
            try addDLMM(all[a], all[b], price: price)
            if clmm { try addCLMM(all[a], all[b], price: price) }
        }
        for i in 0..<books {
            let (a, b) = pair(i)
            try addPhoenix(all[a], all[b], price: Double(a + 1) / Double(b + 1))
        }
    }

    mutating func key() throws -> PublicKey { try PublicKey(bytes: (0..<4).flatMap { _ in le(rng.next()) }) }

    // MARK: layouts

    static func put(_ b: inout [UInt8], _ o: Int, _ bytes: [UInt8]) { b.replaceSubrange(o..<o + bytes.count, with: bytes) }
    static func u64(_ x: UInt64) -> [UInt8] { le(x) }
    static func u128(_ x: UInt128) -> [UInt8] { le(UInt64(truncatingIfNeeded: x)) + le(UInt64(truncatingIfNeeded: x >> 64)) }

    static func tokenAccount(mint: PublicKey, amount: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 165)
        put(&b, 0, mint.bytes)
        put(&b, 64, u64(amount))
        b[108] = 1
        return b
    }

    mutating func addRaydium(_ coin: PublicKey, _ pc: PublicKey, price: Double) throws {
        let pool = try key(), coinVault = try key(), pcVault = try key()
        var b = [UInt8](repeating: 0, count: RaydiumAMMAccount.size)
        Self.put(&b, 0, Self.u64(6))
        Self.put(&b, 176, Self.u64(25))
        Self.put(&b, 184, Self.u64(10_000))
        for (o, k) in [(336, coinVault), (368, pcVault), (400, coin), (432, pc)] { Self.put(&b, o, k.bytes) }
        let coinAmount = UInt64(1e13 * rng.uniform(0.5, 2))
        let pcAmount = UInt64(Double(coinAmount) * price)
        initial.append(Write(key: pool, slot: 0, data: b))
        for (k, m, a) in [(coinVault, coin, coinAmount), (pcVault, pc, pcAmount)] {
            initial.append(Write(key: k, slot: 0, data: Self.tokenAccount(mint: m, amount: a)))
        }
        pools.append((pool, .raydiumAMM))
        models.append((.raydium(coinVault: coinVault, pcVault: pcVault, coin: coin, pc: pc, coinAmount: coinAmount), price))
    }

    mutating func addWhirlpool(_ a: PublicKey, _ b: PublicKey, price: Double) throws {
        let pool = try key(), spacing: UInt16 = 64, liquidity: UInt128 = 40_000_000_000_000
        let sqrt = UInt128((price.squareRoot() * 18_446_744_073_709_551_616.0).rounded())
        let tick = WhirlpoolMath.tick(sqrtPrice: sqrt)
        var d = [UInt8](repeating: 0, count: WhirlpoolAccount.size)
        Self.put(&d, 0, anchorAccountDiscriminator("Whirlpool"))
        Self.put(&d, 41, le16(spacing) + le16(spacing) + le16(3_000))
        Self.put(&d, 49, Self.u128(liquidity))
        Self.put(&d, 65, Self.u128(sqrt))
        Self.put(&d, 81, le(UInt32(bitPattern: tick)))
        Self.put(&d, 101, a.bytes)
        Self.put(&d, 133, try key().bytes)
        Self.put(&d, 181, b.bytes)
        Self.put(&d, 213, try key().bytes)
        initial.append(Write(key: pool, slot: 0, data: d))
        models.append((.whirlpool(key: pool, data: d), price))
        let width = Int32(spacing) * WhirlpoolPool.ticksPerArray
        let center = WhirlpoolPool.arrayStart(tick, tickSpacing: spacing)
        for k: Int32 in -2...2 {
            let start = center + k * width
            var t = [UInt8](repeating: 0, count: WhirlpoolTickArray.size)
            Self.put(&t, 0, anchorAccountDiscriminator("TickArray"))
            Self.put(&t, 8, le(UInt32(bitPattern: start)))
            // The position spans the five arrays: in at the first tick, out at the last.
            if k == -2 { t[12] = 1; Self.put(&t, 13, Self.u128(liquidity)) }
            if k == 2 { let o = 12 + 87 * 113; t[o] = 1; Self.put(&t, o + 1, Self.u128(UInt128(bitPattern: -Int128(liquidity)))) }
            Self.put(&t, 12 + 88 * 113, pool.bytes)
            initial.append(Write(key: try SolanaPoolBook.tickArrayAddress(pool, start: start), slot: 0, data: t))
        }
        pools.append((pool, .whirlpool))
    }

    mutating func addDLMM(_ x: PublicKey, _ y: PublicKey, price: Double) throws {
        let pair = try key(), step: UInt16 = 10
        let active = Int32((log(price) / log(1.001)).rounded(.down))
        var d = [UInt8](repeating: 0, count: DLMMPairAccount.size)
        Self.put(&d, 0, DLMMPairAccount.discriminator)
        Self.put(&d, 8, le16(10_000) + le16(30) + le16(600) + le16(5_000) + le(UInt32(7_500)) + le(UInt32(150_000)))
        Self.put(&d, 48, le(UInt32(bitPattern: active)))
        Self.put(&d, 76, le(UInt32(bitPattern: active)))
        Self.put(&d, 80, le16(step))
        Self.put(&d, 88, x.bytes)
        Self.put(&d, 120, y.bytes)
        initial.append(Write(key: pair, slot: 0, data: d))
        let center = DLMMPool.arrayIndex(of: active)
        var arrays: [(key: PublicKey, data: [UInt8])] = []
        for index in (center - 2)...(center + 2) {
            var b = [UInt8](repeating: 0, count: DLMMBinArray.size)
            Self.put(&b, 0, DLMMBinArray.discriminator)
            Self.put(&b, 8, le(UInt64(bitPattern: index)))
            Self.put(&b, 24, pair.bytes)
            for slot in 0..<70 {
                let id = Int32(index * 70 + Int64(slot)), o = 56 + slot * 144
                let p = pow(1.001, Double(id))
                let amountX: UInt64 = id >= active ? 2_000_000_000_000 : 0
                let amountY: UInt64 = id <= active ? UInt64(2e12 * p) : 0
                Self.put(&b, o, Self.u64(amountX) + Self.u64(amountY) + Self.u128(UInt128((p * 18_446_744_073_709_551_616.0).rounded())))
            }
            let k = try SolanaPoolBook.binArrayAddress(pair, index: index)
            initial.append(Write(key: k, slot: 0, data: b))
            arrays.append((k, b))
        }
        pools.append((pair, .meteoraDLMM))
        models.append((.dlmm(key: pair, data: d, binStep: step, arrays: arrays), price))
    }

    /// A Raydium CLMM pool (spacing 60, fee 0.25% from its config) with one position over five
    /// initialized tick arrays around the price, which the pool's bitmap marks.
    mutating func addCLMM(_ a: PublicKey, _ b: PublicKey, price: Double) throws {
        let pool = try key(), config = try key(), spacing: UInt16 = 60, liquidity: UInt128 = 40_000_000_000_000
        let sqrt = UInt128((price.squareRoot() * 18_446_744_073_709_551_616.0).rounded())
        let tick = WhirlpoolMath.tick(sqrtPrice: sqrt)
        var c = [UInt8](repeating: 0, count: RaydiumCLMMConfig.size)
        Self.put(&c, 0, anchorAccountDiscriminator("AmmConfig"))
        Self.put(&c, 47, le(UInt32(2_500)) + le16(spacing))
        initial.append(Write(key: config, slot: 0, data: c))
        let width = Int32(spacing) * RaydiumCLMMPool.ticksPerArray
        let center = RaydiumCLMMPool.arrayStart(tick, tickSpacing: spacing)
        var bitmap = [UInt64](repeating: 0, count: 16)
        for k: Int32 in -2...2 {
            let start = center + k * width
            var t = [UInt8](repeating: 0, count: RaydiumCLMMTickArray.size)
            Self.put(&t, 0, anchorAccountDiscriminator("TickArrayState"))
            Self.put(&t, 8, pool.bytes)
            Self.put(&t, 40, le(UInt32(bitPattern: start)))
            // The position spans the five arrays: in at the first tick, out at the last.
            if k == -2 { Self.put(&t, 44, le(UInt32(bitPattern: start)) + Self.u128(liquidity) + Self.u128(liquidity)) }
            if k == 2 {
                let o = 44 + 59 * 168, last = start + 59 * Int32(spacing)
                Self.put(&t, o, le(UInt32(bitPattern: last)) + Self.u128(UInt128(bitPattern: -Int128(liquidity))) + Self.u128(liquidity))
            }
            initial.append(Write(key: try RaydiumCLMMAccount.tickArrayAddress(pool, start: start), slot: 0, data: t))
            let bit = Int(start / width) + 512
            bitmap[bit / 64] |= 1 << UInt64(bit % 64)
        }
        var d = [UInt8](repeating: 0, count: RaydiumCLMMAccount.size)
        Self.put(&d, 0, anchorAccountDiscriminator("PoolState"))
        Self.put(&d, 9, config.bytes)
        Self.put(&d, 73, a.bytes + b.bytes + (try key()).bytes + (try key()).bytes)
        Self.put(&d, 235, le16(spacing) + Self.u128(liquidity) + Self.u128(sqrt) + le(UInt32(bitPattern: tick)))
        Self.put(&d, 904, bitmap.flatMap { le($0) })
        initial.append(Write(key: pool, slot: 0, data: d))
        pools.append((pool, .raydiumCLMM))
        models.append((.clmm(key: pool, data: d), price))
    }

    /// A Phoenix market of `base`/`quote` (lots of 10⁶ base atoms, 1,000 lots a base unit, a tick
    /// of 10⁻⁶ quote atoms per base atom, taker fee 5 bps): a ladder of 12 orders a side, 0.03%
    /// apart, around `price` (quote atoms per base atom), pre-written for each move of the mid.
    mutating func addPhoenix(_ base: PublicKey, _ quote: PublicKey, price: Double) throws {
        let market = try key(), baseVault = try key(), quoteVault = try key()
        let variants = PhoenixLadder.moves.enumerated().map { n, move in
            PhoenixLadder.market(base: base, quote: quote, baseVault: baseVault, quoteVault: quoteVault, mid: price * (1 + move), sequence: UInt64(n) * 100 + 1)
        }
        initial.append(Write(key: market, slot: 0, data: variants[PhoenixLadder.moves.count / 2]))
        pools.append((market, .phoenix))
        models.append((.phoenix(key: market, variants: variants), price))
    }

    // MARK: the stream

    /// `n` account writes, each at a new slot: a pool at random moved to its reference price times
    /// (1 + deviation), the deviation small and fresh each write, or now and then ±2%.
    public mutating func writes(_ n: Int) -> [Write] {
        var out: [Write] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            slot += 1
            let i = Int(rng.next() % UInt64(models.count))
            let jump = rng.next01() < jumpRate
            let deviation = jump ? (rng.next() & 1 == 0 ? 0.02 : -0.02) : 0.0003 * rng.normal()
            let price = models[i].reference * (1 + deviation)
            switch models[i].model {
            case .raydium(let coinVault, let pcVault, let coin, let pc, let coinAmount):
                // A trade moved both vaults; the validator sends them one at a time: the price
                // the pool shows changes with the second.
                let amount = UInt64(Double(coinAmount) * rng.uniform(0.99, 1.01))
                out.append(Write(key: coinVault, slot: slot, data: Self.tokenAccount(mint: coin, amount: amount)))
                out.append(Write(key: pcVault, slot: slot, data: Self.tokenAccount(mint: pc, amount: UInt64(Double(amount) * price))))
            case .whirlpool(let key, var d):
                let sqrt = UInt128((price.squareRoot() * 18_446_744_073_709_551_616.0).rounded())
                Self.put(&d, 65, Self.u128(sqrt))
                Self.put(&d, 81, le(UInt32(bitPattern: WhirlpoolMath.tick(sqrtPrice: sqrt))))
                out.append(Write(key: key, slot: slot, data: d))
            case .clmm(let key, var d):
                let sqrt = UInt128((price.squareRoot() * 18_446_744_073_709_551_616.0).rounded())
                Self.put(&d, 253, Self.u128(sqrt) + le(UInt32(bitPattern: WhirlpoolMath.tick(sqrtPrice: sqrt))))
                out.append(Write(key: key, slot: slot, data: d))
            case .phoenix(let key, let variants):
                // The maker's ladder re-quoted: the pre-written market nearest the move (shared, not copied).
                let nearest = PhoenixLadder.moves.indices.min { abs(PhoenixLadder.moves[$0] - deviation) < abs(PhoenixLadder.moves[$1] - deviation) }!
                out.append(Write(key: key, slot: slot, data: variants[nearest]))
            case .dlmm(let key, var d, let step, let arrays):
                if rng.next() % 3 == 0 {
                    // Liquidity added or taken in one bin array.
                    let a = arrays[Int(rng.next() % UInt64(arrays.count))]
                    var b = a.data
                    let bin = Int(rng.next() % 70), o = 56 + bin * 144
                    let x = b[o..<o + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    Self.put(&b, o, Self.u64(UInt64(Double(x) * rng.uniform(0.9, 1.1))))
                    out.append(Write(key: a.key, slot: slot, data: b))
                } else {
                    let active = Int32((log(price) / log(1 + Double(step) / 10_000)).rounded(.down))
                    Self.put(&d, 76, le(UInt32(bitPattern: active)))
                    out.append(Write(key: key, slot: slot, data: d))
                }
            }
        }
        return out
    }
}

/// Phoenix markets as the bench writes them (layout: `PhoenixMarketAccount`): the bids and asks
/// trees balanced and coloured as red-black trees (black on every level but an incomplete deepest
/// one, which is red), nodes 1…n in book order.
enum PhoenixLadder {
    /// The mid's moves a re-quote may make: ±0.12% in steps of 0.0075%, and the ±2% jumps.
    static let moves: [Double] = [-0.02] + (-16...16).map { Double($0) * 0.000075 } + [0.02]
    static let levels = 12, lotsPerLevel: UInt64 = 2_000_000, stepBps = 3.0
    static let (bidsCapacity, asksCapacity, seats): (UInt64, UInt64, UInt64) = (512, 512, 128)

    static func market(base: PublicKey, quote: PublicKey, baseVault: PublicKey, quoteVault: PublicKey, mid: Double, sequence: UInt64) -> [UInt8] {
        let size = PhoenixMarketAccount.size(bids: bidsCapacity, asks: asksCapacity, seats: seats)
        var d = [UInt8](repeating: 0, count: size)
        func put(_ o: Int, _ b: [UInt8]) { SolanaMarket.put(&d, o, b) }
        put(0, le(PhoenixMarketAccount.discriminant) + le(UInt64(1)) + le(bidsCapacity) + le(asksCapacity) + le(seats))
        put(40, le(UInt32(9)) + le(UInt32(255)) + base.bytes + baseVault.bytes + le(UInt64(1_000_000)))
        put(120, le(UInt32(6)) + le(UInt32(254)) + quote.bytes + quoteVault.bytes + le(UInt64(1)))
        put(200, le(UInt64(1_000)))
        // Ticks of 10⁻⁶ quote atoms per base atom: 1,000 quote lots per base unit of 10⁹ atoms.
        put(832, le(UInt64(1_000)) + le(UInt64(1_000)) + le(sequence + UInt64(2 * levels)) + le(UInt64(5)))
        let center = mid * 1e6
        var bids: [(UInt64, UInt64)] = [], asks: [(UInt64, UInt64)] = []
        for k in 0..<levels {
            let away = 1 + stepBps / 10_000 * Double(k + 1)
            asks.append((UInt64((center * away).rounded(.up)), sequence + UInt64(2 * k)))
            bids.append((UInt64((center / away).rounded(.down)), ~(sequence + UInt64(2 * k + 1))))
        }
        let bidsAt = PhoenixMarketAccount.headerSize + 304
        let asksAt = bidsAt + 32 + 64 * Int(bidsCapacity)
        tree(&d, at: bidsAt, bids)  // best (highest) first
        tree(&d, at: asksAt, asks)  // best (lowest) first
        return d
    }

    /// `orders` (price in ticks, stored sequence) in book order as nodes 1…n of a balanced tree.
    static func tree(_ d: inout [UInt8], at base: Int, _ orders: [(UInt64, UInt64)]) {
        let n = orders.count
        var deepest = 0
        func depth(_ lo: Int, _ hi: Int, _ level: Int) {
            guard lo < hi else { return }
            deepest = max(deepest, level)
            let mid = (lo + hi) / 2
            depth(lo, mid, level + 1)
            depth(mid + 1, hi, level + 1)
        }
        depth(0, n, 0)
        let full = (1 << (deepest + 1)) - 1 == n
        @discardableResult func build(_ lo: Int, _ hi: Int, parent: UInt32, level: Int) -> UInt32 {
            guard lo < hi else { return 0 }
            let mid = (lo + hi) / 2, index = UInt32(mid + 1)
            let left = build(lo, mid, parent: index, level: level + 1), right = build(mid + 1, hi, parent: index, level: level + 1)
            let red: UInt32 = level == deepest && deepest > 0 && !full ? 1 : 0
            let o = base + 32 + 64 * mid
            SolanaMarket.put(&d, o, le(left) + le(right) + le(parent) + le(red))
            SolanaMarket.put(&d, o + 16, le(orders[mid].0) + le(orders[mid].1) + le(UInt64(1 + mid % 7)) + le(lotsPerLevel) + le(UInt64(0)) + le(UInt64(0)))
            return index
        }
        let root = build(0, n, parent: 0, level: 0)
        SolanaMarket.put(&d, base, le(root))
        SolanaMarket.put(&d, base + 16, le(UInt64(n)) + le(UInt32(n + 1)) + le(UInt32(n + 1)))
    }
}

@inline(__always) func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) } }
@inline(__always) func le16(_ x: UInt16) -> [UInt8] { le(x) }

#if canImport(Glibc)
import Glibc
#endif

/// Replays Solana account writes through the pool book and the cycle detector, one at a time,
/// timing each from the write's arrival to the detector's answer.
public enum SolanaReplay {
    public struct Result: Sendable {
        public var writes: Int
        public var seconds: Double
        /// Nanoseconds per write, sorted.
        public var latencies: [UInt64]
        public var rebuilt: Int
        public var published: Int
        public var cycles: Int
        /// Cycles that passed the screen and were sized.
        public var sized: Int
        public var writesPerSecond: Double { seconds > 0 ? Double(writes) / seconds : 0 }
        public func percentile(_ p: Double) -> UInt64 {
            guard !latencies.isEmpty else { return 0 }
            return latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
    }

    /// A book holding `market`'s pools in their initial state, and a detector from SOL.
    public static func start(_ market: SolanaMarket) -> (SolanaPoolBook, SolanaCycleDetector) {
        var book = SolanaPoolBook()
        book.clock = 1_780_000_000
        for (k, v) in market.pools { book.watch(k, venue: v) }
        for w in market.initial { book.apply(w.key, slot: w.slot, data: w.data) }
        let detector = SolanaCycleDetector(configuration: .init(starts: [market.sol: .init(minProfit: 1_000_000, maxIn: 2_000_000_000_000, costs: 15_000)]))
        return (book, detector)
    }

    public static func run(_ writes: [SolanaMarket.Write], book: inout SolanaPoolBook, detector: inout SolanaCycleDetector) -> Result {
        var latencies = [UInt64](repeating: 0, count: writes.count)
        var rebuilt = 0, published = 0
        let (cyclesBefore, sizedBefore) = (detector.counts.cycles, detector.counts.sized)
        let start = DetectReplay.now()
        for (i, w) in writes.enumerated() {
            let t0 = DetectReplay.now()
            let changed = book.apply(w.key, slot: w.slot, data: w.data)
            rebuilt += changed.count
            published += detector.detect(book, changed: changed, slot: w.slot, now: t0).count
            latencies[i] = DetectReplay.now() - t0
        }
        let seconds = Double(DetectReplay.now() - start) / 1e9
        latencies.sort()
        return Result(writes: writes.count, seconds: seconds, latencies: latencies, rebuilt: rebuilt, published: published,
                      cycles: detector.counts.cycles - cyclesBefore, sized: detector.counts.sized - sizedBefore)
    }
}
