import EVMCodec
import EVMPrimitives

/// EIP-1559 fees for the next block from `eth_feeHistory`, with a spike guard.
///
/// - base fee: the history's last `baseFeePerGas` (the next block's, which the node computes);
/// - priority fee: the median of the blocks' `rewardPercentile` rewards, at least `minPriorityFee`;
/// - max fee: `baseFeeMultiplier` × base fee + priority fee (room for the base fee to rise while
///   a bundle is retargeted);
/// - spike guard: the next base fee against a baseline (an exponential average over about
///   `baselineBlocks` blocks, seeded from the history); above `spikeMultiple` × baseline the
///   quote is refused, so a trade sized on normal gas does not pay a spike.
public struct GasOracle: Sendable {
    public struct Configuration: Sendable {
        public var blocks = 10
        public var rewardPercentile = 50.0
        public var minPriorityFee = UInt256(1_000_000_000)
        public var baseFeeMultiplier: UInt64 = 2
        public var spikeMultiple = 3.0
        public var baselineBlocks = 25.0
        public init() {}
    }

    public struct Quote: Equatable, Sendable {
        public var baseFee: UInt256
        public var maxPriorityFeePerGas: UInt256
        public var maxFeePerGas: UInt256
        /// What one gas unit will cost if the next block's base fee holds.
        public var expectedGasPrice: UInt256 { baseFee &+ maxPriorityFeePerGas }

        public init(baseFee: UInt256, maxPriorityFeePerGas: UInt256, maxFeePerGas: UInt256) {
            self.baseFee = baseFee
            self.maxPriorityFeePerGas = maxPriorityFeePerGas
            self.maxFeePerGas = maxFeePerGas
        }
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        /// The next base fee is `ratio` × the baseline.
        case spike(baseFee: UInt256, baseline: Double)

        public var description: String {
            switch self {
            case .malformed(let m): "eth_feeHistory: \(m)"
            case .spike(let b, let base): "gas spike: next base fee \(b) wei is above the guard (baseline \(Int(base)) wei)"
            }
        }
    }

    public let configuration: Configuration
    public private(set) var baseline: Double?

    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// The `eth_feeHistory` parameters to ask with.
    public var parameters: [JSONValue] {
        [.string(UInt256(UInt64(configuration.blocks)).hexQuantity), .string("latest"), .array([.number(String(configuration.rewardPercentile))])]
    }

    /// Reads a fee history answer and gives the next block's fees (or refuses a spike).
    public mutating func quote(feeHistory h: JSONValue) throws(Failure) -> Quote {
        guard let fees = h["baseFeePerGas"]?.arrayValue, !fees.isEmpty else { throw .malformed("no baseFeePerGas") }
        var baseFees: [UInt256] = []
        for f in fees {
            guard let s = f.stringValue, s.hasPrefix("0x"), s.count <= 66, let v = try? UInt256(hex: s) else { throw .malformed("a base fee is not a quantity") }
            baseFees.append(v)
        }
        var rewards: [UInt256] = []
        for r in h["reward"]?.arrayValue ?? [] {
            guard let first = r.arrayValue?.first else { continue }
            guard let s = first.stringValue, s.hasPrefix("0x"), s.count <= 66, let v = try? UInt256(hex: s) else { throw .malformed("a reward is not a quantity") }
            rewards.append(v)
        }
        let next = baseFees.last!
        let history = baseFees.dropLast()
        let alpha = 2.0 / (configuration.baselineBlocks + 1)
        var b = baseline ?? (history.isEmpty ? next.doubleValue : history.map(\.doubleValue).reduce(0, +) / Double(history.count))
        let guardLine = b * configuration.spikeMultiple
        // The guard compares before the new sample joins the baseline.
        b += alpha * (next.doubleValue - b)
        baseline = b
        if next.doubleValue > guardLine && guardLine > 0 { throw .spike(baseFee: next, baseline: guardLine / configuration.spikeMultiple) }
        rewards.sort()
        let median = rewards.isEmpty ? UInt256.zero : rewards[rewards.count / 2]
        let tip = max(median, configuration.minPriorityFee)
        let maxFee = (next.checkedMul(UInt256(configuration.baseFeeMultiplier)) ?? .max).checkedAdd(tip) ?? .max
        return Quote(baseFee: next, maxPriorityFeePerGas: tip, maxFeePerGas: maxFee)
    }
}
