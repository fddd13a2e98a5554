import AMMMath
import CowProtocol
import EVMCodec
import EVMPrimitives

/// What a pending CoW settlement will do to the watched pools, read from its interactions:
/// the pool logs it will emit, in order, for a copy of the book to apply.
///
/// Understood exactly: ERC-20 `transfer`s into a watched pool (the input of a swap that follows)
/// and a watched Uniswap V2 pair's `swap` without callback data, whose `Sync` is the reserves plus
/// what was sent in less what it pays out (checked against the pair's constant-product rule with
/// its fee: a swap the pair would refuse makes the whole settlement revert). Approvals and calls
/// that touch no watched pool directly are skipped only when they are transfers or approvals;
/// any other call (a router, an aggregator, a V3 pool's callback swap) may move pools in ways the
/// call data does not say, and makes the effect `unknown`: the settlement is then simulated.
public enum SettlementEffect: Equatable, Sendable {
    /// The pool logs the settlement emits on watched pools (empty: it touches none).
    case logs([EVMLog])
    /// Not readable from the call data: simulate it.
    case unknown(String)
    /// It would revert (a pair refuses a swap): it moves nothing.
    case reverts(String)

    static let transfer: [UInt8] = [0xa9, 0x05, 0x9c, 0xbb]
    static let approve: [UInt8] = [0x09, 0x5e, 0xa7, 0xb3]
    static let v2Swap: [UInt8] = [0x02, 0x2c, 0x0d, 0x9f]
    public static let syncTopic = try! UInt256(hex: "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1")

    /// The effect of `call` on `book` (the state it would run on), each log placed at `block`.
    /// `tokens(i)`: pool i's token0 and token1.
    public static func predict(_ call: SettleCall, book: PoolBook, tokens: (Int) -> (Address, Address)?, block: UInt64) -> SettlementEffect {
        var credits: [Address: [Address: UInt256]] = [:]
        var reserves: [Int: (UInt256, UInt256)] = [:]
        var logs: [EVMLog] = []
        for interaction in call.interactions.joined() {
            let d = interaction.callData, selector = interaction.selector
            if let id = book.id(of: interaction.target) {
                guard selector == v2Swap, case .uniswapV2(let pair) = book[id], let (t0, t1) = tokens(id.index) else {
                    return .unknown("a call to watched pool \(interaction.target.checksummed) other than a V2 swap")
                }
                guard let args = try? ABI.decode([.uint(256), .uint(256), .address, .bytes], from: Array(d.dropFirst(4))),
                      args[3].bytesValue!.isEmpty else { return .unknown("a V2 swap with callback data or malformed arguments") }
                let (r0, r1) = reserves[id.index] ?? (pair.reserve0, pair.reserve1)
                let paid = credits[interaction.target] ?? [:]
                credits[interaction.target] = nil
                switch swap(pair, r0, r1, in0: paid[t0] ?? .zero, in1: paid[t1] ?? .zero, out0: args[0].uintValue!, out1: args[1].uintValue!) {
                case .failure(let why) where why.undecided: return .unknown("\(interaction.target.checksummed): \(why)")
                case .failure(let why): return .reverts("\(interaction.target.checksummed): \(why)")
                case .success(let after):
                    reserves[id.index] = after
                    logs.append(EVMLog(address: interaction.target, topics: [syncTopic], data: after.0.bigEndianBytes + after.1.bigEndianBytes,
                                       blockNumber: block, logIndex: UInt32(logs.count)))
                }
            } else if selector == transfer {
                guard let args = try? ABI.decode([.address, .uint(256)], from: Array(d.dropFirst(4))) else { return .unknown("a malformed transfer") }
                let to = args[0].addressValue!
                if book.id(of: to) != nil {
                    // The token is the call's target.
                    let (sum, over) = (credits[to]?[interaction.target] ?? .zero).addingReportingOverflow(args[1].uintValue!)
                    guard !over else { return .reverts("a transfer overflows") }
                    credits[to, default: [:]][interaction.target] = sum
                }
            } else if selector != approve || !interaction.value.isZero {
                return .unknown("a call to \(interaction.target.checksummed) with selector 0x\(Hex.encode(selector).dropFirst(2))")
            }
        }
        return .logs(logs)
    }

    /// A V2 pair's `swap` with `in0`/`in1` sent to it beforehand: its reserves after, or why it reverts.
    static func swap(_ pair: V2Pool, _ r0: UInt256, _ r1: UInt256, in0: UInt256, in1: UInt256, out0: UInt256, out1: UInt256)
        -> Result<(UInt256, UInt256), SwapRefusal> {
        guard !(out0.isZero && out1.isZero) else { return .failure(SwapRefusal("insufficient output amount")) }
        guard out0 < r0, out1 < r1 else { return .failure(SwapRefusal("insufficient liquidity")) }
        let (b0, o0) = r0.addingReportingOverflow(in0), (b1, o1) = r1.addingReportingOverflow(in1)
        guard !o0, !o1 else { return .failure(SwapRefusal("balance overflow")) }
        let after0 = b0 - out0, after1 = b1 - out1
        guard !(in0.isZero && in1.isZero) else { return .failure(SwapRefusal("insufficient input amount")) }
        guard after0 <= UniswapV2Math.maxReserve, after1 <= UniswapV2Math.maxReserve else { return .failure(SwapRefusal("overflow")) }
        // balance·S − in·fee·S/1e6 for both tokens, against reserve0·reserve1·S² (S = 1e6 over the fees' common divisor).
        let scale = UInt256(1_000_000 / gcd(1_000_000, gcd(UInt64(pair.fee0Pips), UInt64(pair.fee1Pips))))
        func adjusted(_ balance: UInt256, _ amountIn: UInt256, _ fee: UInt32) -> UInt256? {
            guard let b = balance.checkedMul(scale), let f = amountIn.checkedMul(UInt256(UInt64(fee)) * scale / UInt256(1_000_000)), b >= f else { return nil }
            return b - f
        }
        guard let a0 = adjusted(after0, in0, pair.fee0Pips), let a1 = adjusted(after1, in1, pair.fee1Pips),
              let k = r0.checkedMul(r1).flatMap({ $0.checkedMul(scale) }).flatMap({ $0.checkedMul(scale) }), let lhs = a0.checkedMul(a1) else {
            return .failure(SwapRefusal("beyond 256-bit arithmetic", undecided: true))
        }
        guard lhs >= k else { return .failure(SwapRefusal("K")) }
        return .success((after0, after1))
    }

    struct SwapRefusal: Error, CustomStringConvertible {
        let description: String
        /// Our arithmetic cannot tell (the pair's 256-bit products would): not a verdict.
        var undecided = false
        init(_ d: String, undecided: Bool = false) {
            description = d
            self.undecided = undecided
        }
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? a : gcd(b, a % b) }
}
