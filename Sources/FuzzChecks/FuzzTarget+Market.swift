import AMMMath
import EVMCodec
import EVMPrimitives
import Feeds
import MarketState
import NIOCore
import Opportunities
import Registry
import StreamBus

extension FuzzTarget {
    /// The pools the log harness's book starts with (read at block 0): a V2 pair, a V3 pool with
    /// one position from tick −600 to 600.
    static let logPools: [(Address, Pool, [Int32: UInt256])] = {
        let l = UInt256(1_000_000_000_000_000_000 as UInt64)
        let v3 = try! V3Pool(sqrtPriceX96: UInt256.one << 96, tick: 0, liquidity: l, feePips: 3000, tickSpacing: 60,
                             ticks: [.init(index: -600, liquidityNet: Int256(bitPattern: l)), .init(index: 600, liquidityNet: -Int256(bitPattern: l))])
        return [
            (try! Address(bytes: [UInt8](repeating: 0xA1, count: 20)), .uniswapV2(try! V2Pool(reserve0: l, reserve1: l * 2, feePips: 3000)), [:]),
            (try! Address(bytes: [UInt8](repeating: 0xB2, count: 20)), .uniswapV3(v3), [-600: l, 600: l]),
        ]
    }()

    static let logTopics: [UInt256] = [PoolTopics.v2Sync, PoolTopics.solidlySync, PoolTopics.v3Swap, PoolTopics.pancakeV3Swap,
                                       PoolTopics.v3Mint, PoolTopics.v3Burn, PoolTopics.curveExchange]

    /// Pool logs read from the input (each: a pool, an event, its topics and data words, a block
    /// step, sometimes removed) applied to a book; whatever they did, undoing back to block 0 gives
    /// every pool, and each V3 tick's gross liquidity, as read.
    static func poolLogs(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        var book = PoolBook()
        var ids: [PoolBook.PoolID] = []
        for (address, pool, gross) in logPools { ids.append(book.register(address, pool: pool, at: LogPosition(block: 0, index: .max), tickGross: gross)) }
        var r = FuzzReader(input)
        var block: UInt64 = 1
        var index: UInt32 = 0
        var decoded = false
        while !r.atEnd {
            let head = r.byte()
            let address = head & 3 == 3 ? try! Address(bytes: [UInt8](repeating: 0xCC, count: 20)) : logPools[Int(head & 3) % logPools.count].0
            let topic0 = head >> 5 == 7 ? r.word() : logTopics[Int(head >> 5)]
            let shape = r.byte()
            var topics = [topic0]
            for _ in 0..<Int(shape & 3) + (shape & 4 == 0 ? 0 : 1) { topics.append(r.word()) }
            var data: [UInt8] = []
            for _ in 0..<Int(shape >> 4) % 8 { data += r.bytes(32) }
            block += UInt64(r.byte() % 3)
            index += 1
            let log = EVMLog(address: address, topics: topics, data: data, blockNumber: block, logIndex: index, removed: head & 0x1C == 0x1C)
            if let event = try? PoolLogDecoder.decode(log) {
                try checkRanges(event)
                decoded = true
            }
            _ = book.apply(log)
        }
        book.rollBack(toBefore: 1)
        for (i, (address, pool, gross)) in logPools.enumerated() {
            try require(book[ids[i]] == pool, "\(address) after undoing every block: \(book[ids[i]]), read as \(pool)")
            for (tick, g) in gross { try require(book.liquidityGross(ids[i], tick: tick) == g, "\(address) tick \(tick)'s gross liquidity not restored") }
        }
        return decoded
    }

    /// A decoded event's values are within their Solidity types.
    static func checkRanges(_ event: PoolEvent) throws(FuzzFailure) {
        switch event {
        case .sync(let r0, let r1): try require(r0 >> 112 == .zero && r1 >> 112 == .zero, "a Sync reserve above uint112")
        case .v3Swap(_, _, let price, let liquidity, let tick):
            try require(price >> 160 == .zero && liquidity >> 128 == .zero && (-(1 << 23)..<(1 << 23)).contains(tick), "a V3 Swap outside its types")
        case .v3Mint(let lower, let upper, let amount), .v3Burn(let lower, let upper, let amount):
            try require(amount >> 128 == .zero && (-(1 << 23)..<(1 << 23)).contains(lower) && (-(1 << 23)..<(1 << 23)).contains(upper), "a V3 Mint or Burn outside its types")
        default: break
        }
    }

    /// RESP values do not depend on how the stream was cut: the input parsed whole and parsed in
    /// two reads (cut where its first byte says) give the same values and the same end (more
    /// wanted, or the same error). Arrays of bulk strings encode back to the same value.
    static func resp(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let parser = RESPParser()
        func run(_ parts: [[UInt8]]) -> ([RESPValue], String) {
            var buffer = ByteBuffer()
            var out: [RESPValue] = []
            for part in parts {
                buffer.writeBytes(part)
                do {
                    while let v = try parser.parse(&buffer) { out.append(v) }
                } catch {
                    return (out, "\(error)")
                }
            }
            return (out, "more wanted")
        }
        let whole = run([input])
        let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
        let split = run([Array(input[..<cut]), Array(input[cut...])])
        try require(whole.0 == split.0 && whole.1 == split.1, "RESP cut at \(cut): \(split) against \(whole)")
        for case .array(let items?) in whole.0 {
            let args = items.compactMap { if case .bulkString(let b?) = $0 { b } else { nil } }
            guard args.count == items.count else { continue }
            var b = ByteBuffer()
            RESPParser.encode(args, into: &b)
            try require((try? parser.parse(&b)) == .array(items), "a RESP array of bulk strings does not encode back")
        }
        return !whole.0.isEmpty
    }

    /// The opportunity binary form is canonical: what decodes encodes to the same bytes.
    static func opportunity(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let o = try? Opportunity(encoded: input) else { return false }
        try require(o.encoded() == input, "an opportunity decoded from \(Hex.encode(input)) encodes otherwise")
        return true
    }

    static let bundled = try! Registry.bundled()

    /// Overrides over the bundled registry: refused with a `RegistryError`, or a registry the
    /// validator accepts, the same every time.
    static func registry(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let text = String(decoding: input, as: UTF8.self)
        let first = try? bundled.applying(overrides: text, file: "fuzz.toml")
        let second = try? bundled.applying(overrides: text, file: "fuzz.toml")
        try require(String(describing: first) == String(describing: second), "the same overrides gave two registries")
        return first != nil
    }

    /// A Binance frame: the fast scanner's reading agrees with the JSON parser's where the frame
    /// is JSON (prices and quantities as decimals, update ids), and a depth frame's levels are in
    /// book order within the level limit.
    static func binance(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        var parser = BinanceFrameParser(symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], maxLevels: 5)
        guard let frame = try? parser.parse(input) else { return false }
        let json = try? JSONValue.parse(input)
        let data = json?["data"] ?? json
        func decimal(_ key: String) -> CexDecimal? { data?[key]?.stringValue.flatMap(CexDecimal.init) }
        switch frame {
        case .bookTicker(let t):
            guard data != nil else { return true }
            try require(decimal("b") == t.bid && decimal("B") == t.bidQty && decimal("a") == t.ask && decimal("A") == t.askQty,
                        "a book ticker read as \(t) from \(String(decoding: input, as: UTF8.self))")
        case .aggTrade(let t):
            guard data != nil else { return true }
            try require(decimal("p") == t.price && decimal("q") == t.quantity, "a trade read as \(t) from \(String(decoding: input, as: UTF8.self))")
        case .depth:
            try require(parser.bids.count <= 5 && parser.asks.count <= 5, "more levels than the limit")
            try require(zip(parser.bids, parser.bids.dropFirst()).allSatisfy { $0.price > $1.price }, "bids not descending: \(parser.bids)")
            try require(zip(parser.asks, parser.asks.dropFirst()).allSatisfy { $0.price < $1.price }, "asks not ascending: \(parser.asks)")
        default: break
        }
        return true
    }
}
