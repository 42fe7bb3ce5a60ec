public import CoreMetrics

/// The consumer's counters and timings, through swift-metrics (the executable exposes them
/// on a Prometheus `/metrics` endpoint; a library user bootstraps any backend):
///
/// - `port_consumer_runs_total{action, outcome}` and `port_consumer_run_duration_seconds{action}`
/// - `port_consumer_poison_messages_total`
/// - `port_consumer_changes_total{blueprint, outcome}`
public struct ConsumerMetrics: Sendable {
    private let factory: any MetricsFactory

    /// Metrics made by `factory` (by default the bootstrapped `MetricsSystem`'s).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// One invocation handled.
    func run(action: String, outcome: RunOutcome, duration: Duration) {
        let name = action.isEmpty ? "(none)" : action
        factory.makeCounter(
            label: "port_consumer_runs_total",
            dimensions: [("action", name), ("outcome", outcome.rawValue)]
        )
        .increment(by: 1)
        let (seconds, attoseconds) = duration.components
        factory.makeTimer(label: "port_consumer_run_duration_seconds", dimensions: [("action", name)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// A message that could not be handled.
    func poison() {
        factory.makeCounter(label: "port_consumer_poison_messages_total", dimensions: []).increment(by: 1)
    }

    /// An entity change dispatched.
    func change(blueprint: String, handled: Bool) {
        factory.makeCounter(
            label: "port_consumer_changes_total",
            dimensions: [("blueprint", blueprint), ("outcome", handled ? "handled" : "failed")]
        ).increment(by: 1)
    }
}
