import AsyncHTTPClient
import NIOCore

/// Binance spot REST market data, for resyncs: the depth snapshot (`/api/v3/depth`), the best
/// bid and ask (`/api/v3/ticker/bookTicker`) and aggregate trades from an id
/// (`/api/v3/aggTrades?fromId=`). Answers are parsed as strictly as stream frames.
public struct BinanceREST: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public struct Ticker: Equatable, Sendable {
        public var bid: CexDecimal
        public var bidQty: CexDecimal
        public var ask: CexDecimal
        public var askQty: CexDecimal
    }

    public let base: String
    public let timeout: Duration
    let client: HTTPClient

    /// `base`: e.g. `https://api.binance.com`, or the stand-in's `http://127.0.0.1:port`.
    public init(base: String, timeout: Duration = .seconds(5), client: HTTPClient = .shared) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.timeout = timeout
        self.client = client
    }

    func get(_ path: String) async throws(Failure) -> [UInt8] {
        let request = HTTPClientRequest(url: base + path)
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.components.seconds * 1000)))
            var body = try await response.body.collect(upTo: 4 << 20)
            guard response.status.code == 200 else { throw Failure(description: "\(path): HTTP \(response.status.code)") }
            return body.readBytes(length: body.readableBytes) ?? []
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }

    /// The depth snapshot: last update id and levels.
    public func depth(_ symbol: String, limit: Int = 20) async throws(Failure) -> (lastUpdateID: UInt64, bids: [BinanceFrameParser.Level], asks: [BinanceFrameParser.Level]) {
        let bytes = try await get("/api/v3/depth?symbol=\(symbol.uppercased())&limit=\(limit)")
        var parser = BinanceFrameParser(symbols: [symbol], maxLevels: max(limit, 20))
        do {
            let id = try bytes.withUnsafeBufferPointer { (p) throws(FrameError) -> UInt64 in
                var s = ByteScanner(p)
                guard case .depth(_, let id) = try parser.depth(&s, 0) else { throw FrameError(.wrongType) }
                s.ws()
                guard s.atEnd else { throw FrameError(.notJSON) }
                return id
            }
            return (id, parser.bids, parser.asks)
        } catch {
            throw Failure(description: "/api/v3/depth \(symbol): \(error)")
        }
    }

    public func bookTicker(_ symbol: String) async throws(Failure) -> Ticker {
        let bytes = try await get("/api/v3/ticker/bookTicker?symbol=\(symbol.uppercased())")
        do {
            return try bytes.withUnsafeBufferPointer { (p) throws(FrameError) -> Ticker in
                var s = ByteScanner(p)
                var t = Ticker(bid: .zero, bidQty: .zero, ask: .zero, askQty: .zero)
                var seen = 0
                try s.expect(0x7b)
                repeat {
                    let key = try s.string()
                    try s.expect(0x3a)
                    if s.equals(key, "symbol") {
                        let r = try s.string()
                        guard String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self) == symbol.uppercased() else { throw FrameError(.symbolMismatch) }
                        seen |= 1
                    } else if s.equals(key, "bidPrice") { t.bid = try s.decimal(); seen |= 2 }
                    else if s.equals(key, "bidQty") { t.bidQty = try s.decimal(); seen |= 4 }
                    else if s.equals(key, "askPrice") { t.ask = try s.decimal(); seen |= 8 }
                    else if s.equals(key, "askQty") { t.askQty = try s.decimal(); seen |= 16 }
                    else { try s.skip() }
                } while s.take(0x2c)
                try s.expect(0x7d)
                guard seen == 31 else { throw FrameError(.missingField) }
                guard !t.bid.isZero, t.bid < t.ask else { throw FrameError(.crossedBook) }
                return t
            }
        } catch {
            throw Failure(description: "/api/v3/ticker/bookTicker \(symbol): \(error)")
        }
    }

    /// Aggregate-trade ids from `fromID` (at most `limit`), in order.
    public func aggTradeIDs(_ symbol: String, fromID: UInt64, limit: Int = 1000) async throws(Failure) -> [UInt64] {
        let bytes = try await get("/api/v3/aggTrades?symbol=\(symbol.uppercased())&fromId=\(fromID)&limit=\(limit)")
        do {
            return try bytes.withUnsafeBufferPointer { (p) throws(FrameError) -> [UInt64] in
                var s = ByteScanner(p)
                var ids: [UInt64] = []
                try s.expect(0x5b)
                if s.take(0x5d) { return ids }
                repeat {
                    try s.expect(0x7b)
                    var id: UInt64?
                    repeat {
                        let key = try s.string()
                        try s.expect(0x3a)
                        if s.equals(key, "a") { id = try s.uint() }
                        else if s.equals(key, "p") || s.equals(key, "q") { _ = try s.decimal() }
                        else { try s.skip() }
                    } while s.take(0x2c)
                    try s.expect(0x7d)
                    guard let id else { throw FrameError(.missingField) }
                    ids.append(id)
                } while s.take(0x2c)
                try s.expect(0x5d)
                return ids
            }
        } catch {
            throw Failure(description: "/api/v3/aggTrades \(symbol): \(error)")
        }
    }
}
