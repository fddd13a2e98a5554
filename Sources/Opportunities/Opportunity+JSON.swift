import EVMCodec
import EVMPrimitives
import SolanaPrimitives

/// The JSON form, for logs, the journal and the HTTP API: 256-bit amounts as decimal strings,
/// addresses EIP-55 checksummed, the id as hex; the same strictness as the binary form.
extension Opportunity {
    public var json: JSONValue {
        func n(_ v: UInt64) -> JSONValue { .number(String(v)) }
        var fields: [(String, JSONValue)] = [
            ("version", .number(String(Self.version))), ("id", .string(Hex.encode(id))), ("kind", .string(kind.name)),
            ("chains", .array(chains.map(n))),
            ("path", .array(path.map { h in
                .object([("chainId", n(h.chainID)), ("pool", .string(h.pool.checksummed)), ("tokenIn", .string(h.tokenIn.checksummed)),
                         ("tokenOut", .string(h.tokenOut.checksummed)), ("venue", n(UInt64(h.venue))), ("amountOut", .string(h.amountOut.description))])
            })),
            ("amountIn", .string(amountIn.description)), ("grossProfit", .string(grossProfit.description)),
            ("netProfit", .string(netProfit.description)), ("grossProfitMicroUSD", .number(String(grossProfitMicroUSD))),
            ("netProfitMicroUSD", .number(String(netProfitMicroUSD))), ("gasUnits", n(gasUnits)), ("gasCostWei", .string(gasCostWei.description)),
            ("flashSource", .string(flashSource.name)), ("blockNumber", n(blockNumber)),
            ("timestamps", .object([("eventReceived", n(timestamps.eventReceived)), ("stateApplied", n(timestamps.stateApplied)),
                                    ("detected", n(timestamps.detected)), ("published", n(timestamps.published))])),
            ("expiresAt", n(expiresAt)), ("confidence", .number(String(confidence))),
        ]
        if let st = statistical {
            let names = ["spread", "mean", "deviation", "z", "hedgeRatio", "correlation", "pValue", "hurst"]
            fields.append(("statistical", .object([("pair", n(UInt64(st.pair))), ("tokenA", .string(st.tokenA.checksummed)),
                                                   ("tokenB", .string(st.tokenB.checksummed)), ("longA", .bool(st.longA))]
                                                  + zip(names, st.numbers).map { ($0, .number(String($1))) })))
        }
        if let c = cexDex {
            fields.append(("cexDex", .object([
                ("symbol", .string(c.symbol)), ("base", .string(c.base.checksummed)), ("quote", .string(c.quote.checksummed)),
                ("fairNumerator", .string(c.fairNumerator.description)), ("fairDenominator", .string(c.fairDenominator.description)),
                ("bid", .number(String(c.bid))), ("ask", .number(String(c.ask))), ("bookAgeMillis", n(c.bookAgeMillis)),
                ("hedgeSellsBase", .bool(c.hedgeSellsBase)), ("hedgeQuantity", .string(c.hedgeQuantity.description)), ("depth", .number(String(c.depth))),
            ])))
        }
        if let b = backrun {
            fields.append(("backrun", .object([
                ("targetHash", .string(Hex.encode(b.targetHash))), ("targetRaw", .string(Hex.encode(b.targetRaw))),
                ("sender", .string(b.sender.checksummed)), ("volumeMicroUSD", n(b.volumeMicroUSD)),
                ("effects", .array(b.effects.map { e in
                    .object([("pool", .string(e.pool.checksummed)), ("topics", .array(e.topics.map { .string(Hex.encode($0.bigEndianBytes)) })),
                             ("data", .string(Hex.encode(e.data)))])
                })),
            ])))
        }
        if let sol = solana {
            fields.append(("solana", .object([("legs", .array(sol.legs.map { l in
                .object([("pool", .string(Base58.encode(l.pool))), ("mintIn", .string(Base58.encode(l.mintIn))),
                         ("mintOut", .string(Base58.encode(l.mintOut))), ("amountOut", .string(String(l.amountOut)))])
            }))])))
        }
        return .object(fields)
    }

    public init(json v: JSONValue) throws(OpportunityDecodeError) {
        let raw = Array(v.text.utf8)
        func fail(_ m: String) -> OpportunityDecodeError { OpportunityDecodeError(m, input: raw) }
        func field(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> JSONValue {
            guard let x = o[k] else { throw fail("missing \(k)") }
            return x
        }
        func u64(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> UInt64 {
            guard case .number(let t) = try field(o, k), let x = UInt64(t) else { throw fail("\(k) is not a uint64") }
            return x
        }
        func i64(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> Int64 {
            guard case .number(let t) = try field(o, k), let x = Int64(t) else { throw fail("\(k) is not an int64") }
            return x
        }
        func u256(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> UInt256 {
            guard let t = try field(o, k).stringValue, let x = UInt256(t), x.description == t else { throw fail("\(k) is not a decimal uint256") }
            return x
        }
        func i256(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> Int256 {
            guard let t = try field(o, k).stringValue, let x = Int256(t), x.description == t else { throw fail("\(k) is not a decimal int256") }
            return x
        }
        func address(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> Address {
            guard let t = try field(o, k).stringValue, let a = try? Address(hex: t) else { throw fail("\(k) is not an address") }
            return a
        }
        guard try u64(v, "version") == UInt64(Self.version) else { throw fail("version is not \(Self.version)") }
        guard let idText = try field(v, "id").stringValue, let id = try? Hex.decode(idText), id.count == 16 else { throw fail("id is not 16 bytes of hex") }
        guard let kindName = try field(v, "kind").stringValue, let kind = Kind.allCases.first(where: { $0.name == kindName }) else { throw fail("unknown kind") }
        guard let chainValues = try field(v, "chains").arrayValue, (1...Self.maxChains).contains(chainValues.count) else { throw fail("chains") }
        var chains: [UInt64] = []
        for c in chainValues {
            guard case .number(let t) = c, let x = UInt64(t) else { throw fail("a chain id is not a uint64") }
            chains.append(x)
        }
        guard let hops = try field(v, "path").arrayValue, (1...Self.maxHops).contains(hops.count) || (kind == .solana && hops.isEmpty) else { throw fail("path") }
        var path: [Hop] = []
        for h in hops {
            let venue = try u64(h, "venue")
            guard venue <= UInt64(UInt32.max) else { throw fail("venue beyond 32 bits") }
            path.append(Hop(chainID: try u64(h, "chainId"), pool: try address(h, "pool"), tokenIn: try address(h, "tokenIn"),
                            tokenOut: try address(h, "tokenOut"), venue: UInt32(venue), amountOut: try u256(h, "amountOut")))
        }
        guard let flashName = try field(v, "flashSource").stringValue, let flash = FlashSource.allCases.first(where: { $0.name == flashName }) else {
            throw fail("unknown flash source")
        }
        let t = try field(v, "timestamps")
        guard case .number(let ct) = try field(v, "confidence"), let confidence = Double(ct), confidence >= 0, confidence <= 1 else {
            throw fail("confidence is not a number in 0…1")
        }
        func finite(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> Double {
            guard case .number(let t) = try field(o, k), let x = Double(t), x.isFinite else { throw fail("\(k) is not a finite number") }
            return x
        }
        var statistical: Statistical? = nil
        if kind == .statistical {
            let st = try field(v, "statistical")
            let pair = try u64(st, "pair")
            guard pair <= UInt64(UInt32.max) else { throw fail("pair beyond 32 bits") }
            guard case .bool(let longA) = try field(st, "longA") else { throw fail("longA is not a boolean") }
            statistical = Statistical(pair: UInt32(pair), tokenA: try address(st, "tokenA"), tokenB: try address(st, "tokenB"), longA: longA,
                                      spread: try finite(st, "spread"), mean: try finite(st, "mean"), deviation: try finite(st, "deviation"),
                                      z: try finite(st, "z"), hedgeRatio: try finite(st, "hedgeRatio"), correlation: try finite(st, "correlation"),
                                      pValue: try finite(st, "pValue"), hurst: try finite(st, "hurst"))
        } else if v["statistical"] != nil {
            throw fail("a statistical signal on a \(kind.name) opportunity")
        }
        var cexDex: CexDex? = nil
        if kind == .cexDexSpread {
            let c = try field(v, "cexDex")
            guard let symbol = try field(c, "symbol").stringValue else { throw fail("symbol is not a string") }
            guard case .bool(let sells) = try field(c, "hedgeSellsBase") else { throw fail("hedgeSellsBase is not a boolean") }
            let ref = CexDex(symbol: symbol, base: try address(c, "base"), quote: try address(c, "quote"), fairNumerator: try u256(c, "fairNumerator"),
                             fairDenominator: try u256(c, "fairDenominator"), bid: try finite(c, "bid"), ask: try finite(c, "ask"),
                             bookAgeMillis: try u64(c, "bookAgeMillis"), hedgeSellsBase: sells, hedgeQuantity: try u256(c, "hedgeQuantity"),
                             depth: try finite(c, "depth"))
            guard ref.isValid else { throw fail("an invalid CEX reference") }
            cexDex = ref
        } else if v["cexDex"] != nil {
            throw fail("a CEX reference on a \(kind.name) opportunity")
        }
        var backrun: Backrun? = nil
        if kind == .backrun {
            let b = try field(v, "backrun")
            func hex(_ o: JSONValue, _ k: String) throws(OpportunityDecodeError) -> [UInt8] {
                guard let t = try field(o, k).stringValue, let x = try? Hex.decodePrefixed(t) else { throw fail("\(k) is not 0x-hex") }
                return x
            }
            guard let list = try field(b, "effects").arrayValue else { throw fail("effects is not an array") }
            var effects: [Backrun.Effect] = []
            for e in list {
                guard let topics = try field(e, "topics").arrayValue else { throw fail("topics is not an array") }
                var words: [UInt256] = []
                for t in topics {
                    guard let text = t.stringValue, let w = try? Hex.decodePrefixed(text), w.count == 32 else { throw fail("a topic is not 32 bytes of hex") }
                    words.append(w.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress!) })
                }
                effects.append(Backrun.Effect(pool: try address(e, "pool"), topics: words, data: try hex(e, "data")))
            }
            let target = Backrun(targetRaw: try hex(b, "targetRaw"), sender: try address(b, "sender"), volumeMicroUSD: try u64(b, "volumeMicroUSD"),
                                 effects: effects)
            guard target.isValid, try hex(b, "targetHash") == target.targetHash else { throw fail("an invalid backrun target") }
            backrun = target
        } else if v["backrun"] != nil {
            throw fail("a backrun target on a \(kind.name) opportunity")
        }
        var solana: Solana? = nil
        if kind == .solana || (kind == .crossChain && v["solana"] != nil) {
            guard let list = try field(try field(v, "solana"), "legs").arrayValue else { throw fail("solana.legs is not an array") }
            var legs: [Solana.Leg] = []
            for l in list {
                func key(_ k: String) throws(OpportunityDecodeError) -> [UInt8] {
                    guard let t = try field(l, k).stringValue, let b = Base58.decode(t), b.count == 32 else { throw fail("\(k) is not a base58 key") }
                    return b
                }
                guard let out = try field(l, "amountOut").stringValue.flatMap({ UInt64($0) }) else { throw fail("amountOut is not a u64 string") }
                legs.append(Solana.Leg(pool: try key("pool"), mintIn: try key("mintIn"), mintOut: try key("mintOut"), amountOut: out))
            }
            let route = Solana(legs: legs)
            let amountIn = try u256(v, "amountIn")
            guard route.isValid, kind == .crossChain || amountIn <= UInt256(UInt64.max) else { throw fail("an invalid Solana route") }
            solana = route
        } else if v["solana"] != nil {
            throw fail("a Solana route on a \(kind.name) opportunity")
        }
        self.init(id: id, kind: kind, chains: chains, path: path, amountIn: try u256(v, "amountIn"), grossProfit: try i256(v, "grossProfit"),
                  netProfit: try i256(v, "netProfit"), grossProfitMicroUSD: try i64(v, "grossProfitMicroUSD"),
                  netProfitMicroUSD: try i64(v, "netProfitMicroUSD"), gasUnits: try u64(v, "gasUnits"), gasCostWei: try u256(v, "gasCostWei"),
                  flashSource: flash, blockNumber: try u64(v, "blockNumber"),
                  timestamps: Timestamps(eventReceived: try u64(t, "eventReceived"), stateApplied: try u64(t, "stateApplied"),
                                         detected: try u64(t, "detected"), published: try u64(t, "published")),
                  expiresAt: try u64(v, "expiresAt"), confidence: confidence, statistical: statistical, cexDex: cexDex, backrun: backrun,
                  solana: solana)
    }
}
