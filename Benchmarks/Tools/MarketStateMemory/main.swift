import AMMMath
import CHeap
import EVMPrimitives
import MarketState

// Heap bytes held by a PoolBook and its PriceMatrix slots per 1,000 pools (issue #7: ≤ 2 MB):
// 10,000 pools, 60% V2 pairs and 40% V3 pools with 32 initialised ticks each (two bitmap words
// of a 60-spacing pool), measured with glibc's mallinfo2 in a process of its own (the benchmark
// harness interposes malloc). Prints one JSON line.
func address(_ n: Int) -> Address { try! Address(bytes: (0..<12).map { _ in UInt8(0x11) } + withUnsafeBytes(of: UInt64(n).bigEndian, Array.init)) }
let usdc = address(1 << 41)
let pools = 10_000
let before = arb_heap_in_use()
var book = PoolBook()
let matrix = PriceMatrix(expected: pools)
for i in 0..<pools {
    let pool: Pool
    var gross: [Int32: UInt256] = [:]
    if i % 5 < 3 {
        pool = .uniswapV2(try! V2Pool(reserve0: UInt256(UInt64(1_000_000 + i)), reserve1: 2_000_000, feePips: 3000))
    } else {
        let ticks = (0..<32).map { k in V3Pool.Tick(index: Int32(k - 16) * 60, liquidityNet: Int256(k < 16 ? 1_000 : -1_000)) }
        for t in ticks { gross[t.index] = 1_000 }
        pool = .uniswapV3(try! V3Pool(sqrtPriceX96: UInt256.one << 96, tick: 0, liquidity: 16_000, feePips: 3000, tickSpacing: 60, ticks: ticks))
    }
    book.register(address(i), pool: pool, at: LogPosition(block: 0, index: .max), tickGross: gross)
    _ = matrix.slot(for: .init(chainID: 1, tokenA: address(i), tokenB: usdc, venue: 0))
}
let after = arb_heap_in_use()
withExtendedLifetime((book, matrix)) {
    print("{\"pools\": \(pools), \"heapBytes\": \(after - before), \"bytesPer1000Pools\": \((after - before) * 1_000 / pools)}")
}
