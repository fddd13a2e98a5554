import CoreMetrics

/// The feed's integrity figures as metrics (swift-metrics, exported for Prometheus by whichever
/// backend the app bootstraps), labelled with the exchange: refreshed once a second from the
/// feed's state, so the hot path does no metrics work.
struct FeedMetrics {
    let ageP99: Gauge
    let gapsLastHour: Gauge
    let frozenBooks: Gauge
    let staleBooks: Gauge
    let frames: Counter
    let malformed: Counter
    let gaps: Counter
    let reconnects: Counter
    let resyncs: Counter
    var last = (frames: 0, malformed: 0, gaps: 0, reconnects: 0, resyncs: 0)

    init(exchange: String, factory: any MetricsFactory) {
        let d = [("exchange", exchange)]
        ageP99 = Gauge(label: "arbiter_cex_message_age_p99_seconds", dimensions: d, factory: factory)
        gapsLastHour = Gauge(label: "arbiter_cex_gaps_last_hour", dimensions: d, factory: factory)
        frozenBooks = Gauge(label: "arbiter_cex_frozen_books", dimensions: d, factory: factory)
        staleBooks = Gauge(label: "arbiter_cex_stale_books", dimensions: d, factory: factory)
        frames = Counter(label: "arbiter_cex_frames_total", dimensions: d, factory: factory)
        malformed = Counter(label: "arbiter_cex_malformed_frames_total", dimensions: d, factory: factory)
        gaps = Counter(label: "arbiter_cex_gaps_total", dimensions: d, factory: factory)
        reconnects = Counter(label: "arbiter_cex_reconnects_total", dimensions: d, factory: factory)
        resyncs = Counter(label: "arbiter_cex_resyncs_total", dimensions: d, factory: factory)
    }

    /// Brings the metrics to `s`: counters by what grew since the last call.
    mutating func update(_ s: BinanceFeed.Status) {
        if let p = s.ageP99Millis { ageP99.record(Double(p) / 1000) }
        gapsLastHour.record(s.gapsLastHour)
        frozenBooks.record(s.frozenBooks)
        staleBooks.record(s.symbols.filter { $0.status == .stale }.count)
        func grow(_ c: Counter, _ now: Int, _ before: Int) { if now > before { c.increment(by: Int64(now - before)) } }
        grow(frames, s.counters.frames, last.frames)
        grow(malformed, s.counters.malformed, last.malformed)
        grow(gaps, s.counters.gaps, last.gaps)
        grow(reconnects, s.reconnects, last.reconnects)
        grow(resyncs, s.counters.resyncs, last.resyncs)
        last = (s.counters.frames, s.counters.malformed, s.counters.gaps, s.reconnects, s.counters.resyncs)
    }
}
