import EVMPrimitives

/// The compact binary form, for the bus: a version byte, then every field in declaration order.
/// Integers up to 64 bits are LEB128 varints (micro-dollars zigzag); a 256-bit value is a header
/// byte (bit 7: negative, low 6 bits: length 0…32) and its big-endian bytes without leading zeros;
/// addresses are 20 bytes; the confidence is a big-endian IEEE double. Decoding is canonical and
/// strict: every value has exactly one encoding, and trailing bytes are refused. A statistical
/// opportunity ends with its signal: the pair (varint), tokens A and B, a side byte (1: long A),
/// and eight finite big-endian doubles (`Statistical.numbers`); no other kind has that section.
/// A CEX–DEX opportunity ends with its reference: the symbol (a length byte and ASCII), base and
/// quote, the fair value's numerator and denominator (256-bit), bid and ask (doubles), the book's
/// age (varint), the hedge's side byte (1: sells base) and quantity (256-bit), the depth (double).
/// A backrun ends with its target: the signed bytes (varint length; the hash is theirs), the
/// sender, the volume (varint micro-dollars), and its effects (a count byte; each the pool, a
/// topic count byte and the topics as 32-byte words, the data with a varint length). A Solana
/// opportunity has no hops (a zero hop count; no other kind may) and ends with its legs: a count
/// byte, each the pool, input and output mints (32 bytes each) and the expected output (varint).
/// A cross-chain opportunity ends with its Solana side the same way: a count byte (0: both sides
/// on EVM chains) and that many legs.
extension Opportunity {
    public static let maxHops = 16
    public static let maxChains = 4

    /// The binary form. An opportunity outside the format's limits (1…4 chains, 1…16 hops, a
    /// 16-byte id, confidence in 0…1, a finite signal exactly on a statistical one) is a
    /// detector's bug, and stops the process.
    public func encoded() -> [UInt8] {
        precondition((1...Self.maxChains).contains(chains.count) && ((1...Self.maxHops).contains(path.count) || (kind == .solana && path.isEmpty)) && id.count == 16
                     && confidence >= 0 && confidence <= 1, "an opportunity outside the wire format's limits")
        precondition((kind == .statistical) == (statistical != nil) && (statistical?.numbers.allSatisfy(\.isFinite) ?? true),
                     "a statistical opportunity without a finite signal, or a signal on another kind")
        precondition((kind == .cexDexSpread) == (cexDex != nil) && (cexDex?.isValid ?? true),
                     "a CEX–DEX opportunity without a valid reference, or a reference on another kind")
        precondition((kind == .backrun) == (backrun != nil) && (backrun?.isValid ?? true),
                     "a backrun without a valid target, or a target on another kind")
        precondition((kind == .solana ? solana != nil : solana == nil || kind == .crossChain) && (solana?.isValid ?? true)
                     && (kind != .solana || amountIn <= UInt256(UInt64.max)),
                     "a Solana opportunity without a valid route, or a route on a kind other than Solana or cross-chain")
        var w = Writer()
        w.bytes.reserveCapacity(96 + path.count * 80)
        w.byte(Self.version)
        w.bytes += id
        w.byte(kind.rawValue)
        w.byte(UInt8(chains.count))
        for c in chains { w.varint(c) }
        w.byte(UInt8(path.count))
        for h in path {
            w.varint(h.chainID)
            w.bytes += h.pool.bytes + h.tokenIn.bytes + h.tokenOut.bytes
            w.varint(UInt64(h.venue))
            w.uint256(h.amountOut, negative: false)
        }
        w.uint256(amountIn, negative: false)
        w.int256(grossProfit)
        w.int256(netProfit)
        w.zigzag(grossProfitMicroUSD)
        w.zigzag(netProfitMicroUSD)
        w.varint(gasUnits)
        w.uint256(gasCostWei, negative: false)
        w.byte(flashSource.rawValue)
        w.varint(blockNumber)
        for t in [timestamps.eventReceived, timestamps.stateApplied, timestamps.detected, timestamps.published, expiresAt] { w.varint(t) }
        w.double(confidence)
        if let st = statistical {
            w.varint(UInt64(st.pair))
            w.bytes += st.tokenA.bytes + st.tokenB.bytes
            w.byte(st.longA ? 1 : 0)
            for x in st.numbers { w.double(x) }
        }
        if let c = cexDex {
            w.byte(UInt8(c.symbol.utf8.count))
            w.bytes += Array(c.symbol.utf8)
            w.bytes += c.base.bytes + c.quote.bytes
            w.uint256(c.fairNumerator, negative: false)
            w.uint256(c.fairDenominator, negative: false)
            w.double(c.bid)
            w.double(c.ask)
            w.varint(c.bookAgeMillis)
            w.byte(c.hedgeSellsBase ? 1 : 0)
            w.uint256(c.hedgeQuantity, negative: false)
            w.double(c.depth)
        }
        if let b = backrun {
            w.varint(UInt64(b.targetRaw.count))
            w.bytes += b.targetRaw
            w.bytes += b.sender.bytes
            w.varint(b.volumeMicroUSD)
            w.byte(UInt8(b.effects.count))
            for e in b.effects {
                w.bytes += e.pool.bytes
                w.byte(UInt8(e.topics.count))
                for t in e.topics { w.bytes += t.bigEndianBytes }
                w.varint(UInt64(e.data.count))
                w.bytes += e.data
            }
        }
        if kind == .crossChain && solana == nil { w.byte(0) }
        if let s = solana {
            w.byte(UInt8(s.legs.count))
            for l in s.legs {
                w.bytes += l.pool + l.mintIn + l.mintOut
                w.varint(l.amountOut)
            }
        }
        return w.bytes
    }

    public init(encoded input: [UInt8]) throws(OpportunityDecodeError) {
        var r = Reader(input)
        let version = try r.byte("version")
        guard version == Self.version else { throw r.fail("version \(version), this build reads \(Self.version)") }
        let id = try r.take(16, "id")
        guard let kind = Kind(rawValue: try r.byte("kind")) else { throw r.fail("unknown kind") }
        let chainCount = Int(try r.byte("chain count"))
        guard (1...Self.maxChains).contains(chainCount) else { throw r.fail("\(chainCount) chains") }
        var chains: [UInt64] = []
        for _ in 0..<chainCount { chains.append(try r.varint("chain")) }
        let hopCount = Int(try r.byte("hop count"))
        guard (1...Self.maxHops).contains(hopCount) || (kind == .solana && hopCount == 0) else { throw r.fail("\(hopCount) hops on a \(kind.name) opportunity") }
        var path: [Hop] = []
        for _ in 0..<hopCount {
            let chain = try r.varint("hop chain")
            let pool = try r.address("pool"), tokenIn = try r.address("token in"), tokenOut = try r.address("token out")
            let venue = try r.varint("venue")
            guard venue <= UInt64(UInt32.max) else { throw r.fail("venue beyond 32 bits") }
            path.append(Hop(chainID: chain, pool: pool, tokenIn: tokenIn, tokenOut: tokenOut, venue: UInt32(venue), amountOut: try r.uint256("hop amount")))
        }
        let amountIn = try r.uint256("amount in")
        let gross = try r.int256("gross profit"), net = try r.int256("net profit")
        let grossUSD = try r.zigzag("gross USD"), netUSD = try r.zigzag("net USD")
        let gasUnits = try r.varint("gas units")
        let gasCost = try r.uint256("gas cost")
        guard let flash = FlashSource(rawValue: try r.byte("flash source")) else { throw r.fail("unknown flash source") }
        let block = try r.varint("block")
        let t = Timestamps(eventReceived: try r.varint("event received"), stateApplied: try r.varint("state applied"),
                           detected: try r.varint("detected"), published: try r.varint("published"))
        let expires = try r.varint("expiry")
        let confidence = try r.double("confidence")
        guard confidence >= 0 && confidence <= 1 else { throw r.fail("confidence \(confidence) is not in 0…1") }
        var statistical: Statistical? = nil
        if kind == .statistical {
            let pair = try r.varint("pair")
            guard pair <= UInt64(UInt32.max) else { throw r.fail("pair beyond 32 bits") }
            let a = try r.address("token A"), b = try r.address("token B")
            let side = try r.byte("side")
            guard side <= 1 else { throw r.fail("side \(side)") }
            var x: [Double] = []
            for name in ["spread", "mean", "deviation", "z", "hedge ratio", "correlation", "p-value", "hurst"] {
                let v = try r.double(name)
                guard v.isFinite else { throw r.fail("\(name) is not finite") }
                x.append(v)
            }
            statistical = Statistical(pair: UInt32(pair), tokenA: a, tokenB: b, longA: side == 1, spread: x[0], mean: x[1], deviation: x[2], z: x[3],
                                      hedgeRatio: x[4], correlation: x[5], pValue: x[6], hurst: x[7])
        }
        var cexDex: CexDex? = nil
        if kind == .cexDexSpread {
            let n = Int(try r.byte("symbol length"))
            let symbol = String(decoding: try r.take(n, "symbol"), as: UTF8.self)
            let base = try r.address("base"), quote = try r.address("quote")
            let num = try r.uint256("fair numerator"), den = try r.uint256("fair denominator")
            let bid = try r.double("bid"), ask = try r.double("ask")
            let age = try r.varint("book age")
            let side = try r.byte("hedge side")
            guard side <= 1 else { throw r.fail("hedge side \(side)") }
            let c = CexDex(symbol: symbol, base: base, quote: quote, fairNumerator: num, fairDenominator: den, bid: bid, ask: ask, bookAgeMillis: age,
                           hedgeSellsBase: side == 1, hedgeQuantity: try r.uint256("hedge quantity"), depth: try r.double("depth"))
            guard c.isValid else { throw r.fail("an invalid CEX reference") }
            cexDex = c
        }
        var backrun: Backrun? = nil
        if kind == .backrun {
            let n = try r.varint("target length")
            guard (1...UInt64(Backrun.maxRawBytes)).contains(n) else { throw r.fail("a target of \(n) bytes") }
            let raw = try r.take(Int(n), "target")
            let sender = try r.address("sender")
            let volume = try r.varint("volume")
            let count = Int(try r.byte("effect count"))
            guard count <= Backrun.maxEffects else { throw r.fail("\(count) effects") }
            var effects: [Backrun.Effect] = []
            for _ in 0..<count {
                let pool = try r.address("effect pool")
                let topics = Int(try r.byte("topic count"))
                guard (1...4).contains(topics) else { throw r.fail("\(topics) topics") }
                var words: [UInt256] = []
                for _ in 0..<topics { words.append(try r.take(32, "topic").withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }) }
                let length = try r.varint("effect data length")
                guard length <= UInt64(Backrun.maxEffectData) else { throw r.fail("effect data of \(length) bytes") }
                effects.append(Backrun.Effect(pool: pool, topics: words, data: try r.take(Int(length), "effect data")))
            }
            backrun = Backrun(targetRaw: raw, sender: sender, volumeMicroUSD: volume, effects: effects)
        }
        var solana: Solana? = nil
        let count = kind == .solana || kind == .crossChain ? Int(try r.byte("leg count")) : 0
        if kind == .solana || count > 0 {
            guard (1...Solana.maxLegs).contains(count) else { throw r.fail("\(count) Solana legs") }
            var legs: [Solana.Leg] = []
            for _ in 0..<count {
                legs.append(Solana.Leg(pool: try r.take(32, "pool key"), mintIn: try r.take(32, "input mint"), mintOut: try r.take(32, "output mint"),
                                       amountOut: try r.varint("leg output")))
            }
            let route = Solana(legs: legs)
            guard route.isValid, kind == .crossChain || amountIn <= UInt256(UInt64.max) else { throw r.fail("an invalid Solana route") }
            solana = route
        }
        guard r.atEnd else { throw r.fail("\(r.remaining) trailing bytes") }
        self.init(id: id, kind: kind, chains: chains, path: path, amountIn: amountIn, grossProfit: gross, netProfit: net,
                  grossProfitMicroUSD: grossUSD, netProfitMicroUSD: netUSD, gasUnits: gasUnits, gasCostWei: gasCost, flashSource: flash,
                  blockNumber: block, timestamps: t, expiresAt: expires, confidence: confidence, statistical: statistical, cexDex: cexDex,
                  backrun: backrun, solana: solana)
    }
}

private struct Writer {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.bigEndian) { bytes += $0 } }

    mutating func uint256(_ v: UInt256, negative: Bool) {
        let all = v.bigEndianBytes
        let significant = all.drop { $0 == 0 }
        byte((negative ? 0x80 : 0) | UInt8(significant.count))
        bytes += significant
    }

    mutating func int256(_ v: Int256) { uint256(v.magnitude, negative: v.isNegative) }
}

private struct Reader {
    let input: [UInt8]
    var at = 0

    init(_ input: [UInt8]) { self.input = input }

    var atEnd: Bool { at == input.count }
    var remaining: Int { input.count - at }

    func fail(_ message: String) -> OpportunityDecodeError { OpportunityDecodeError("\(message) at byte \(at)", input: input) }

    mutating func take(_ n: Int, _ what: String) throws(OpportunityDecodeError) -> [UInt8] {
        guard remaining >= n else { throw fail("truncated in \(what)") }
        defer { at += n }
        return Array(input[at..<at + n])
    }

    mutating func byte(_ what: String) throws(OpportunityDecodeError) -> UInt8 { try take(1, what)[0] }

    mutating func varint(_ what: String) throws(OpportunityDecodeError) -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, through: 63, by: 7) {
            let b = try byte(what)
            let part = UInt64(b & 0x7f)
            guard shift < 63 || part <= 1 else { throw fail("\(what) overflows 64 bits") }
            v |= part << shift
            if b & 0x80 == 0 {
                guard b != 0 || shift == 0 else { throw fail("\(what) is not minimal") }
                return v
            }
        }
        throw fail("\(what) overflows 64 bits")
    }

    mutating func double(_ what: String) throws(OpportunityDecodeError) -> Double {
        Double(bitPattern: UInt64(bigEndian: try take(8, what).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
    }

    mutating func zigzag(_ what: String) throws(OpportunityDecodeError) -> Int64 {
        let u = try varint(what)
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    mutating func address(_ what: String) throws(OpportunityDecodeError) -> Address {
        let b = try take(20, what)
        return b.withUnsafeBytes { Address(bytesAt: $0.baseAddress!) }
    }

    /// (magnitude, negative) of a 256-bit value.
    mutating func magnitude(_ what: String) throws(OpportunityDecodeError) -> (UInt256, Bool) {
        let header = try byte(what)
        let negative = header & 0x80 != 0, length = Int(header & 0x7f)
        guard length <= 32 else { throw fail("\(what) is \(length) bytes") }
        let b = try take(length, what)
        guard b.first != 0 else { throw fail("\(what) has a leading zero byte") }
        let word = ([UInt8](repeating: 0, count: 32 - length) + b).withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) }
        return (word, negative)
    }

    mutating func uint256(_ what: String) throws(OpportunityDecodeError) -> UInt256 {
        let (v, negative) = try magnitude(what)
        guard !negative else { throw fail("\(what) is negative") }
        return v
    }

    mutating func int256(_ what: String) throws(OpportunityDecodeError) -> Int256 {
        let (m, negative) = try magnitude(what)
        let limit = UInt256.one << 255
        if negative {
            guard !m.isZero, m <= limit else { throw fail("\(what) is out of range") }
            return Int256.zero &- Int256(bitPattern: m)
        }
        guard m < limit else { throw fail("\(what) is out of range") }
        return Int256(bitPattern: m)
    }
}
