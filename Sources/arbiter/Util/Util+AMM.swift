import AMMMath
import ArgumentParser
import EVMCodec
import EVMPrimitives

extension Util {
    struct Quote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Quote a swap on a pool given as JSON (docs/amm.md), exactly as the pool contract computes it.",
            discussion: """
                Prints {"amountIn", "amountOut"} and for concentrated-liquidity pools also \
                "sqrtPriceX96After", "tickAfter", "liquidityAfter", "ticksCrossed". With --jsonl, \
                each line of standard input is {"pool": {…}, "amount": "…", "zeroForOne": bool, \
                "exactOut": bool, "sqrtPriceLimitX96": "…"|null} and each output line is a quote or \
                {"error": "…"} (a swap the pool would revert is an error line, not a failure).
                """)

        @Option(name: .long, help: "The pool JSON file.")
        var pool: String?
        @Option(name: .long, help: "The amount: input, or with --exact-out the output wanted.")
        var amountIn: String?
        @Flag(name: .long, help: "Token0 in, token1 out (default: token1 in).")
        var zeroForOne = false
        @Flag(name: .long, help: "The amount is the output wanted.")
        var exactOut = false
        @Option(name: .long, help: "V3 price limit (sqrtPriceX96).")
        var sqrtPriceLimit: String?
        @Flag(name: .long, help: "Quote one JSON request per line of standard input.")
        var jsonl = false

        func run() throws {
            if jsonl {
                guard pool == nil, amountIn == nil else { throw CLIError("--jsonl reads requests from standard input; do not pass --pool or --amount-in") }
                var lineNumber = 0
                for line in Input.standardInput().split(separator: 0x0a, omittingEmptySubsequences: false) {
                    lineNumber += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
                    do {
                        let request = try JSONValue.parse(Array(line))
                        guard let poolJSON = request["pool"] else { throw CLIError("pool: missing") }
                        let amount = try context("amount") { try UInt256(parsing: request["amount"]?.stringValue ?? "") }
                        let limit = try request["sqrtPriceLimitX96"]?.stringValue.map { s in try context("sqrtPriceLimitX96") { try UInt256(parsing: s) } }
                        Output.line(try quote(try Pool(json: poolJSON), amount: amount, zeroForOne: request["zeroForOne"] == .bool(true),
                                              exactOut: request["exactOut"] == .bool(true), limit: limit).text)
                    } catch {
                        Output.line(JSONValue.object([("error", .string("line \(lineNumber): \(error)"))]).text)
                    }
                }
                return
            }
            guard let pool, let amountIn else { throw CLIError("quote needs --pool <file> and --amount-in <n> (or --jsonl)") }
            let json = try context(pool) { try JSONValue.parse(try Input.file(pool)) }
            let p = try context(pool) { try Pool(json: json) }
            let amount = try context("--amount-in") { try UInt256(parsing: amountIn) }
            let limit = try sqrtPriceLimit.map { s in try context("--sqrt-price-limit") { try UInt256(parsing: s) } }
            Output.line(try context("quote") { try quote(p, amount: amount, zeroForOne: zeroForOne, exactOut: exactOut, limit: limit) }.text)
        }

        private func quote(_ pool: Pool, amount: UInt256, zeroForOne: Bool, exactOut: Bool, limit: UInt256?) throws -> JSONValue {
            let q = try pool.quote(zeroForOne: zeroForOne, amount: amount, exactOutput: exactOut, sqrtPriceLimitX96: limit)
            var members: [(key: String, value: JSONValue)] = [("amountIn", .string(q.amountIn.description)), ("amountOut", .string(q.amountOut.description))]
            if let after = q.v3After {
                members += [
                    ("sqrtPriceX96After", .string(after.sqrtPriceX96After.description)), ("tickAfter", .number(String(after.tickAfter))),
                    ("liquidityAfter", .string(after.liquidityAfter.description)), ("ticksCrossed", .number(String(after.ticksCrossed))),
                ]
            }
            return .object(members)
        }
    }

    struct Optimize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The profit-maximising input of an arbitrage cycle given as JSON (docs/amm.md).",
            discussion: """
                The path file is {"hops": [{"pool": {…}, "zeroForOne": bool}, …]}, the last hop's \
                output token being the first hop's input. Prints {"amountIn", "amounts", "amountOut", \
                "grossProfit"} (after the flash fee, before gas), or {"profitable": false} when no \
                input makes a profit.
                """)

        @Option(name: .long, help: "The path JSON file.")
        var path: String
        @Option(name: .long, help: "The largest input allowed (a flash-loan maximum or a balance).")
        var maxIn: String?
        @Option(name: .long, help: "Flash-loan fee on the input: none, aave:<bps> (half up) or wad:<fraction·1e18> (floored).")
        var flashFee = "none"

        func run() throws {
            let json = try context(path) { try JSONValue.parse(try Input.file(path)) }
            guard let hopsJSON = json["hops"]?.arrayValue, !hopsJSON.isEmpty else { throw CLIError("\(path): hops: expected a non-empty array") }
            var hops: [Path.Hop] = []
            for (i, h) in hopsJSON.enumerated() {
                guard let poolJSON = h["pool"] else { throw CLIError("\(path): hops[\(i)].pool: missing") }
                let pool = try context("\(path): hops[\(i)].pool") { try Pool(json: poolJSON) }
                guard case .bool(let z)? = h["zeroForOne"] else { throw CLIError("\(path): hops[\(i)].zeroForOne: expected true or false") }
                hops.append(Path.Hop(pool: pool, zeroForOne: z))
            }
            let cap = try maxIn.map { s in try context("--max-in") { try UInt256(parsing: s) } }
            let fee: FlashFee
            switch flashFee.split(separator: ":", maxSplits: 1).map(String.init) {
            case ["none"]: fee = .none
            case let parts where parts.count == 2 && parts[0] == "aave":
                guard let bps = UInt32(parts[1]), bps < 10_000 else { throw CLIError("--flash-fee: aave:<bps> takes basis points below 10000") }
                fee = .aave(bps: bps)
            case let parts where parts.count == 2 && parts[0] == "wad":
                fee = .wadFraction(try context("--flash-fee") { try UInt256(parsing: parts[1]) })
            default: throw CLIError("--flash-fee: expected none, aave:<bps> or wad:<fraction·1e18>, got \(flashFee)")
            }
            guard let best = Optimizer.optimize(Path(hops), maxIn: cap, flashFee: fee) else {
                Output.line(JSONValue.object([("profitable", .bool(false))]).text)
                return
            }
            Output.line(JSONValue.object([
                ("amountIn", .string(best.amountIn.description)),
                ("amounts", .array(best.amounts.map { .string($0.description) })),
                ("amountOut", .string(best.amountOut.description)),
                ("grossProfit", .string(best.grossProfit.description)),
            ]).text)
        }
    }
}
