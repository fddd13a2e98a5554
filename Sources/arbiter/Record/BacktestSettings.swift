import AMMMath
import EVMPrimitives
import Execution
import Foundation
import Pipeline
import Registry

/// A backtest's configuration: the `[backtest]` table of `--config` (the rest of that file is
/// registry overrides applied after the recorded configuration), each key optional:
///
/// ```toml
/// [backtest]
/// min_profit_bps = 25            # detection's least net profit (default: each chain's own)
/// priority_fee_gwei = 1.5        # added to each recorded base fee (default 1)
/// inclusion = "probability"      # "next-block" (default): every trade that passes lands next block
/// inclusion_probability = 0.8    # with "probability": each trade lands with this chance (by its id and the seed)
/// seed = 7
/// latency_budget_ms = 250        # decided later than this after the head: outrun
/// max_block_lag = 2              # staleness, as the engine's
/// max_in_flight = 6              # the risk gate's cap (default: 3 per chain, as the lab)
/// senders = 4                    # keys per chain (locks: one trade per key at a time on bundle chains)
/// l1_base_fee_gwei = 20          # the L1 data fee on chains with an L1 fee oracle (OP Ecotone)
/// l1_blob_base_fee_wei = 1
/// l1_base_fee_scalar = 1368
/// l1_blob_base_fee_scalar = 810949
/// ```
struct BacktestSettings: Sendable {
    var minProfitBps: Int? = nil
    var priorityFeeWei: UInt256 = 1_000_000_000
    var inclusion: Backtester.Configuration.Inclusion = .nextBlock
    var seed: UInt64 = 1
    var latencyBudgetMs: Int? = nil
    var maxBlockLag: UInt64 = 2
    var maxInFlight: Int? = nil
    var senders = 4
    var l1BaseFeeWei: UInt256 = 20_000_000_000
    var l1BlobBaseFeeWei: UInt256 = 1
    var l1BaseFeeScalar: UInt32 = 1368
    var l1BlobBaseFeeScalar: UInt32 = 810_949
    /// The registry overrides of the file (nil: none).
    var overrides: String? = nil

    static let keys: Set<String> = ["min_profit_bps", "priority_fee_gwei", "inclusion", "inclusion_probability", "seed", "latency_budget_ms",
                                    "max_block_lag", "max_in_flight", "senders", "l1_base_fee_gwei", "l1_blob_base_fee_wei",
                                    "l1_base_fee_scalar", "l1_blob_base_fee_scalar"]

    /// Reads `text` (file `file`); every bad key reported at once.
    static func parse(_ text: String, file: String) throws -> BacktestSettings {
        // The registry part first: it rejects unknown tables (and checks its own).
        _ = try Registry.bundled().applying(overrides: text, file: file, alsoAllowed: ["backtest"])
        let log = IssueLog()
        let root = TableReader(file: file, path: "", value: try ConfigValue.parse(toml: text, file: file), log: log)
        var s = BacktestSettings()
        s.overrides = text
        if let t = root.table("backtest", required: false) {
            t.rejectUnknown(keys)
            s.minProfitBps = t.int("min_profit_bps", required: false, range: 0...10_000)
            if let g = t.number("priority_fee_gwei", required: false) {
                if (0...10_000).contains(g) { s.priorityFeeWei = UInt256(UInt64((g * 1e9).rounded())) } else { t.fail("priority_fee_gwei", "must be within 0…10000") }
            }
            switch t.string("inclusion", required: false) {
            case nil, "next-block": break
            case "probability":
                let p = t.number("inclusion_probability") ?? 1
                if (0...1).contains(p) { s.inclusion = .probability(p) } else { t.fail("inclusion_probability", "must be within 0…1") }
            case let other?: t.fail("inclusion", "\"\(other)\": expected \"next-block\" or \"probability\"")
            }
            if t.has("inclusion_probability"), case .nextBlock = s.inclusion { t.fail("inclusion_probability", "only with inclusion = \"probability\"") }
            s.seed = t.int("seed", required: false, range: 0...Int.max).map { UInt64($0) } ?? s.seed
            s.latencyBudgetMs = t.int("latency_budget_ms", required: false, range: 1...600_000)
            s.maxBlockLag = t.int("max_block_lag", required: false, range: 0...100).map { UInt64($0) } ?? s.maxBlockLag
            s.maxInFlight = t.int("max_in_flight", required: false, range: 1...1_000)
            s.senders = t.int("senders", required: false, range: 1...64) ?? s.senders
            if let g = t.number("l1_base_fee_gwei", required: false) {
                if (0...1_000_000).contains(g) { s.l1BaseFeeWei = UInt256(UInt64((g * 1e9).rounded())) } else { t.fail("l1_base_fee_gwei", "must be within 0…1000000") }
            }
            s.l1BlobBaseFeeWei = t.int("l1_blob_base_fee_wei", required: false, range: 0...Int.max).map { UInt256(UInt64($0)) } ?? s.l1BlobBaseFeeWei
            s.l1BaseFeeScalar = t.int("l1_base_fee_scalar", required: false, range: 0...Int(UInt32.max)).map { UInt32($0) } ?? s.l1BaseFeeScalar
            s.l1BlobBaseFeeScalar = t.int("l1_blob_base_fee_scalar", required: false, range: 0...Int(UInt32.max)).map { UInt32($0) } ?? s.l1BlobBaseFeeScalar
        }
        guard log.isEmpty else { throw RegistryError(log.issues) }
        return s
    }

    /// The simulation's configuration for `registry`'s chains among `chainIDs`.
    func backtester(_ registry: Registry, chainIDs: [UInt64]) throws -> Backtester {
        var c = Backtester.Configuration()
        c.inclusion = inclusion
        c.seed = seed
        c.latencyBudget = latencyBudgetMs.map { UInt64($0) * 1_000_000 }
        c.priorityFee = priorityFeeWei
        c.core.maxBlockLag = maxBlockLag
        c.core.risk.maxInFlight = maxInFlight ?? 3 * max(1, chainIDs.count)
        var chains: [UInt64: ExecutionCore.Chain] = [:]
        for id in chainIDs {
            guard let chain = registry.chains.first(where: { $0.id == id }) else { continue }
            let l1 = chain.l1FeeOracle != nil
            chains[id] = ExecutionCore.Chain(bundles: false, senders: senders, l1Fee: l1)
            if l1 {
                c.l1Fees[id] = .opEcotone(l1BaseFee: l1BaseFeeWei, l1BlobBaseFee: l1BlobBaseFeeWei, baseFeeScalar: l1BaseFeeScalar,
                                          blobBaseFeeScalar: l1BlobBaseFeeScalar)
            }
            // Every active lender of each asset with its fee as the lender computes it (live reads
            // the on-chain rate; the registry's default is the recorded configuration's).
            let sources = registry.flashSources(on: chain.name).filter { $0.status == .active }
            let tiers = RunPlan.lowestV3Tiers(registry, chain)
            var lenders: [Address: [Backtester.Lender]] = [:]
            for t in registry.tokens(on: chain.name) where t.enabled {
                guard case .evm(let a) = t.address else { continue }
                lenders[a] = sources.filter { $0.assets?.contains(t.symbol) ?? true }.compactMap { s in
                    guard let kind = RunPlan.kind(s.protocol), let fee = RunPlan.fee(s, v3Tier: tiers[s.protocol]) else { return nil }
                    return Backtester.Lender(source: kind, fee: fee)
                }
            }
            c.lenders[id] = lenders
        }
        return Backtester(configuration: c, chains: chains)
    }
}
