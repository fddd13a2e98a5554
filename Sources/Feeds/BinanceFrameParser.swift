/// Parses frames of Binance's spot combined stream (`/stream?streams=…`) strictly and without
/// allocating: `{"stream":"ethusdt@bookTicker","data":{…}}` for `@bookTicker`, `@aggTrade` and
/// `@depth<N>[@100ms]`, the `!serverShutdown` event, and the answers to control requests
/// (`{"result":null,"id":1}`, `{"code":2,"msg":"…","id":1}`).
///
/// Required fields must be present once with the documented type; fields Binance may add later
/// are skipped. A frame that breaks a rule throws a `FrameError` and changes nothing. Depth levels
/// land in the parser's own buffers (`bids`, `asks`), valid until the next parse.
public struct BinanceFrameParser: Sendable {
    /// Best bid and ask (`<symbol>@bookTicker`).
    public struct BookTicker: Equatable, Sendable {
        public var symbol: Int
        public var updateID: UInt64
        public var bid: CexDecimal
        public var bidQty: CexDecimal
        public var ask: CexDecimal
        public var askQty: CexDecimal
    }

    /// One aggregated trade (`<symbol>@aggTrade`).
    public struct AggTrade: Equatable, Sendable {
        public var symbol: Int
        public var aggID: UInt64
        public var price: CexDecimal
        public var quantity: CexDecimal
        public var firstTradeID: UInt64
        public var lastTradeID: UInt64
        /// Milliseconds since the epoch.
        public var eventTime: UInt64
        public var tradeTime: UInt64
        public var buyerIsMaker: Bool
    }

    public struct Level: Equatable, Sendable {
        public var price: CexDecimal
        public var quantity: CexDecimal
        public init(price: CexDecimal, quantity: CexDecimal) {
            self.price = price
            self.quantity = quantity
        }
    }

    public enum Frame: Equatable, Sendable {
        case bookTicker(BookTicker)
        case aggTrade(AggTrade)
        /// A partial book (`<symbol>@depth20@100ms`); levels in `bids`/`asks`.
        case depth(symbol: Int, lastUpdateID: UInt64)
        case serverShutdown(eventTime: UInt64)
        /// A control request was answered.
        case response(id: Int64)
        case error(id: Int64?, code: Int64)
    }

    enum StreamKind { case bookTicker, aggTrade, depth, shutdown }

    /// Upper-case symbols, in the order their indices refer to.
    public let symbols: [String]
    let lowerSymbols: [[UInt8]]
    /// Symbols by FNV-1a hash of their lower-case bytes.
    let byHash: [UInt64: Int]
    public let maxLevels: Int
    public private(set) var bids: [Level] = []
    public private(set) var asks: [Level] = []

    public init(symbols: [String], maxLevels: Int = 20) {
        self.symbols = symbols.map { $0.uppercased() }
        lowerSymbols = symbols.map { Array($0.lowercased().utf8) }
        var h: [UInt64: Int] = [:]
        for (i, s) in lowerSymbols.enumerated() { h[Self.fnv(s[...])] = i }
        byHash = h
        self.maxLevels = maxLevels
        bids.reserveCapacity(maxLevels)
        asks.reserveCapacity(maxLevels)
    }

    @inline(__always)
    static func fnv<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b | 0x20)) &* 0x100_0000_01b3 }
        return h
    }

    /// The index of the symbol spelled by `p[r]` (either case), if subscribed.
    @inline(__always)
    func symbol(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int? {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in r { h = (h ^ UInt64(p[k] | 0x20)) &* 0x100_0000_01b3 }
        guard let i = byHash[h] else { return nil }
        let s = lowerSymbols[i]
        guard s.count == r.count else { return nil }
        for k in 0..<s.count where p[r.lowerBound + k] | 0x20 != s[k] { return nil }
        return i
    }

    public mutating func parse(_ bytes: [UInt8]) throws(FrameError) -> Frame {
        try bytes.withUnsafeBufferPointer { (p) throws(FrameError) -> Frame in try parse(p) }
    }

    public mutating func parse(_ p: UnsafeBufferPointer<UInt8>) throws(FrameError) -> Frame {
        var s = ByteScanner(p)
        try s.expect(0x7b)
        var stream: (StreamKind, Int)?
        var dataRange: Range<Int>?
        var frame: Frame?
        var id: Int64?
        var code: Int64?
        var sawResult = false
        if !s.take(0x7d) {
            repeat {
                let key = try s.string()
                try s.expect(0x3a)
                if s.equals(key, "stream") {
                    guard stream == nil else { throw FrameError(.duplicateField) }
                    guard s.peek() == 0x22 else { throw FrameError(.wrongType) }
                    stream = try Self.stream(p, try s.string(), self)
                } else if s.equals(key, "data") {
                    guard dataRange == nil else { throw FrameError(.duplicateField) }
                    s.ws()
                    let start = s.i
                    if let (kind, sym) = stream {
                        frame = try data(&s, kind, sym)
                    } else {
                        try s.skip()
                    }
                    dataRange = start..<s.i
                } else if s.equals(key, "id") {
                    guard id == nil else { throw FrameError(.duplicateField) }
                    if !s.null() { id = try s.int() }
                } else if s.equals(key, "result") {
                    sawResult = true
                    try s.skip()
                } else if s.equals(key, "code") {
                    code = try s.int()
                } else {
                    try s.skip()
                }
            } while s.take(0x2c)
            try s.expect(0x7d)
        }
        s.ws()
        guard s.atEnd else { throw FrameError(.notJSON) }
        if let dataRange {
            guard let (kind, sym) = stream else { throw FrameError(.missingField) }
            if let frame { return frame }
            var inner = ByteScanner(p, start: dataRange.lowerBound, end: dataRange.upperBound)
            return try data(&inner, kind, sym)
        }
        if stream != nil { throw FrameError(.missingField) }
        if let code { return .error(id: id, code: code) }
        if sawResult, let id { return .response(id: id) }
        throw FrameError(.unknownEvent)
    }

    /// `ethusdt@bookTicker` → (kind, symbol index).
    static func stream(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ parser: BinanceFrameParser) throws(FrameError) -> (StreamKind, Int) {
        let s = ByteScanner(p)
        if s.equals(r, "!serverShutdown") { return (.shutdown, -1) }
        var at = r.lowerBound
        while at < r.upperBound, p[at] != 0x40 { at += 1 }
        guard at < r.upperBound else { throw FrameError(.unknownStream) }
        guard let sym = parser.symbol(p, r.lowerBound..<at) else { throw FrameError(.unknownSymbol) }
        let rest = (at + 1)..<r.upperBound
        if s.equals(rest, "bookTicker") { return (.bookTicker, sym) }
        if s.equals(rest, "aggTrade") { return (.aggTrade, sym) }
        // depth5/10/20, optionally @100ms or @1000ms
        var k = rest.lowerBound
        guard s.equals(k..<min(k + 5, rest.upperBound), "depth") else { throw FrameError(.unknownStream) }
        k += 5
        var n = 0
        // At most three digits read (more are left in the tail, which refuses them): no overflow.
        while k < rest.upperBound, p[k] &- 0x30 < 10, n < 100 { n = n * 10 + Int(p[k] &- 0x30); k += 1 }
        guard n == 5 || n == 10 || n == 20 else { throw FrameError(.unknownStream) }
        let tail = k..<rest.upperBound
        guard tail.isEmpty || s.equals(tail, "@100ms") || s.equals(tail, "@1000ms") else { throw FrameError(.unknownStream) }
        return (.depth, sym)
    }

    mutating func data(_ s: inout ByteScanner, _ kind: StreamKind, _ sym: Int) throws(FrameError) -> Frame {
        switch kind {
        case .bookTicker: return .bookTicker(try bookTicker(&s, sym))
        case .aggTrade: return .aggTrade(try aggTrade(&s, sym))
        case .depth: return try depth(&s, sym)
        case .shutdown: return try shutdown(&s)
        }
    }

    /// Checks the payload's `s` against the stream's symbol.
    @inline(__always)
    func sameSymbol(_ s: inout ByteScanner, _ sym: Int) throws(FrameError) {
        guard s.peek() == 0x22 else { throw FrameError(.wrongType) }
        let r = try s.string()
        guard symbol(s.p, r) == sym else { throw FrameError(.symbolMismatch) }
    }

    func bookTicker(_ s: inout ByteScanner, _ sym: Int) throws(FrameError) -> BookTicker {
        var t = BookTicker(symbol: sym, updateID: 0, bid: .zero, bidQty: .zero, ask: .zero, askQty: .zero)
        let seen = try s.fields { (s, key) throws(FrameError) -> UInt16 in
            guard key.count == 1 else { try s.skip(); return 0 }
            switch s.p[key.lowerBound] {
            case 0x75: t.updateID = try s.uint(); return 1
            case 0x73: try sameSymbol(&s, sym); return 2
            case 0x62: t.bid = try s.decimal(); return 4
            case 0x42: t.bidQty = try s.decimal(); return 8
            case 0x61: t.ask = try s.decimal(); return 16
            case 0x41: t.askQty = try s.decimal(); return 32
            default: try s.skip(); return 0
            }
        }
        guard seen == 63 else { throw FrameError(.missingField) }
        guard !t.bid.isZero, !t.ask.isZero, t.bid < t.ask else { throw FrameError(.crossedBook) }
        return t
    }

    func aggTrade(_ s: inout ByteScanner, _ sym: Int) throws(FrameError) -> AggTrade {
        var t = AggTrade(symbol: sym, aggID: 0, price: .zero, quantity: .zero, firstTradeID: 0, lastTradeID: 0, eventTime: 0, tradeTime: 0, buyerIsMaker: false)
        let seen = try s.fields { (s, key) throws(FrameError) -> UInt16 in
            guard key.count == 1 else { try s.skip(); return 0 }
            switch s.p[key.lowerBound] {
            case 0x65:  // e
                guard s.peek() == 0x22 else { throw FrameError(.wrongType) }
                guard s.equals(try s.string(), "aggTrade") else { throw FrameError(.unknownEvent) }
                return 1
            case 0x45: t.eventTime = try s.uint(); return 2
            case 0x73: try sameSymbol(&s, sym); return 4
            case 0x61: t.aggID = try s.uint(); return 8
            case 0x70: t.price = try s.decimal(); return 16
            case 0x71: t.quantity = try s.decimal(); return 32
            case 0x66: t.firstTradeID = try s.uint(); return 64
            case 0x6c: t.lastTradeID = try s.uint(); return 128
            case 0x54: t.tradeTime = try s.uint(); return 256
            case 0x6d: t.buyerIsMaker = try s.bool(); return 512
            default: try s.skip(); return 0
            }
        }
        guard seen == 1023 else { throw FrameError(.missingField) }
        guard !t.price.isZero, t.firstTradeID <= t.lastTradeID else { throw FrameError(.wrongType) }
        return t
    }

    mutating func depth(_ s: inout ByteScanner, _ sym: Int) throws(FrameError) -> Frame {
        var last: UInt64 = 0
        var bids = self.bids, asks = self.asks
        self.bids = []
        self.asks = []
        defer { (self.bids, self.asks) = (bids, asks) }
        bids.removeAll(keepingCapacity: true)
        asks.removeAll(keepingCapacity: true)
        let seen = try s.fields { (s, key) throws(FrameError) -> UInt16 in
            if s.equals(key, "lastUpdateId") { last = try s.uint(); return 1 }
            if s.equals(key, "bids") { try levels(&s, &bids); return 2 }
            if s.equals(key, "asks") { try levels(&s, &asks); return 4 }
            try s.skip()
            return 0
        }
        guard seen == 7 else { throw FrameError(.missingField) }
        // Bids strictly falling, asks strictly rising, and the book not crossed.
        for k in bids.indices.dropFirst() where !(bids[k].price < bids[k - 1].price) { throw FrameError(.crossedBook) }
        for k in asks.indices.dropFirst() where !(asks[k - 1].price < asks[k].price) { throw FrameError(.crossedBook) }
        if let b = bids.first, let a = asks.first, !(b.price < a.price) { throw FrameError(.crossedBook) }
        return .depth(symbol: sym, lastUpdateID: last)
    }

    func levels(_ s: inout ByteScanner, _ out: inout [Level]) throws(FrameError) {
        try s.expect(0x5b)
        if s.take(0x5d) { return }
        repeat {
            guard out.count < maxLevels else { throw FrameError(.tooManyLevels) }
            try s.expect(0x5b)
            let price = try s.decimal()
            try s.expect(0x2c)
            let qty = try s.decimal()
            try s.expect(0x5d)
            guard !price.isZero else { throw FrameError(.crossedBook) }
            out.append(Level(price: price, quantity: qty))
        } while s.take(0x2c)
        try s.expect(0x5d)
    }

    func shutdown(_ s: inout ByteScanner) throws(FrameError) -> Frame {
        var time: UInt64 = 0
        let seen = try s.fields { (s, key) throws(FrameError) -> UInt16 in
            if s.equals(key, "e") {
                guard s.peek() == 0x22 else { throw FrameError(.wrongType) }
                guard s.equals(try s.string(), "serverShutdown") else { throw FrameError(.unknownEvent) }
                return 1
            }
            if s.equals(key, "E") { time = try s.uint(); return 2 }
            try s.skip()
            return 0
        }
        guard seen & 1 != 0 else { throw FrameError(.missingField) }
        return .serverShutdown(eventTime: time)
    }
}
