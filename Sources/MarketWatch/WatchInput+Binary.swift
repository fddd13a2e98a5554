import AMMMath
import EVMPrimitives
import EthClient

/// The watcher stream's byte encoding: integers little-endian (u64) or as four u64 limbs
/// (u256), counts as LEB128 varints, optionals behind a 0/1 byte, addresses as 20 bytes.
struct InputWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u256(_ v: UInt256) {
        u64(v.w0)
        u64(v.w1)
        u64(v.w2)
        u64(v.w3)
    }
    mutating func address(_ a: Address) { bytes += a.bytes }
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func optional(_ v: UInt256?) {
        u8(v == nil ? 0 : 1)
        if let v { u256(v) }
    }

    mutating func header(_ h: EthClient.Header) {
        u64(h.number)
        u256(h.hash)
        u256(h.parentHash)
        u64(h.timestamp)
        optional(h.baseFee)
    }

    mutating func log(_ l: EVMLog) {
        address(l.address)
        varint(UInt64(l.topics.count))
        for t in l.topics { u256(t) }
        varint(UInt64(l.data.count))
        bytes += l.data
        u64(l.blockNumber)
        u256(l.blockHash)
        u32(l.transactionIndex)
        u32(l.logIndex)
        u8(l.removed ? 1 : 0)
    }

    mutating func reads(_ reads: [PoolRead]) throws(WatchInputError) {
        varint(UInt64(reads.count))
        for r in reads {
            pool(r.pool)
            try state(r.state)
            varint(UInt64(r.tickGross.count))
            for (tick, gross) in r.tickGross.sorted(by: { $0.key < $1.key }) {
                u32(UInt32(bitPattern: tick))
                u256(gross)
            }
            u8(r.covered == nil ? 0 : 1)
            if let c = r.covered {
                u32(UInt32(bitPattern: c.lowerBound))
                u32(UInt32(bitPattern: c.upperBound))
            }
        }
    }

    mutating func pool(_ p: WatchedPool) {
        address(p.address)
        switch p.kind {
        case .uniswapV2(let fee):
            u8(1)
            u32(fee)
        case .uniswapV3:
            u8(2)
        case .solidly(let fee, let d0, let d1):
            u8(3)
            u32(fee)
            u8(d0)
            u8(d1)
        case .curve(let d0, let d1):
            u8(4)
            u8(d0)
            u8(d1)
        }
        address(p.token0)
        address(p.token1)
        u32(p.venue)
    }

    /// The EVM pool kinds a watcher reads; others (Solana's) have no place in its stream.
    mutating func state(_ s: Pool?) throws(WatchInputError) {
        switch s {
        case nil:
            u8(0)
        case .uniswapV2(let p)?:
            u8(1)
            u256(p.reserve0)
            u256(p.reserve1)
            u32(p.fee0Pips)
            u32(p.fee1Pips)
        case .uniswapV3(let p)?:
            u8(2)
            u256(p.sqrtPriceX96)
            u32(UInt32(bitPattern: p.tick))
            u256(p.liquidity)
            u32(p.feePips)
            u32(UInt32(bitPattern: p.tickSpacing))
            varint(UInt64(p.ticks.count))
            for t in p.ticks {
                u32(UInt32(bitPattern: t.index))
                u256(t.liquidityNet.bitPattern)
            }
        case .curve(let p)?:
            u8(3)
            for v in [p.balances.0, p.balances.1, p.rates.0, p.rates.1, p.amplification, p.fee, p.adminFee] { u256(v) }
        case .solidly(let p)?:
            u8(4)
            for v in [p.reserve0, p.reserve1, p.decimals0, p.decimals1] { u256(v) }
            u8(p.stable ? 1 : 0)
            u32(p.feePips)
        case let other?:
            throw WatchInputError("a \(other) pool is not a watcher's to record")
        }
    }
}

struct InputReader {
    let bytes: [UInt8]
    var at = 0

    func fail(_ m: String) -> WatchInputError { WatchInputError("\(m) at byte \(at)") }

    /// The offset of the next `n` bytes, which are then consumed.
    mutating func skip(_ n: Int) throws(WatchInputError) -> Int {
        guard n >= 0, bytes.count - at >= n else { throw fail("cut short (\(n) byte(s) wanted)") }
        defer { at += n }
        return at
    }
    /// Loads read in place: no slice (and no reference count) per field.
    private mutating func load<T: FixedWidthInteger>(_: T.Type) throws(WatchInputError) -> T {
        let from = try skip(MemoryLayout<T>.size)
        return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: from, as: T.self) })
    }
    mutating func u8() throws(WatchInputError) -> UInt8 { bytes[try skip(1)] }
    mutating func u32() throws(WatchInputError) -> UInt32 { try load(UInt32.self) }
    mutating func u64() throws(WatchInputError) -> UInt64 { try load(UInt64.self) }
    mutating func u256() throws(WatchInputError) -> UInt256 {
        let from = try skip(32)
        return bytes.withUnsafeBytes { b in
            UInt256(limbs: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: from, as: UInt64.self)),
                    UInt64(littleEndian: b.loadUnaligned(fromByteOffset: from + 8, as: UInt64.self)),
                    UInt64(littleEndian: b.loadUnaligned(fromByteOffset: from + 16, as: UInt64.self)),
                    UInt64(littleEndian: b.loadUnaligned(fromByteOffset: from + 24, as: UInt64.self)))
        }
    }
    mutating func address() throws(WatchInputError) -> Address {
        let from = try skip(20)
        return bytes.withUnsafeBytes { Address(bytesAt: $0.baseAddress! + from) }
    }
    mutating func bool() throws(WatchInputError) -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw fail("a flag of \(b)")
        }
    }
    mutating func varint() throws(WatchInputError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 63 || b <= 1 else { throw fail("a varint longer than 64 bits") }
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }
    /// A count of items at least `min` bytes each: never more than the bytes left could hold.
    mutating func count(min: Int) throws(WatchInputError) -> Int {
        let n = try varint()
        guard n <= UInt64((bytes.count - at) / max(1, min)) else { throw fail("a count of \(n) past the payload") }
        return Int(n)
    }
    mutating func optional() throws(WatchInputError) -> UInt256? { try bool() ? try u256() : nil }

    mutating func header() throws(WatchInputError) -> EthClient.Header {
        EthClient.Header(number: try u64(), hash: try u256(), parentHash: try u256(), timestamp: try u64(), baseFee: try optional())
    }

    mutating func log() throws(WatchInputError) -> EVMLog {
        // Logs are most of a replay's bytes: each run of fixed-size fields is bounds-checked once
        // (`skip`) and then read from memory, not field by field.
        let emitter = try address()
        let n = try count(min: 32)
        guard n <= 4 else { throw fail("a log with \(n) topics") }
        let topicsAt = try skip(32 * n)
        let length = try count(min: 1)
        let dataAt = try skip(length)
        let tailAt = try skip(8 + 32 + 4 + 4 + 1)
        let removed = bytes[tailAt + 48]
        guard removed <= 1 else { throw fail("a flag of \(removed)") }
        return bytes.withUnsafeBytes { raw in
            func word(_ at: Int) -> UInt256 {
                UInt256(limbs: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
                        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)),
                        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self)))
            }
            let topics = [UInt256](unsafeUninitializedCapacity: n) { buffer, count in
                for i in 0..<n { (buffer.baseAddress! + i).initialize(to: word(topicsAt + 32 * i)) }
                count = n
            }
            return EVMLog(address: emitter, topics: topics, data: Array(raw[dataAt..<dataAt + length]),
                          blockNumber: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: tailAt, as: UInt64.self)), blockHash: word(tailAt + 8),
                          transactionIndex: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: tailAt + 40, as: UInt32.self)),
                          logIndex: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: tailAt + 44, as: UInt32.self)), removed: removed == 1)
        }
    }

    mutating func reads() throws(WatchInputError) -> [PoolRead] {
        let n = try count(min: 66)
        var out: [PoolRead] = []
        for _ in 0..<n {
            let p = try pool()
            let s = try state()
            var gross: [Int32: UInt256] = [:]
            for _ in 0..<(try count(min: 36)) { gross[Int32(bitPattern: try u32())] = try u256() }
            var covered: ClosedRange<Int32>? = nil
            if try bool() {
                let lo = Int32(bitPattern: try u32()), hi = Int32(bitPattern: try u32())
                guard lo <= hi else { throw fail("a covered range \(lo)…\(hi)") }
                covered = lo...hi
            }
            out.append(PoolRead(pool: p, state: s, tickGross: gross, covered: covered))
        }
        return out
    }

    mutating func pool() throws(WatchInputError) -> WatchedPool {
        let at = try address()
        let kind: WatchedPool.Kind
        switch try u8() {
        case 1: kind = .uniswapV2(feePips: try u32())
        case 2: kind = .uniswapV3
        case 3: kind = .solidly(feePips: try u32(), decimals0: try u8(), decimals1: try u8())
        case 4: kind = .curve(decimals0: try u8(), decimals1: try u8())
        case let k: throw fail("a pool kind \(k)")
        }
        let (token0, token1, venue) = (try address(), try address(), try u32())
        var p = WatchedPool(address: at, kind: kind, tokenA: token0, tokenB: token1, venue: venue)
        // Stored as held (token0, token1): put back as they were, whatever the sorting.
        (p.token0, p.token1) = (token0, token1)
        return p
    }

    mutating func state() throws(WatchInputError) -> Pool? {
        do {
            switch try u8() {
            case 0: return nil
            case 1: return .uniswapV2(try V2Pool(reserve0: try u256(), reserve1: try u256(), fee0Pips: try u32(), fee1Pips: try u32()))
            case 2:
                let (sqrt, tick, liquidity, fee, spacing) = (try u256(), Int32(bitPattern: try u32()), try u256(), try u32(), Int32(bitPattern: try u32()))
                var ticks: [V3Pool.Tick] = []
                for _ in 0..<(try count(min: 36)) { ticks.append(.init(index: Int32(bitPattern: try u32()), liquidityNet: Int256(bitPattern: try u256()))) }
                return .uniswapV3(try V3Pool(sqrtPriceX96: sqrt, tick: tick, liquidity: liquidity, feePips: fee, tickSpacing: spacing, ticks: ticks))
            case 3:
                let v = try (0..<7).map { _ throws(WatchInputError) in try u256() }
                var c = try CurvePool(balances: (v[0], v[1]), decimals: (18, 18), amplification: v[4], fee: v[5])
                c.rates = (v[2], v[3])
                c.adminFee = v[6]
                return .curve(c)
            case 4:
                let v = try (0..<4).map { _ throws(WatchInputError) in try u256() }
                var s = try SolidlyPool(reserve0: v[0], reserve1: v[1], stable: try bool(), decimals: (18, 18), feePips: try u32())
                (s.decimals0, s.decimals1) = (v[2], v[3])
                return .solidly(s)
            case let k: throw fail("a pool state kind \(k)")
            }
        } catch let e as WatchInputError {
            throw e
        } catch {
            throw fail("a pool state the pool math refuses: \(error)")
        }
    }
}
