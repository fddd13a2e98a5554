import CoreMetrics

/// A chain watcher's metrics (swift-metrics, exported for Prometheus by whichever backend the
/// app bootstraps), labelled with the chain.
struct WatchMetrics {
    /// Blocks between the chain's head and the state's block.
    let headLag: Gauge
    let pools: Gauge
    let stalePools: Gauge
    /// Pool logs applied.
    let updates: Counter
    let reorgs: Counter
    let backfills: Counter
    let rpcErrors: Counter
    /// Malformed input skipped, by `kind`: head, log, answer.
    let malformedHeads: Counter
    let malformedLogs: Counter
    let malformedAnswers: Counter

    init(chain: String, factory: any MetricsFactory) {
        let c = [("chain", chain)]
        headLag = Gauge(label: "arbiter_market_head_lag_blocks", dimensions: c, factory: factory)
        pools = Gauge(label: "arbiter_market_pools", dimensions: c, factory: factory)
        stalePools = Gauge(label: "arbiter_market_stale_pools", dimensions: c, factory: factory)
        updates = Counter(label: "arbiter_market_updates_total", dimensions: c, factory: factory)
        reorgs = Counter(label: "arbiter_market_reorgs_total", dimensions: c, factory: factory)
        backfills = Counter(label: "arbiter_market_backfills_total", dimensions: c, factory: factory)
        rpcErrors = Counter(label: "arbiter_market_rpc_errors_total", dimensions: c, factory: factory)
        malformedHeads = Counter(label: "arbiter_market_malformed_total", dimensions: c + [("kind", "head")], factory: factory)
        malformedLogs = Counter(label: "arbiter_market_malformed_total", dimensions: c + [("kind", "log")], factory: factory)
        malformedAnswers = Counter(label: "arbiter_market_malformed_total", dimensions: c + [("kind", "answer")], factory: factory)
    }
}
