import CoreMetrics
import Prometheus

/// The process's metrics: every swift-metrics metric goes into one Prometheus registry, which
/// `/metrics` prints. Bootstrapped once, before anything makes a metric (one made earlier
/// would stay a no-op).
enum Telemetry {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Detection stages take microseconds, RPC calls milliseconds, bundles seconds: one set of buckets over all of it.
        factory.defaultDurationHistogramBuckets = [1, 5, 10, 25, 50, 100, 250, 500].map { Duration.microseconds($0) }
            + [1, 2.5, 5, 10, 25, 50, 100, 250, 500].map { Duration.milliseconds($0) } + [1, 2.5, 5, 10, 30].map { Duration.seconds($0) }
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
