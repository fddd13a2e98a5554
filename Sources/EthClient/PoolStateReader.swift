import AMMMath
import EVMCodec
import EVMPrimitives
import JSONRPC

/// Reads pools' initial state at one block through Multicall3 `aggregate3`, in batches: V2
/// reserves; V3 `slot0`, `liquidity`, `fee`, `tickSpacing`, the tick-bitmap words around the
/// current price and every initialised tick in them (liquidityGross and liquidityNet); Solidly
/// reserves and stability; Curve balances, A, fee and admin fee. Ticks
/// beyond the words read are not known: sizing must stay within them.
public struct PoolStateReader: Sendable {
    public let eth: EthClient
    public let multicall: Address
    /// Calls per `aggregate3`.
    public let batchSize: Int

    public init(eth: EthClient, multicall: Address, batchSize: Int = 200) {
        self.eth = eth
        self.multicall = multicall
        self.batchSize = batchSize
    }

    /// A V3 pool and the liquidityGross of its initialised ticks (for `PoolBook.register`), and
    /// the ticks the bitmap words read cover: quotes whose price stays within them are exact.
    public struct V3State: Sendable {
        public var pool: V3Pool
        public var tickGross: [Int32: UInt256]
        public var covered: ClosedRange<Int32>
    }

    struct Call {
        var target: Address
        var data: [UInt8]
    }

    static let aggregate3: [UInt8] = [0x82, 0xad, 0x56, 0xcb]

    /// Every call's return data (nil where it reverted), in order.
    func run(_ calls: [Call], at block: UInt64) async throws(RPCError) -> [[UInt8]?] {
        var out: [[UInt8]?] = []
        out.reserveCapacity(calls.count)
        var i = 0
        while i < calls.count {
            let chunk = calls[i..<min(i + batchSize, calls.count)]
            let args = ABIValue.array(chunk.map { .tuple([.address($0.target), .bool(true), .bytes($0.data)]) })
            let data: [UInt8]
            do {
                data = Self.aggregate3 + (try ABI.encode([args], as: [.array(.tuple([.address, .bool, .bytes]))]))
            } catch {
                throw RPCError(.malformedResponse, "aggregate3 arguments: \(error)")
            }
            let result = try await eth.call(to: multicall, data: data, block: .number(block))
            guard let decoded = try? ABI.decode([.array(.tuple([.bool, .bytes]))], from: result), let items = decoded.first?.elements,
                  items.count == chunk.count
            else { throw RPCError(.malformedResponse, "aggregate3 returned \(result.count) bytes that do not decode") }
            for item in items {
                guard let pair = item.elements, pair.count == 2, case .bool(let ok) = pair[0], let bytes = pair[1].bytesValue else {
                    throw RPCError(.malformedResponse, "an aggregate3 result that is not (bool, bytes)")
                }
                out.append(ok ? bytes : nil)
            }
            i += chunk.count
        }
        return out
    }

    static func word(_ bytes: [UInt8], _ i: Int) -> UInt256? {
        guard bytes.count >= 32 * (i + 1) else { return nil }
        return bytes.withUnsafeBytes { UInt256(bigEndianWordAt: $0.baseAddress! + 32 * i) }
    }

    static func int(_ w: UInt256) -> Int64 { Int64(bitPattern: w.w0) }

    /// Reserves of each pair (`getReserves()`), with the pair's fee; nil where the call failed.
    public func v2(_ pairs: [Address], feePips: UInt32 = 3000, at block: UInt64) async throws(RPCError) -> [V2Pool?] {
        let results = try await run(pairs.map { Call(target: $0, data: [0x09, 0x02, 0xf1, 0xac]) }, at: block)
        return results.map { r in
            guard let r, let r0 = Self.word(r, 0), let r1 = Self.word(r, 1) else { return nil }
            return try? V2Pool(reserve0: r0, reserve1: r1, feePips: feePips)
        }
    }

    /// Solidly-family pools (Velodrome V2, Aerodrome): `getReserves()` and `stable()`; the tokens'
    /// decimals and the pool's fee come from the caller (the registry, the factory).
    public func solidly(_ pools: [(address: Address, decimals: (UInt8, UInt8), feePips: UInt32)], at block: UInt64) async throws(RPCError) -> [SolidlyPool?] {
        let calls = pools.flatMap { p in [Call(target: p.address, data: [0x09, 0x02, 0xf1, 0xac]), Call(target: p.address, data: [0x22, 0xbe, 0x3d, 0xe1])] }
        let results = try await run(calls, at: block)
        return pools.indices.map { k in
            guard let reserves = results[2 * k], let st = results[2 * k + 1], let r0 = Self.word(reserves, 0), let r1 = Self.word(reserves, 1),
                  let flag = Self.word(st, 0), flag <= .one
            else { return nil }
            return try? SolidlyPool(reserve0: r0, reserve1: r1, stable: flag == .one, decimals: pools[k].decimals, feePips: pools[k].feePips)
        }
    }

    /// Two-coin Curve StableSwap pools: `balances(0)`, `balances(1)`, `A()`, `fee()`, `admin_fee()`;
    /// the coins' decimals come from the caller.
    public func curve(_ pools: [(address: Address, decimals: (UInt8, UInt8))], at block: UInt64) async throws(RPCError) -> [CurvePool?] {
        let balances: [UInt8] = [0x49, 0x03, 0xb0, 0xd1]
        let calls = pools.flatMap { p in
            [Call(target: p.address, data: balances + UInt256.zero.bigEndianBytes), Call(target: p.address, data: balances + UInt256.one.bigEndianBytes),
             Call(target: p.address, data: [0xf4, 0x46, 0xc1, 0xd0]), Call(target: p.address, data: [0xdd, 0xca, 0x3f, 0x43]),
             Call(target: p.address, data: [0xfe, 0xe3, 0xf7, 0xf9])]
        }
        let results = try await run(calls, at: block)
        return pools.indices.map { k in
            let words = (0..<5).map { i in results[5 * k + i].flatMap { Self.word($0, 0) } }
            guard let b0 = words[0], let b1 = words[1], let a = words[2], let fee = words[3], let admin = words[4],
                  admin <= UInt256(10_000_000_000), var pool = try? CurvePool(balances: (b0, b1), decimals: pools[k].decimals, amplification: a, fee: fee)
            else { return nil }
            pool.adminFee = admin
            return pool
        }
    }

    /// V3 pools' `sqrtPriceX96` alone (slot0's first word), in one call: a price, without the
    /// ticks a swap needs (history for statistics).
    public func v3Prices(_ pools: [Address], at block: UInt64) async throws(RPCError) -> [UInt256?] {
        try await run(pools.map { Call(target: $0, data: [0x38, 0x50, 0xc7, 0xbd]) }, at: block).map { $0.flatMap { Self.word($0, 0) } }
    }

    /// V3 pools with the initialised ticks of the `words` bitmap words on each side of the price.
    public func v3(_ pools: [Address], words: Int = 2, at block: UInt64) async throws(RPCError) -> [V3State?] {
        let selectors: [[UInt8]] = [[0x38, 0x50, 0xc7, 0xbd], [0x1a, 0x68, 0x65, 0x02], [0xdd, 0xca, 0x3f, 0x43], [0xd0, 0xc9, 0x3a, 0x7c]]
        let heads = try await run(pools.flatMap { p in selectors.map { Call(target: p, data: $0) } }, at: block)
        struct Head { var price: UInt256; var tick: Int32; var liquidity: UInt256; var fee: UInt32; var spacing: Int32 }
        var states: [Head?] = []
        for k in pools.indices {
            guard let slot0 = heads[4 * k], let liq = heads[4 * k + 1], let fee = heads[4 * k + 2], let sp = heads[4 * k + 3],
                  let price = Self.word(slot0, 0), let tick = Self.word(slot0, 1), let l = Self.word(liq, 0),
                  let f = Self.word(fee, 0), let s = Self.word(sp, 0), Self.int(s) > 0
            else { states.append(nil); continue }
            states.append(Head(price: price, tick: Int32(truncatingIfNeeded: Self.int(tick)), liquidity: l, fee: UInt32(truncatingIfNeeded: f.w0),
                               spacing: Int32(truncatingIfNeeded: Self.int(s))))
        }
        // Bitmap words around each price: word = floor(tick / spacing) >> 8.
        var bitmapCalls: [Call] = [], bitmapOwner: [(pool: Int, word: Int32)] = []
        var covered = [ClosedRange<Int32>](repeating: 0...0, count: pools.count)
        for (k, h) in states.enumerated() {
            guard let h else { continue }
            var compressed = h.tick / h.spacing
            if h.tick < 0 && h.tick % h.spacing != 0 { compressed -= 1 }
            let centre = compressed >> 8
            covered[k] = max(TickMath.minTick, (centre - Int32(words)) * 256 * h.spacing)...min(TickMath.maxTick, ((centre + Int32(words) + 1) * 256 - 1) * h.spacing)
            for w in (centre - Int32(words))...(centre + Int32(words)) where w >= -128 * 256 && w < 128 * 256 {
                let arg = Int256(Int64(w)).bitPattern
                bitmapCalls.append(Call(target: pools[k], data: [0x53, 0x39, 0xc2, 0x96] + arg.bigEndianBytes))
                bitmapOwner.append((k, w))
            }
        }
        let bitmaps = try await run(bitmapCalls, at: block)
        var tickCalls: [Call] = [], tickOwner: [(pool: Int, tick: Int32)] = []
        for (i, b) in bitmaps.enumerated() {
            guard let b, let bits = Self.word(b, 0), let h = states[bitmapOwner[i].pool] else { continue }
            for bit in 0..<256 where (bits >> bit) & UInt256.one == .one {
                let tick = (bitmapOwner[i].word * 256 + Int32(bit)) * h.spacing
                tickCalls.append(Call(target: pools[bitmapOwner[i].pool], data: [0xf3, 0x0d, 0xba, 0x93] + Int256(Int64(tick)).bitPattern.bigEndianBytes))
                tickOwner.append((bitmapOwner[i].pool, tick))
            }
        }
        let tickData = try await run(tickCalls, at: block)
        var ticks = [[V3Pool.Tick]](repeating: [], count: pools.count)
        var gross = [[Int32: UInt256]](repeating: [:], count: pools.count)
        for (i, t) in tickData.enumerated() {
            // ticks(int24) → (uint128 liquidityGross, int128 liquidityNet, …)
            guard let t, let g = Self.word(t, 0), let net = Self.word(t, 1) else { continue }
            let (k, index) = tickOwner[i]
            ticks[k].append(V3Pool.Tick(index: index, liquidityNet: Int256(bitPattern: net)))
            gross[k][index] = g
        }
        return states.enumerated().map { k, h in
            guard let h, let pool = try? V3Pool(sqrtPriceX96: h.price, tick: h.tick, liquidity: h.liquidity, feePips: h.fee,
                                                tickSpacing: h.spacing, ticks: ticks[k])
            else { return nil }
            return V3State(pool: pool, tickGross: gross[k], covered: covered[k])
        }
    }
}
