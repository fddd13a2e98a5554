import AMMMath
import ArgumentParser
import EVMCodec
import EVMPrimitives

/// `arbiter bench peers --fixture F`: our side of `scripts/bench-peers`. The fixture (written by
/// `tools/bench_peers` from a seed) holds V2 quotes, V3 quotes crossing initialised ticks, and 2-
/// and 3-hop cycles; each group is timed here as the peer times it there (every case in turn, passes
/// of at least `--pass-ms`, the median pass reported), and every answer is printed so that the
/// script can check both sides give the same amounts.
struct PeersBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Time V2/V3 quotes and 2-/3-hop cycle optima on a shared fixture (scripts/bench-peers); print times and every answer as JSON.")

    @Option(name: .long, help: "The fixture written by tools/bench_peers.") var fixture: String
    @Option(name: .long, help: "Timed passes per group; the median is reported.") var passes = 7
    @Option(name: .long, help: "Least duration of a pass, in milliseconds.") var passMs = 200

    func validate() throws {
        guard (1...101).contains(passes) else { throw CLIError("--passes must be within 1…101") }
        guard (1...60_000).contains(passMs) else { throw CLIError("--pass-ms must be within 1…60000") }
    }

    struct Quote {
        var pool: Pool
        var zeroForOne: Bool
        var amountIn: UInt256
    }

    struct Cycle {
        var path: Path
        var maxIn: UInt256
    }

    func run() throws {
        let root = try JSONValue.parse(try Input.file(fixture))
        let v2 = try Self.quotes(root, "v2Quotes")
        let v3 = try Self.quotes(root, "v3Quotes")
        let twoHop = try Self.cycles(root, "cycles2")
        let threeHop = try Self.cycles(root, "cycles3")

        var groups: [(String, JSONValue)] = []
        for (name, cases) in [("v2Quote", v2), ("v3Quote", v3)] {
            let answers = cases.map { q -> JSONValue in
                switch Self.quote(q) {
                case .success(let r): .object([("amountOut", .string(r.amountOut.description)), ("ticksCrossed", .number(String(r.ticks)))])
                case .failure(let e): .object([("error", .string("\(e)"))])
                }
            }
            // Each pool kind's own quote, as degenbot's pool classes' `calculate_tokens_out_from_tokens_in`
            // (the `Pool` enum's dispatch is left out, as its pools' is in Python).
            let v2Pools = cases.compactMap { q -> (V2Pool, Bool, UInt256)? in
                if case .uniswapV2(let p) = q.pool { (p, q.zeroForOne, q.amountIn) } else { nil }
            }
            let v3Pools = cases.compactMap { q -> (V3Pool, Bool, UInt256)? in
                if case .uniswapV3(let p) = q.pool { (p, q.zeroForOne, q.amountIn) } else { nil }
            }
            let times = measure(cases.count) { sink in
                for (p, zeroForOne, amount) in v2Pools { sink ^= (try? p.amountOut(amountIn: amount, zeroForOne: zeroForOne))?.w0 ?? 0 }
                for (p, zeroForOne, amount) in v3Pools { sink ^= (try? p.quoteExactInput(zeroForOne: zeroForOne, amount: amount))?.amountOut.w0 ?? 0 }
            }
            groups.append((name, Self.group(times, answers)))
        }
        groups.append(("v3QuoteNewInputs", try newInputs(v3)))
        for (name, cases) in [("cycles2", twoHop), ("cycles3", threeHop)] {
            let answers = cases.map { c -> JSONValue in
                guard let s = Optimizer.optimize(c.path, maxIn: c.maxIn) else { return .null }
                return .object([("amountIn", .string(s.amountIn.description)), ("amountOut", .string(s.amountOut.description)),
                                ("profit", .string(s.grossProfit.description))])
            }
            let times = measure(cases.count) { sink in
                for c in cases { sink ^= Optimizer.optimize(c.path, maxIn: c.maxIn)?.amountIn.w0 ?? 0 }
            }
            groups.append((name, Self.group(times, answers)))
        }
        Output.line(JSONValue.object(groups).text)
    }

    /// Inputs a V3 case is quoted at when no input repeats: `amountIn + j·(⌊amountIn/10⁶⌋ + 1)`
    /// for j < 64, as tools/bench_peers derives them. A sizing search asks this way, and neither
    /// side's cache can answer an input it has not seen (degenbot caches its step math by argument,
    /// so a repeated input is its best case; ours keeps each pool state's tick crossings).
    static let newInputsPerCase = 64

    func newInputs(_ cases: [Quote]) throws -> JSONValue {
        let quotes = try cases.map { q -> (V3Pool, Bool, [UInt256]) in
            guard case .uniswapV3(let p) = q.pool else { throw CLIError("fixture: a V3 quote case holds another pool") }
            let step = q.amountIn / UInt256(1_000_000) + .one
            return (p, q.zeroForOne, (0..<Self.newInputsPerCase).map { q.amountIn + step * UInt256(UInt64($0)) })
        }
        let answers = quotes.map { p, zeroForOne, inputs in
            JSONValue.array(inputs.map { x in
                (try? p.quoteExactInput(zeroForOne: zeroForOne, amount: x)).map { .string($0.amountOut.description) } ?? .null
            })
        }
        let times = measure(quotes.count * Self.newInputsPerCase) { sink in
            for (p, zeroForOne, inputs) in quotes {
                for x in inputs { sink ^= (try? p.quoteExactInput(zeroForOne: zeroForOne, amount: x))?.amountOut.w0 ?? 0 }
            }
        }
        return Self.group(times, answers)
    }

    /// Nanoseconds per case in each of `passes` passes, each running every case until `passMs` has
    /// passed; the sink keeps the work from being optimised away.
    func measure(_ cases: Int, _ body: (inout UInt64) -> Void) -> [Double] {
        guard cases > 0 else { return [] }
        var sink: UInt64 = 0
        body(&sink)  // warm-up
        let clock = ContinuousClock()
        let least = Duration.milliseconds(passMs)
        var times: [Double] = []
        for _ in 0..<passes {
            var rounds = 0
            let began = clock.now
            var elapsed = Duration.zero
            repeat {
                body(&sink)
                rounds += 1
                elapsed = clock.now - began
            } while elapsed < least
            let (seconds, attoseconds) = elapsed.components
            times.append((Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(rounds * cases))
        }
        if sink == 0x5eed_5eed_5eed_5eed { Output.line("") }  // never true in practice; reads the sink
        return times
    }

    static func group(_ times: [Double], _ answers: [JSONValue]) -> JSONValue {
        let sorted = times.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        return .object([("nsPerCase", .number(String(format: "%.1f", median))),
                        ("passes", .array(times.map { .number(String(format: "%.1f", $0)) })),
                        ("cases", .number(String(answers.count))), ("answers", .array(answers))])
    }

    static func quote(_ q: Quote) -> Result<(amountOut: UInt256, ticks: Int), AMMError> {
        do throws(AMMError) {
            switch q.pool {
            case .uniswapV2(let p): return .success((try p.amountOut(amountIn: q.amountIn, zeroForOne: q.zeroForOne), 0))
            case .uniswapV3(let p):
                // The timed quote's answer, with the ticks the full swap crossed (which it does not report).
                let r = try p.swap(zeroForOne: q.zeroForOne, amount: q.amountIn)
                let quoted = try p.quoteExactInput(zeroForOne: q.zeroForOne, amount: q.amountIn)
                guard quoted.amountOut == r.amountOut, quoted.amountIn == r.amountIn else {
                    throw AMMError(.invalidState, "quote \(quoted.amountOut) and swap \(r.amountOut) differ")
                }
                return .success((quoted.amountOut, r.ticksCrossed))
            default: throw AMMError(.invalidState, "only V2 and V3 pools are quoted here")
            }
        } catch { return .failure(error) }
    }

    // MARK: - The fixture

    static func quotes(_ root: JSONValue, _ key: String) throws -> [Quote] {
        guard let items = root[key]?.arrayValue else { throw CLIError("fixture: \(key) is missing or not an array") }
        return try items.enumerated().map { i, item in
            let at = "\(key)[\(i)]"
            return Quote(pool: try pool(item["pool"], at), zeroForOne: try flag(item["zeroForOne"], at + ".zeroForOne"),
                         amountIn: try amount(item["amountIn"], at + ".amountIn"))
        }
    }

    static func cycles(_ root: JSONValue, _ key: String) throws -> [Cycle] {
        guard let items = root[key]?.arrayValue else { throw CLIError("fixture: \(key) is missing or not an array") }
        return try items.enumerated().map { i, item in
            let at = "\(key)[\(i)]"
            guard let hops = item["hops"]?.arrayValue, !hops.isEmpty else { throw CLIError("fixture: \(at).hops is missing or empty") }
            let path = Path(try hops.enumerated().map { j, hop in
                Path.Hop(pool: try pool(hop["pool"], "\(at).hops[\(j)]"), zeroForOne: try flag(hop["zeroForOne"], "\(at).hops[\(j)].zeroForOne"))
            })
            return Cycle(path: path, maxIn: try amount(item["maxIn"], at + ".maxIn"))
        }
    }

    static func pool(_ value: JSONValue?, _ at: String) throws -> Pool {
        guard let value else { throw CLIError("fixture: \(at).pool is missing") }
        do {
            switch value["kind"]?.stringValue {
            case "v2":
                return .uniswapV2(try V2Pool(reserve0: try amount(value["reserve0"], at + ".reserve0"), reserve1: try amount(value["reserve1"], at + ".reserve1"),
                                             feePips: try small(value["feePips"], at + ".feePips")))
            case "v3":
                guard let ticks = value["ticks"]?.arrayValue else { throw CLIError("fixture: \(at).ticks is missing") }
                let parsed = try ticks.enumerated().map { k, t -> V3Pool.Tick in
                    guard let pair = t.arrayValue, pair.count == 2, let index = Int32(number(pair[0]) ?? ""),
                          let net = try? Int256(decimal: pair[1].stringValue ?? "")
                    else { throw CLIError("fixture: \(at).ticks[\(k)] is not [index, \"liquidityNet\"]") }
                    return V3Pool.Tick(index: index, liquidityNet: net)
                }
                guard let tick = Int32(number(value["tick"]) ?? ""), let spacing = Int32(number(value["tickSpacing"]) ?? "") else {
                    throw CLIError("fixture: \(at).tick or .tickSpacing is not an integer")
                }
                return .uniswapV3(try V3Pool(sqrtPriceX96: try amount(value["sqrtPriceX96"], at + ".sqrtPriceX96"), tick: tick,
                                             liquidity: try amount(value["liquidity"], at + ".liquidity"),
                                             feePips: try small(value["feePips"], at + ".feePips"), tickSpacing: spacing, ticks: parsed))
            default: throw CLIError("fixture: \(at).kind must be \"v2\" or \"v3\"")
            }
        } catch let error as AMMError {
            throw CLIError("fixture: \(at) is not a valid pool: \(error)")
        }
    }

    static func amount(_ value: JSONValue?, _ at: String) throws -> UInt256 {
        guard let text = value?.stringValue, let v = try? UInt256(decimal: text) else { throw CLIError("fixture: \(at) is not a decimal string") }
        return v
    }

    static func small(_ value: JSONValue?, _ at: String) throws -> UInt32 {
        guard let v = UInt32(number(value) ?? "") else { throw CLIError("fixture: \(at) is not a 32-bit integer") }
        return v
    }

    static func number(_ value: JSONValue?) -> String? {
        if case .number(let text)? = value { text } else { nil }
    }

    static func flag(_ value: JSONValue?, _ at: String) throws -> Bool {
        guard case .bool(let b)? = value else { throw CLIError("fixture: \(at) is not true or false") }
        return b
    }
}
