import AMMMath
import ArgumentParser
import EVMCodec
import Foundation
import SolanaPrimitives
import SolanaDetection
import SolanaVenues

extension Util {
    /// `arbiter util solana quote`: decodes a venue's accounts (base64, as `getAccountInfo` returns
    /// them) and quotes an exact-input swap on them, as detection does.
    struct SolanaQuote: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quote",
            abstract: "Quote an exact-input swap on a Solana pool's accounts (Raydium AMM v4, Orca Whirlpool, Meteora DLMM, Raydium CLMM, Phoenix).",
            discussion: """
                The argument (or, with --jsonl, each line of standard input) is JSON:
                  {"venue": "raydium", "pool": b64, "coinVault": b64, "pcVault": b64, "amount": "…", "coinToPc": true}
                  {"venue": "whirlpool", "pool": b64, "tickArrays": [b64, …], "amount": "…", "aToB": true}
                  {"venue": "dlmm", "address": base58, "pool": b64, "binArrays": [b64, …], "amount": "…", "swapForY": true, "timestamp": n}
                  {"venue": "clmm", "pool": b64, "config": b64, "tickArrays": [b64, …], "amount": "…", "zeroForOne": true}
                  {"venue": "phoenix", "market": b64, "amount": "…", "buy": true, "slot": n, "timestamp": n}
                The answer is {"amountOut": "…"} (with the pool's price and tick after, for Whirlpool, DLMM and CLMM; what
                was taken of the input, the fee and the base lots filled for Phoenix) or {"error": "…"}.
                """)
        @Argument var request: String?
        @Flag(name: .long, help: "One request per line of standard input.") var jsonl = false

        func run() throws {
            if jsonl { return Solana.lines { try Self.answer(try JSONValue.parse(Array($0.utf8))) } }
            guard let request else { throw CLIError("quote needs a JSON request (or --jsonl)") }
            Output.line(try Self.answer(try JSONValue.parse(Array(request.utf8))).text)
        }

        static func answer(_ v: JSONValue) throws -> JSONValue {
            func bytes(_ name: String) throws -> [UInt8] {
                guard let t = v[name]?.stringValue, let d = Data(base64Encoded: t) else { throw CLIError("\(name): base64 account data") }
                return Array(d)
            }
            func list(_ name: String) throws -> [[UInt8]] {
                guard let a = v[name]?.arrayValue else { throw CLIError("\(name): a list of base64 account data") }
                return try a.map {
                    guard let t = $0.stringValue, let d = Data(base64Encoded: t) else { throw CLIError("\(name): base64 account data") }
                    return Array(d)
                }
            }
            func flag(_ name: String) throws -> Bool {
                guard case .bool(let b)? = v[name] else { throw CLIError("\(name): true or false") }
                return b
            }
            guard let text = v["amount"]?.stringValue, let amount = UInt64(text) else { throw CLIError("amount: a u64 as a decimal string") }
            switch v["venue"]?.stringValue {
            case "raydium":
                let info = try RaydiumAMMAccount(data: try bytes("pool"))
                let pool = try info.pool(coinVault: try SPLTokenAccount(data: try bytes("coinVault")), pcVault: try SPLTokenAccount(data: try bytes("pcVault")))
                return .object([("amountOut", .string(String(try pool.amountOut(amountIn: amount, coinToPc: try flag("coinToPc")))))])
            case "whirlpool":
                let pool = try WhirlpoolAccount(data: try bytes("pool")).pool(tickArrays: try list("tickArrays").map { try WhirlpoolTickArray(data: $0) })
                let s = try pool.swap(amount: amount, aToB: try flag("aToB"))
                return .object([("amountOut", .string(String(s.amountOut))), ("fee", .string(String(s.fee))),
                                ("sqrtPrice", .string(String(s.sqrtPrice))), ("tick", .number(String(s.tickCurrent)))])
            case "dlmm":
                guard let address = v["address"]?.stringValue else { throw CLIError("address: the pair's base58 address") }
                guard let ts = v["timestamp"]?.stringValue.flatMap({ Int64($0) }) ?? v["timestamp"].flatMap({ Int64($0.text) }) else {
                    throw CLIError("timestamp: the cluster's unix time")
                }
                let pair = try DLMMPairAccount(data: try bytes("pool"))
                let pool = try pair.pool(address: try Solana.key(address, "address"), binArrays: try list("binArrays").map { try DLMMBinArray(data: $0) })
                let s = try pool.swap(amount: amount, swapForY: try flag("swapForY"), timestamp: ts)
                return .object([("amountOut", .string(String(s.amountOut))), ("binsCrossed", .number(String(s.binsCrossed))),
                                ("activeId", .number(String(s.after.activeID)))])
            case "clmm":
                let pool = try RaydiumCLMMAccount(data: try bytes("pool")).pool(config: try RaydiumCLMMConfig(data: try bytes("config")),
                                                                                tickArrays: try list("tickArrays").map { try RaydiumCLMMTickArray(data: $0) })
                let s = try pool.swap(amount: amount, zeroForOne: try flag("zeroForOne"))
                return .object([("amountOut", .string(String(s.amountOut))), ("fee", .string(String(s.fee))),
                                ("sqrtPrice", .string(String(s.sqrtPrice))), ("tick", .number(String(s.tickCurrent))),
                                ("liquidity", .string(String(s.liquidity)))])
            case "phoenix":
                func clock(_ name: String) throws -> UInt64 {
                    guard let n = v[name]?.stringValue.flatMap({ UInt64($0) }) ?? v[name].flatMap({ UInt64($0.text) }) else {
                        throw CLIError("\(name): the cluster's \(name == "slot" ? "slot" : "unix time")")
                    }
                    return n
                }
                let market = try PhoenixMarketAccount(data: try bytes("market"))
                guard market.active else { throw CLIError("the market is not active (status \(market.status))") }
                let fill = try market.book(slot: try clock("slot"), unixTimestamp: try clock("timestamp")).swap(amount, buy: try flag("buy"))
                return .object([("amountOut", .string(String(fill.amountOut))), ("amountIn", .string(String(fill.amountIn))),
                                ("fee", .string(String(fill.fee))), ("baseLots", .string(String(fill.baseLots)))])
            default:
                throw CLIError("venue: raydium, whirlpool, dlmm, clmm or phoenix")
            }
        }
    }
}

extension Util {
    /// `arbiter util solana detect`: account writes (with their slots) into a pool book, then the
    /// cycle detector over the pools they changed: what the Solana detector would publish.
    struct SolanaDetect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detect",
            abstract: "Run the Solana cycle detector over account writes read from standard input (JSON).",
            discussion: """
                Input: {"pools": [{"address": base58, "venue": "raydiumAMM"|"whirlpool"|"meteoraDLMM"}],
                        "writes": [{"key": base58, "slot": n, "data": b64 or null}], "clock": unix seconds,
                        "start": base58 mint, "minProfit": "…", "maxIn": "…", "costs": "…", "maxHops": 3}
                Output: {"opportunities": [{"amountIn", "grossProfit", "netProfit", "slot", "legs": [{"pool", "mintIn", "mintOut", "amountOut"}]}],
                         "counts": {...}, "book": {"applied", "stale", "undecodable", "halfWritten", "pools"}, "missing": [base58]}
                """)

        func run() throws {
            let v = try JSONValue.parse(Input.standardInput())
            var book = SolanaPoolBook()
            if let clock = v["clock"].flatMap({ Int64($0.text) }) { book.clock = clock }
            for p in v["pools"]?.arrayValue ?? [] {
                guard let a = p["address"]?.stringValue, let name = p["venue"]?.stringValue, let venue = SolanaPoolBook.Venue(rawValue: name) else {
                    throw CLIError("pools: each needs an address and a venue (raydiumAMM, whirlpool, meteoraDLMM)")
                }
                book.watch(try Solana.key(a, "pool address"), venue: venue)
            }
            var changed = Set<PublicKey>(), slot: UInt64 = 0
            for w in v["writes"]?.arrayValue ?? [] {
                guard let k = w["key"]?.stringValue, let s = w["slot"].flatMap({ UInt64($0.text) }) else { throw CLIError("writes: each needs a key and a slot") }
                var data: [UInt8]? = nil
                if let t = w["data"]?.stringValue {
                    guard let d = Data(base64Encoded: t) else { throw CLIError("writes: data is base64") }
                    data = Array(d)
                }
                changed.formUnion(book.apply(try Solana.key(k, "write key"), slot: s, data: data))
                slot = max(slot, s)
            }
            func u64(_ name: String) throws -> UInt64 {
                guard let t = v[name]?.stringValue, let x = UInt64(t) else { throw CLIError("\(name): a u64 as a decimal string") }
                return x
            }
            let start = try Solana.key(v["start"]?.stringValue ?? "", "start mint")
            let maxHops = v["maxHops"].flatMap { Int($0.text) } ?? 3
            var detector = SolanaCycleDetector(configuration: .init(starts: [start: .init(minProfit: try u64("minProfit"), maxIn: try u64("maxIn"), costs: try u64("costs"))],
                                                                    maxHops: maxHops))
            let found = detector.detect(book, changed: changed.sorted(), slot: slot, now: 0)
            func key(_ b: [UInt8]) -> JSONValue { .string((try? PublicKey(bytes: b).base58) ?? "?") }
            let c = detector.counts, b = book.counts
            Output.line(JSONValue.object([
                ("opportunities", .array(found.map { o in
                    .object([("amountIn", .string(o.amountIn.description)), ("grossProfit", .string(o.grossProfit.description)),
                             ("netProfit", .string(o.netProfit.description)), ("slot", .number(String(o.blockNumber))),
                             ("legs", .array((o.solana?.legs ?? []).map { l in
                                 .object([("pool", key(l.pool)), ("mintIn", key(l.mintIn)), ("mintOut", key(l.mintOut)), ("amountOut", .string(String(l.amountOut)))])
                             }))])
                })),
                ("counts", .object([("cycles", .number(String(c.cycles))), ("screenedOut", .number(String(c.screenedOut))), ("sized", .number(String(c.sized))),
                                    ("belowMinimum", .number(String(c.belowMinimum))), ("published", .number(String(c.published)))])),
                ("book", .object([("applied", .number(String(b.applied))), ("stale", .number(String(b.stale))), ("undecodable", .number(String(b.undecodable))),
                                  ("halfWritten", .number(String(b.halfWritten))), ("pools", .number(String(book.entries.count)))])),
                ("missing", .array(book.missing.map { .string($0.base58) })),
            ]).text)
        }
    }
}
