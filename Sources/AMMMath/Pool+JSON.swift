import EVMCodec
import EVMPrimitives

/// The pool JSON of `docs/amm.md`: `"kind"` names the registry's DEX kind; integers are decimal
/// strings (JSON numbers are accepted too); a bad field is an error that names it.
extension Pool {
    public init(json: JSONValue) throws(AMMError) {
        guard case .object = json else { throw AMMError(.invalidState, "a pool is a JSON object, not \(json.kind)") }
        let kind = try json.field("kind").string("kind")
        switch kind {
        case "uniswapV2":
            let r0 = try json.field("reserve0").uint("reserve0")
            let r1 = try json.field("reserve1").uint("reserve1")
            if let fee = json["fee"] {
                self = .uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, feePips: try fee.pips("fee")))
            } else {
                self = .uniswapV2(try V2Pool(reserve0: r0, reserve1: r1, fee0Pips: try json.field("fee0").pips("fee0"),
                                             fee1Pips: try json.field("fee1").pips("fee1")))
            }
        case "uniswapV3", "pancakeV3", "algebra", "algebraIntegral":
            guard let list = json["ticks"]?.arrayValue else { throw AMMError(.invalidState, "ticks: expected an array") }
            var ticks: [V3Pool.Tick] = []
            ticks.reserveCapacity(list.count)
            for (i, t) in list.enumerated() {
                ticks.append(V3Pool.Tick(index: try t.field("index").int32("ticks[\(i)].index"),
                                         liquidityNet: try t.field("liquidityNet").int("ticks[\(i)].liquidityNet")))
            }
            self = .uniswapV3(try V3Pool(
                sqrtPriceX96: try json.field("sqrtPriceX96").uint("sqrtPriceX96"), tick: try json.field("tick").int32("tick"),
                liquidity: try json.field("liquidity").uint("liquidity"), feePips: try json.field("fee").pips("fee"),
                tickSpacing: try json.field("tickSpacing").int32("tickSpacing"), ticks: ticks))
        case "curve":
            guard let b = json["balances"]?.arrayValue, b.count == 2 else { throw AMMError(.invalidState, "balances: expected two balances") }
            guard let d = json["decimals"]?.arrayValue, d.count == 2 else { throw AMMError(.invalidState, "decimals: expected two") }
            let d0 = try d[0].uint("decimals[0]"), d1 = try d[1].uint("decimals[1]")
            guard d0 <= UInt256(36), d1 <= UInt256(36) else { throw AMMError(.invalidState, "decimals: at most 36") }
            var pool = try CurvePool(balances: (try b[0].uint("balances[0]"), try b[1].uint("balances[1]")),
                                     decimals: (UInt8(d0.w0), UInt8(d1.w0)), amplification: try json.field("A").uint("A"),
                                     fee: try json.field("fee").uint("fee"))
            if let admin = json["adminFee"] { pool.adminFee = try admin.uint("adminFee") }
            self = .curve(pool)
        case "solidly":
            guard case .bool(let stable)? = json["stable"] else { throw AMMError(.invalidState, "stable: expected true or false") }
            guard let d = json["decimals"]?.arrayValue, d.count == 2 else { throw AMMError(.invalidState, "decimals: expected two") }
            let d0 = try d[0].uint("decimals[0]"), d1 = try d[1].uint("decimals[1]")
            guard d0 <= UInt256(36), d1 <= UInt256(36) else { throw AMMError(.invalidState, "decimals: at most 36") }
            self = .solidly(try SolidlyPool(reserve0: try json.field("reserve0").uint("reserve0"), reserve1: try json.field("reserve1").uint("reserve1"),
                                            stable: stable, decimals: (UInt8(d0.w0), UInt8(d1.w0)), feePips: try json.field("fee").pips("fee")))
        default:
            throw AMMError(.invalidState, "kind: \(kind) is not a pool kind Arbiter prices (uniswapV2, uniswapV3, pancakeV3, algebra, algebraIntegral, curve, solidly)")
        }
    }
}

extension JSONValue {
    func field(_ name: String) throws(AMMError) -> JSONValue {
        guard let v = self[name], !v.isNull else { throw AMMError(.invalidState, "\(name): missing") }
        return v
    }

    func string(_ path: String) throws(AMMError) -> String {
        guard let s = stringValue else { throw AMMError(.invalidState, "\(path): expected a string, got \(kind)") }
        return s
    }

    /// A non-negative integer from a decimal (or 0x hex) string or a JSON number.
    package func uint(_ path: String) throws(AMMError) -> UInt256 {
        let text: String
        switch self {
        case .string(let s): text = s
        case .number(let n): text = n
        default: throw AMMError(.invalidState, "\(path): expected an integer string, got \(kind)")
        }
        do { return try UInt256(parsing: text) } catch { throw AMMError(.invalidState, "\(path): \(text.prefix(80)) is not an unsigned 256-bit integer") }
    }

    package func int(_ path: String) throws(AMMError) -> Int256 {
        let text: String
        switch self {
        case .string(let s): text = s
        case .number(let n): text = n
        default: throw AMMError(.invalidState, "\(path): expected an integer string, got \(kind)")
        }
        do { return try Int256(parsing: text) } catch { throw AMMError(.invalidState, "\(path): \(text.prefix(80)) is not a signed 256-bit integer") }
    }

    func int32(_ path: String) throws(AMMError) -> Int32 {
        let v = try int(path)
        guard v >= Int256(Int64(Int32.min)), v <= Int256(Int64(Int32.max)) else { throw AMMError(.invalidState, "\(path): out of range") }
        return Int32(truncatingIfNeeded: Int64(bitPattern: v.bitPattern.w0))
    }

    func pips(_ path: String) throws(AMMError) -> UInt32 {
        let v = try uint(path)
        guard v < UInt256(1_000_000) else { throw AMMError(.invalidState, "\(path): a fee in pips is below 1000000 (3000 = 0.3%)") }
        return UInt32(v.w0)
    }
}
