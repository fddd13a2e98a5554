import EVMPrimitives
import Opportunities
import SolanaDetection
import SolanaPrimitives

/// What Solana detection holds (the pool book and the cycle detector) and the synchronous changes
/// to it, as `SolanaPoolWatcher` makes them after its reads, notifications and filters: a pool
/// followed, an account's data taken at a slot, the cluster clock, detection on the pools that
/// changed. Every change goes through `perform`, so that the changes recorded (`--record`,
/// stream "solana:<chain>") and fed again to a fresh step reach the same book and find the same
/// opportunities.
public struct SolanaWatchStep: Sendable {
    public enum Input: Equatable, Sendable {
        /// The detector's configuration: what replay starts a step from (first in the stream).
        case configuration(starts: [PublicKey: SolanaCycleDetector.Start], maxHops: Int, lifetime: UInt64)
        case watch(PublicKey, venue: SolanaPoolBook.Venue)
        /// An account's data taken at a slot (nil: the account is gone): written at it (a
        /// notification), or `read` as of it (a read's context slot).
        case apply(PublicKey, slot: UInt64, data: [UInt8]?, read: Bool)
        /// An account's data seen again unchanged as of a later slot (kept only when a
        /// half-written pool waits on it).
        case seen(PublicKey, slot: UInt64)
        case clock(unixTime: Int64, slot: UInt64)
        /// Detection on the pools that changed, at clock reading `now` (unix ns).
        case detect(changed: [PublicKey], slot: UInt64, now: UInt64)
    }

    public enum Outcome {
        case none
        /// The pools an account's data changed.
        case changed([PublicKey])
        case found([Opportunity])

        public var pools: [PublicKey] {
            if case .changed(let p) = self { p } else { [] }
        }

        public var opportunities: [Opportunity] {
            if case .found(let o) = self { o } else { [] }
        }
    }

    /// What the watcher hands its recorder: each change (its kind `Input.kind`) and each
    /// opportunity published (kind 6).
    public enum Recorded: Sendable {
        case input(Input)
        case published(Opportunity)
    }

    public private(set) var book = SolanaPoolBook()
    public private(set) var detector: SolanaCycleDetector

    public init(configuration: SolanaCycleDetector.Configuration) {
        detector = SolanaCycleDetector(configuration: configuration)
    }

    @discardableResult
    public mutating func perform(_ input: Input) -> Outcome {
        switch input {
        case .configuration:
            return .none
        case .watch(let pool, let venue):
            book.watch(pool, venue: venue)
            return .none
        case .apply(let account, let slot, let data, let read):
            return .changed(book.apply(account, slot: slot, data: data, read: read))
        case .seen(let account, let slot):
            return .changed(book.seen(account, slot: slot))
        case .clock(let unix, let slot):
            book.setClock(unix, slot: slot)
            return .none
        case .detect(let changed, let slot, let now):
            return .found(detector.detect(book, changed: changed, slot: slot, now: now))
        }
    }
}

extension SolanaWatchStep.Input {
    public var kind: UInt8 {
        switch self {
        case .configuration: 1
        case .watch: 2
        case .apply: 3
        case .clock: 4
        case .detect: 5
        case .seen: 7
        }
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Little-endian (docs/recording.md): 1 configuration: max hops u8, lifetime u64, count u32,
    /// then each start: mint (32 bytes), least profit, largest input, costs (u64 each), by mint;
    /// 2 watch: pool (32), venue (u8, `Venue.allCases` order); 3 apply: account (32), slot u64,
    /// 0 (gone) or 1 and the data (u32 length, bytes), 2 or 3 the same taken as a read;
    /// 4 clock: unix time i64, slot u64; 5 detect: slot u64, now u64, count u32, the pools (32
    /// each); 7 seen: account (32), slot u64.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .configuration(let starts, let hops, let lifetime):
            w.u8(UInt8(clamping: hops))
            w.u64(lifetime)
            w.u32(starts.count)
            for (mint, s) in starts.sorted(by: { $0.key < $1.key }) {
                w.append(mint.bytes)
                w.u64(s.minProfit)
                w.u64(s.maxIn)
                w.u64(s.costs)
            }
        case .watch(let pool, let venue):
            w.append(pool.bytes)
            w.u8(UInt8(SolanaPoolBook.Venue.allCases.firstIndex(of: venue)!))
        case .apply(let account, let slot, let data, let read):
            w.append(account.bytes)
            w.u64(slot)
            w.u8((data == nil ? 0 : 1) + (read ? 2 : 0))
            if let data { w.sized(data) }
        case .seen(let account, let slot):
            w.append(account.bytes)
            w.u64(slot)
        case .clock(let unix, let slot):
            w.u64(UInt64(bitPattern: unix))
            w.u64(slot)
        case .detect(let changed, let slot, let now):
            w.u64(slot)
            w.u64(now)
            w.u32(changed.count)
            for p in changed { w.append(p.bytes) }
        }
        return w.bytes
    }

    public init(kind: UInt8, payload: [UInt8]) throws(Malformed) {
        var r = ByteReader(payload, what: "a Solana watch input (kind \(kind))") { Malformed(description: $0) }
        func key() throws(Malformed) -> PublicKey { PublicKey(try r.take(32)) }
        switch kind {
        case 1:
            let hops = Int(try r.u8()), lifetime = try r.u64()
            var starts: [PublicKey: SolanaCycleDetector.Start] = [:]
            for _ in 0..<(try r.count(itemSize: 56)) { starts[try key()] = .init(minProfit: try r.u64(), maxIn: try r.u64(), costs: try r.u64()) }
            self = .configuration(starts: starts, maxHops: hops, lifetime: lifetime)
        case 2:
            let pool = try key(), v = Int(try r.u8())
            guard v < SolanaPoolBook.Venue.allCases.count else { throw Malformed(description: "a venue numbered \(v)") }
            self = .watch(pool, venue: SolanaPoolBook.Venue.allCases[v])
        case 3:
            let account = try key(), slot = try r.u64()
            let flag = try r.u8()
            guard flag < 4 else { throw Malformed(description: "an account flag of \(flag)") }
            self = .apply(account, slot: slot, data: flag & 1 == 0 ? nil : Array(try r.take(r.count(itemSize: 1))), read: flag & 2 != 0)
        case 4:
            self = .clock(unixTime: Int64(bitPattern: try r.u64()), slot: try r.u64())
        case 7:
            self = .seen(try key(), slot: try r.u64())
        case 5:
            let slot = try r.u64(), now = try r.u64()
            var changed: [PublicKey] = []
            for _ in 0..<(try r.count(itemSize: 32)) { changed.append(try key()) }
            self = .detect(changed: changed, slot: slot, now: now)
        default:
            throw Malformed(description: "a Solana watch input of unknown kind \(kind)")
        }
        try r.end()
    }
}
