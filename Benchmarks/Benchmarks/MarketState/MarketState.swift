import AMMMath
import Benchmark
import EVMPrimitives
import MarketState


/// Market state on the hot path. Targets (issue #7): ≥ 1,000,000 V2 updates/s on one core end to
/// end (decode, apply, PriceMatrix write: ≤ 1 µs each); ≤ 2 MB per 1,000 pools held.
let benchmarks: @Sendable () -> Void = {
    let fast = Benchmark.Configuration(metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .kilo, maxDuration: .seconds(3))

    func address(_ n: Int) -> Address { try! Address(bytes: (0..<12).map { _ in UInt8(0x11) } + withUnsafeBytes(of: UInt64(n).bigEndian, Array.init)) }
    let weth = address(1 << 40), usdc = address(1 << 41)

    // 1,000 V2 pairs, each with a PriceMatrix slot; 1,024 Sync logs over them, 1,024 to a block. The
    // book lives across samples, so its undo journal is at steady state (64 blocks of entries).
    final class Market: @unchecked Sendable {
        var book = PoolBook(reorgDepth: 64)
        let matrix = PriceMatrix(expected: 1_000)
        var slots: [PriceMatrix.Slot] = []
        var block: UInt64 = 1
        var logs: [EVMLog] = []
    }
    let v2 = Market()
    for i in 0..<1_000 {
        v2.book.register(address(i), pool: .uniswapV2(try! V2Pool(reserve0: 5_000_000_000_000_000_000_000, reserve1: 10_000_000_000_000, feePips: 3000)),
                         at: LogPosition(block: 0, index: .max))
        v2.slots.append(v2.matrix.slot(for: .init(chainID: 1, tokenA: weth, tokenB: usdc, venue: UInt32(i))))
    }
    v2.logs = (0..<1_024).map { i in
        EVMLog(address: address(i % 1_000), topics: [PoolTopics.v2Sync],
                data: (UInt256(5_000) * UInt256(1_000_000_000_000_000_000) + UInt256(UInt64(i))).bigEndianBytes
                    + UInt256(10_000_000_000_000 - UInt64(i)).bigEndianBytes,
                blockNumber: 1, logIndex: UInt32(i))
    }
    Benchmark("V2 Sync log: decode, apply, PriceMatrix write", configuration: fast) { benchmark in
        let m = v2
        for i in benchmark.scaledIterations {
            if i & 1023 == 0 {
                m.block += 1
                m.book.finalize(head: m.block)
            }
            var log = m.logs[i & 1023]
            log.blockNumber = m.block
            guard case .applied(let id) = m.book.apply(log), case .uniswapV2(let p) = m.book[id] else { fatalError("not applied") }
            m.matrix.write(m.slots[id.index], .init(price: p.reserve1.doubleValue / p.reserve0.doubleValue, block: m.block, writtenAt: 0, source: .dex))
        }
    }

    // A V3 pool whose Swap logs move the price across an initialised tick and back.
    Benchmark("V3 Swap log crossing a tick: decode, apply, PriceMatrix write", configuration: fast) { benchmark in
        var book = PoolBook(reorgDepth: 64)
        let matrix = PriceMatrix(expected: 1)
        let ticks = [V3Pool.Tick(index: -60, liquidityNet: Int256(1_000_000_000)), V3Pool.Tick(index: 60, liquidityNet: Int256(0) &- Int256(1_000_000_000))]
        let pool = try! V3Pool(sqrtPriceX96: UInt256.one << 96, tick: 0, liquidity: 2_000_000_000_000_000_000, feePips: 3000, tickSpacing: 60, ticks: ticks)
        let id = book.register(address(7), pool: .uniswapV3(pool), at: LogPosition(block: 0, index: .max))
        let slot = matrix.slot(for: .init(chainID: 1, tokenA: weth, tokenB: usdc, venue: 0))
        func swapLog(_ tick: Int32) -> EVMLog {
            let price = try! TickMath.sqrtRatio(atTick: tick) + 1
            let t = Int256(Int64(tick))
            let data = Int256(1_000).bitPattern.bigEndianBytes + (Int256.zero &- Int256(990)).bitPattern.bigEndianBytes
                + price.bigEndianBytes + UInt256(2_000_000_000_000_000_000).bigEndianBytes + t.bitPattern.bigEndianBytes
            return EVMLog(address: address(7), topics: [PoolTopics.v3Swap, .one, .one], data: data, blockNumber: 1, logIndex: 0)
        }
        let logs = [swapLog(70), swapLog(-70)]
        var block: UInt64 = 1
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            if i & 1023 == 0 { book.finalize(head: block) }
            block += 1
            var log = logs[i & 1]
            log.blockNumber = block
            guard book.apply(log) == .applied(id), case .uniswapV3(let p) = book[id] else { fatalError("not applied") }
            let s = p.sqrtPriceX96.doubleValue / 79_228_162_514_264_337_593_543_950_336.0
            matrix.write(slot, .init(price: s * s, block: block, writtenAt: 0, source: .dex))
        }
    }

    // One matrix of 4,096 written slots for both: built (and freed) outside the measured loops, as
    // on the hot path, where slots are assigned at set-up and only read and written after.
    let matrix = PriceMatrix(expected: 4_096)
    let slots = (0..<4_096).map { matrix.slot(for: .init(chainID: 1, tokenA: address($0), tokenB: usdc, venue: 0)) }
    for (i, s) in slots.enumerated() { matrix.write(s, .init(price: Double(i), block: 1, writtenAt: 0, source: .dex)) }

    Benchmark("PriceMatrix write", configuration: fast) { benchmark in
        for i in benchmark.scaledIterations {
            matrix.write(slots[i & 4095], .init(price: Double(i), block: UInt64(i), writtenAt: 0, source: .dex))
        }
    }

    Benchmark("PriceMatrix read", configuration: fast) { benchmark in
        var sum = 0.0
        for i in benchmark.scaledIterations { sum += matrix.read(slots[i & 4095])?.price ?? 0 }
        blackHole(sum)
    }
}
