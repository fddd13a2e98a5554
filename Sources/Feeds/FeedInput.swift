import EVMPrimitives

/// One change to a `CexFeedState`, as `BinanceFeed` makes it: every frame with the clocks it was
/// applied at, the REST resyncs' answers, outages and the once-a-second sweep. What `--record`
/// keeps (stream "cex:binance") and what replay feeds a fresh state, to reach the same books.
///
/// Bytes (little-endian; docs/recording.md): kind 1 frame: monotonic ns u64, wall ms u64, the
/// frame's bytes; 2 depth snapshot: symbol u32, last update id u64, monotonic ns u64, then bids and
/// asks (count u32, then price and quantity each as significand u64 and scale u8); 3 recovered
/// trades: symbol u32, count u32, ids u64; 4 disconnected: count u32, symbols u32; 5 resynced:
/// symbol u32; 6 sweep: monotonic ns u64; 7 the state's symbols (UTF-8, one per line), first.
public enum FeedInput: Equatable, Sendable {
    case frame([UInt8], at: UInt64, wallMillis: UInt64)
    case depth(symbol: Int, lastUpdateID: UInt64, bids: [BinanceFrameParser.Level], asks: [BinanceFrameParser.Level], at: UInt64)
    case recoveredTrades(symbol: Int, ids: [UInt64])
    case disconnected([Int])
    case resynced(Int)
    case sweep(at: UInt64)
    case symbols([String])

    /// What a change gave back: a frame's outcome, the books a sweep found frozen, whether
    /// recovered trades filled every hole.
    public struct Result: Sendable {
        public var outcome: CexFeedState.Outcome?
        public var frozen: [Int] = []
        public var complete = false
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public var kind: UInt8 {
        switch self {
        case .frame: 1
        case .depth: 2
        case .recoveredTrades: 3
        case .disconnected: 4
        case .resynced: 5
        case .sweep: 6
        case .symbols: 7
        }
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        func levels(_ l: [BinanceFrameParser.Level]) {
            w.u32(l.count)
            for x in l {
                for d in [x.price, x.quantity] {
                    w.u64(d.significand)
                    w.u8(d.scale)
                }
            }
        }
        switch self {
        case .frame(let bytes, let at, let wall):
            w.u64(at)
            w.u64(wall)
            w.append(bytes)
        case .depth(let symbol, let id, let bids, let asks, let at):
            w.u32(symbol)
            w.u64(id)
            w.u64(at)
            levels(bids)
            levels(asks)
        case .recoveredTrades(let symbol, let ids):
            w.u32(symbol)
            w.u32(ids.count)
            for i in ids { w.u64(i) }
        case .disconnected(let symbols):
            w.u32(symbols.count)
            for s in symbols { w.u32(s) }
        case .resynced(let symbol):
            w.u32(symbol)
        case .sweep(let at):
            w.u64(at)
        case .symbols(let names):
            w.append(names.joined(separator: "\n").utf8)
        }
        return w.bytes
    }

    public init(kind: UInt8, payload: [UInt8]) throws(Malformed) {
        var r = ByteReader(payload, what: "a feed input (kind \(kind))") { Malformed(description: $0) }
        func decimal() throws(Malformed) -> CexDecimal {
            let significand = try r.u64(), scale = try r.u8()
            guard scale <= CexDecimal.maxScale else { throw Malformed(description: "a decimal of scale \(scale) in a feed input") }
            return CexDecimal(significand: significand, scale: scale)
        }
        func levels() throws(Malformed) -> [BinanceFrameParser.Level] {
            var out: [BinanceFrameParser.Level] = []
            for _ in 0..<(try r.count(itemSize: 18)) { out.append(.init(price: try decimal(), quantity: try decimal())) }
            return out
        }
        switch kind {
        case 1:
            let t = try r.u64(), wall = try r.u64()
            self = .frame(Array(r.rest()), at: t, wallMillis: wall)
        case 2:
            let symbol = Int(try r.u32()), id = try r.u64(), t = try r.u64()
            self = .depth(symbol: symbol, lastUpdateID: id, bids: try levels(), asks: try levels(), at: t)
        case 3:
            let symbol = Int(try r.u32())
            var ids: [UInt64] = []
            for _ in 0..<(try r.count(itemSize: 8)) { ids.append(try r.u64()) }
            self = .recoveredTrades(symbol: symbol, ids: ids)
        case 4:
            var symbols: [Int] = []
            for _ in 0..<(try r.count(itemSize: 4)) { symbols.append(Int(try r.u32())) }
            self = .disconnected(symbols)
        case 5:
            self = .resynced(Int(try r.u32()))
        case 6:
            self = .sweep(at: try r.u64())
        case 7:
            let text = r.rest()
            self = .symbols(text.isEmpty ? [] : String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        default:
            throw Malformed(description: "a feed input of unknown kind \(kind)")
        }
        try r.end()
    }
}

extension CexFeedState {
    /// Applies one change; every change `BinanceFeed` makes to its state goes through here, so that
    /// the changes recorded and fed again to a fresh state reach the same books. A symbol index
    /// outside the state's symbols (a recording of another configuration) changes nothing.
    @discardableResult
    public mutating func perform(_ input: FeedInput) -> FeedInput.Result {
        var r = FeedInput.Result()
        let known = 0..<symbols.count
        switch input {
        case .frame(let bytes, let at, let wall):
            r.outcome = ingest(bytes, at: at, wallMillis: wall)
        case .depth(let symbol, let id, let bids, let asks, let at) where known.contains(symbol):
            applyDepthSnapshot(symbol, lastUpdateID: id, bids: bids, asks: asks, at: at)
        case .recoveredTrades(let symbol, let ids) where known.contains(symbol):
            r.complete = applyRecoveredTrades(symbol, ids: ids)
        case .disconnected(let list):
            disconnected(list.filter(known.contains))
        case .resynced(let symbol) where known.contains(symbol):
            resynced(symbol)
        case .sweep(let at):
            r.frozen = sweepFrozen(at: at)
        case .depth, .recoveredTrades, .resynced, .symbols:
            break
        }
        return r
    }
}
