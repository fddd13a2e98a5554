import EVMPrimitives

/// Exact quotes of one path for many inputs, as a sizing search asks for them. V3 hops quote from
/// their pools' crossings (`V3Pool+Crossings.swift`): each tick is crossed once per pool state,
/// and every input after costs its last, partial step. Results equal `Path.amountOut` exactly.
public struct PathQuoter: Sendable {
    public let path: Path
    /// Per hop: where its pool is kept, by kind. Pools sit in arrays of their own type and are
    /// quoted in place: taking one out of the `Pool` enum would copy (and retain) its tick arrays.
    private enum Slot: Sendable {
        case v2(Int)
        case v3(Int)
        case raydium(Int)
        case whirlpool(Int)
        case dlmm(Int)
        case clmm(Int)
        case other
    }
    private let slots: [Slot]
    private let directions: [Bool]
    private let v2: [V2Pool]
    private let v3: [V3Pool]
    private let raydium: [RaydiumAMMPool]
    private let whirlpools: [WhirlpoolPool]
    private let dlmm: [(pool: DLMMPool, timestamp: Int64)]
    private let clmm: [RaydiumCLMMPool]

    /// A hop as a constant-product map near the trade: reserves in and out and the fee factor γ,
    /// so that `out(δ) ≈ γ·rOut·δ / (rIn + γ·δ)`. Doubles: estimates only.
    public struct LocalMap: Sendable {
        public var reserveIn: Double
        public var reserveOut: Double
        public var gamma: Double
    }

    public init(_ path: Path) {
        self.path = path
        var slots: [Slot] = [], v2: [V2Pool] = [], v3: [V3Pool] = []
        var raydium: [RaydiumAMMPool] = [], whirlpools: [WhirlpoolPool] = [], dlmm: [(pool: DLMMPool, timestamp: Int64)] = []
        var clmm: [RaydiumCLMMPool] = []
        for hop in path.hops {
            switch hop.pool {
            case .uniswapV2(let p): slots.append(.v2(v2.count)); v2.append(p)
            case .uniswapV3(let p): slots.append(.v3(v3.count)); v3.append(p)
            case .raydiumAMM(let p): slots.append(.raydium(raydium.count)); raydium.append(p)
            case .whirlpool(let p): slots.append(.whirlpool(whirlpools.count)); whirlpools.append(p)
            case .meteoraDLMM(let p, let t): slots.append(.dlmm(dlmm.count)); dlmm.append((p, t))
            case .raydiumCLMM(let p): slots.append(.clmm(clmm.count)); clmm.append(p)
            case .curve, .solidly, .phoenix: slots.append(.other)
            }
        }
        self.slots = slots
        self.directions = path.hops.map(\.zeroForOne)
        self.v2 = v2
        self.v3 = v3
        self.raydium = raydium
        self.whirlpools = whirlpools
        self.dlmm = dlmm
        self.clmm = clmm
    }

    /// The path's output for `x`; nil when the path cannot take it (as `Path.amountOut` throws).
    public func amountOut(_ x: UInt256) -> UInt256? {
        var v = x
        for j in slots.indices {
            guard let out = hopOut(j, v) else { return nil }
            v = out
        }
        return v
    }

    /// `[x, out₁, …, outₙ]`, as `Path.amounts`; nil when the path cannot take `x`.
    public func amounts(_ x: UInt256) -> [UInt256]? {
        var out = [x]
        out.reserveCapacity(slots.count + 1)
        for j in slots.indices {
            guard let v = hopOut(j, out[j]) else { return nil }
            out.append(v)
        }
        return out
    }

    /// The output for `x`, and each hop's local map in its state after the trade: where the hop's
    /// curve continues (V3: the range the price ended in). Nil for a path the maps do not cover
    /// (Curve, Solidly) or an input it cannot take.
    public func amountOut(_ x: UInt256, maps: inout [LocalMap]) -> UInt256? {
        if maps.count != slots.count { maps = Array(repeating: LocalMap(reserveIn: 0, reserveOut: 0, gamma: 1), count: slots.count) }
        var v = x
        for j in slots.indices {
            let zeroForOne = directions[j]
            switch slots[j] {
            case .v2(let k):
                guard let out = try? v2[k].amountOut(amountIn: v, zeroForOne: zeroForOne) else { return nil }
                let p = v2[k]
                let (rIn, rOut, fee) = zeroForOne ? (p.reserve0, p.reserve1, p.fee0Pips) : (p.reserve1, p.reserve0, p.fee1Pips)
                // More input to the same swap meets the curve at γ·a past the reserves: the fee on
                // `a` went into the pair but not into its pricing of this trade. So the reserves
                // the increment sees are (rIn + γ·a, rIn·rOut / (rIn + γ·a)).
                let g = 1 - Double(fee) / 1e6
                let effectiveIn = rIn.doubleValue + g * v.doubleValue
                maps[j] = LocalMap(reserveIn: effectiveIn, reserveOut: rIn.doubleValue * rOut.doubleValue / effectiveIn, gamma: g)
                v = out
            case .v3(let k):
                guard let r = try? v3[k].quoteExactInput(zeroForOne: zeroForOne, amount: v),
                      r.amountIn == v, !r.amountOut.isZero
                else { return nil }
                // Within a range a V3 pool is a constant-product pair with virtual reserves L/√P and L·√P.
                let s = r.sqrtPriceX96After.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
                let l = r.liquidityAfter.doubleValue
                let (x0, x1) = (l / s, l * s)
                maps[j] = LocalMap(reserveIn: zeroForOne ? x0 : x1, reserveOut: zeroForOne ? x1 : x0, gamma: 1 - Double(v3[k].feePips) / 1e6)
                v = r.amountOut
            case .raydium, .whirlpool, .dlmm, .clmm, .other:
                return nil
            }
            guard maps[j].reserveIn > 0, maps[j].reserveOut > 0 else { return nil }
        }
        return v
    }

    private func hopOut(_ j: Int, _ amountIn: UInt256) -> UInt256? {
        let zeroForOne = directions[j]
        switch slots[j] {
        case .v2(let k):
            return try? v2[k].amountOut(amountIn: amountIn, zeroForOne: zeroForOne)
        case .v3(let k):
            guard let r = try? v3[k].quoteExactInput(zeroForOne: zeroForOne, amount: amountIn),
                  r.amountIn == amountIn, !r.amountOut.isZero
            else { return nil }
            return r.amountOut
        case .raydium(let k):
            guard amountIn.w1 | amountIn.w2 | amountIn.w3 == 0, let out = try? raydium[k].amountOut(amountIn: amountIn.w0, coinToPc: zeroForOne) else { return nil }
            return UInt256(out)
        case .whirlpool(let k):
            guard amountIn.w1 | amountIn.w2 | amountIn.w3 == 0, let out = try? whirlpools[k].amountOut(amount: amountIn.w0, aToB: zeroForOne) else { return nil }
            return UInt256(out)
        case .dlmm(let k):
            guard amountIn.w1 | amountIn.w2 | amountIn.w3 == 0,
                  let out = try? dlmm[k].pool.amountOut(amount: amountIn.w0, swapForY: zeroForOne, timestamp: dlmm[k].timestamp) else { return nil }
            return UInt256(out)
        case .clmm(let k):
            guard amountIn.w1 | amountIn.w2 | amountIn.w3 == 0, let out = try? clmm[k].amountOut(amount: amountIn.w0, zeroForOne: zeroForOne) else { return nil }
            return UInt256(out)
        case .other:
            return try? path.hops[j].pool.amountOut(amountIn, zeroForOne: zeroForOne)
        }
    }
}
