import AMMMath
import ArbiterTestKit
import EVMPrimitives
import EthClient
import MarketState
import MarketWatch
import Testing

/// The watcher's recorded steps: every kind back as written (seeded values of every pool kind),
/// and a cut, extended or unknown payload an error, never a crash or a wrong step.
@Suite struct WatchInputTests {
    func address(_ g: inout SeededGenerator) -> Address {
        let bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &g) }
        return bytes.withUnsafeBytes { Address(bytesAt: $0.baseAddress!) }
    }

    func u256(_ g: inout SeededGenerator, bits: Int = 256) -> UInt256 {
        let v = UInt256(limbs: g.next(), g.next(), g.next(), g.next())
        return bits >= 256 ? v : v >> UInt256(UInt64(256 - bits))
    }

    func inputs(seed: UInt64) throws -> [WatchInput] {
        var g = SeededGenerator(seed: seed)
        let pools: [WatchedPool] = [
            WatchedPool(address: address(&g), kind: .uniswapV2(feePips: 3_000), tokenA: address(&g), tokenB: address(&g), venue: 1),
            WatchedPool(address: address(&g), kind: .uniswapV3, tokenA: address(&g), tokenB: address(&g), venue: 100_500),
            WatchedPool(address: address(&g), kind: .solidly(feePips: 500, decimals0: 6, decimals1: 18), tokenA: address(&g), tokenB: address(&g), venue: 7),
            WatchedPool(address: address(&g), kind: .curve(decimals0: 6, decimals1: 18), tokenA: address(&g), tokenB: address(&g), venue: 9),
        ]
        let ticks = [-120, -60, 60, 180].map { V3Pool.Tick(index: Int32($0), liquidityNet: Int256(Int64.random(in: -1_000_000...1_000_000, using: &g))) }
        let states: [Pool?] = [
            .uniswapV2(try V2Pool(reserve0: u256(&g, bits: 100), reserve1: u256(&g, bits: 100), fee0Pips: 3_000, fee1Pips: 2_500)),
            .uniswapV3(try V3Pool(sqrtPriceX96: UInt256(1) << 96, tick: 0, liquidity: u256(&g, bits: 80), feePips: 3_000, tickSpacing: 60, ticks: ticks)),
            .solidly(try SolidlyPool(reserve0: u256(&g, bits: 90), reserve1: u256(&g, bits: 90), stable: true, decimals: (6, 18), feePips: 500)),
            .curve(try CurvePool(balances: (u256(&g, bits: 60), u256(&g, bits: 80)), decimals: (6, 18), amplification: UInt256(2_000), fee: UInt256(4_000_000))),
            nil,
        ]
        let reads = zip(pools + [pools[0]], states).map { p, s in
            PoolRead(pool: p, state: s, tickGross: p.kind == .uniswapV3 ? [-60: u256(&g, bits: 100), 180: u256(&g, bits: 100)] : [:],
                     covered: p.kind == .uniswapV3 ? -887_220...887_220 : nil)
        }
        let head = EthClient.Header(number: 1_234, hash: u256(&g), parentHash: u256(&g), timestamp: 1_700_000_000, baseFee: u256(&g, bits: 40))
        let logs = (0..<5).map { i in
            EVMLog(address: pools[i % 4].address, topics: (0..<(i % 5)).map { _ in u256(&g) }, data: (0..<(i * 32)).map { _ in UInt8.random(in: 0...255, using: &g) },
                   blockNumber: 1_235, blockHash: u256(&g), transactionIndex: UInt32(i), logIndex: UInt32(i * 2), removed: i == 3)
        }
        return [.reset(head: head, reads: reads), .reset(head: EthClient.Header(number: 1, hash: .zero, parentHash: .zero, timestamp: 0), reads: []),
                .observe(.init(number: 1_235, hash: u256(&g), parentHash: head.hash)), .ancestor(.init(number: 1_233, hash: u256(&g), parentHash: u256(&g))),
                .logs(logs), .logs([]), .register(block: 1_235, reads: Array(reads.suffix(2))), .finish(block: 1_235), .rollBack(toBefore: 1_235),
                .publish(headReceivedAt: g.next(), appliedAt: g.next(), baseFee: nil), .publish(headReceivedAt: 1, appliedAt: 2, baseFee: UInt256(7))]
    }

    @Test func everyStepComesBackAsRecorded() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            for input in try inputs(seed: seed) {
                let bytes = try input.encoded()
                #expect(try WatchInput(kind: input.kind, payload: bytes) == input, "seed \(seed): \(input.kind)")
            }
        }
    }

    @Test func aDamagedStepIsAnErrorNeverACrashOrAnotherStep() throws {
        for input in try inputs(seed: 99) {
            let bytes = try input.encoded()
            // Every cut: an error (the payloads leave nothing optional at their end).
            for n in 0..<bytes.count {
                #expect(throws: WatchInputError.self, "\(input.kind) cut to \(n)") { _ = try WatchInput(kind: input.kind, payload: Array(bytes.prefix(n))) }
            }
            #expect(throws: WatchInputError.self) { _ = try WatchInput(kind: input.kind, payload: bytes + [0]) }
            // Another kind's reading of these bytes is an error or a step of that kind, never a crash.
            for kind in 0...9 as ClosedRange<UInt8> where kind != input.kind {
                if let other = try? WatchInput(kind: kind, payload: bytes) { #expect(other.kind == kind) }
            }
        }
        #expect(throws: WatchInputError.self) { _ = try WatchInput(kind: 0, payload: []) }
        // A count that the payload could not hold is refused before anything is allocated for it.
        #expect(throws: WatchInputError.self) { _ = try WatchInput(kind: 4, payload: [0xff, 0xff, 0xff, 0xff, 0x0f]) }
    }
}
