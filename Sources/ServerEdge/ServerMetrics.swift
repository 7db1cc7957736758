import Metrics
import NIOHTTP1
import Upstream

/// The server edge's metrics, recorded through swift-metrics under Prometheus names: every request
/// answered, by action and outcome, with its latency, and the errors the proxy answered itself.
public enum ServerMetrics {
    /// Buckets of the latency histograms, in seconds: from a cached answer to a 20 s long poll
    /// and a multi-gigabyte payload.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10), .seconds(21), .seconds(60), .seconds(300),
    ]

    /// One client request answered: counted by action and outcome, its latency recorded.
    static func requestAnswered(action: String, status: HTTPResponseStatus, duration: Duration) {
        let outcome =
            switch status.code {
            case 200..<300: "success"
            case 400..<500: "client_error"
            default: "server_error"
            }
        let (counter, timer) = requestHandles.handles(for: RequestKey(action: action, outcome: outcome)) {
            (
                Counter(label: "sqs_proxy_requests_total", dimensions: [("action", action), ("outcome", outcome)]),
                Timer(label: "sqs_proxy_request_duration_seconds", dimensions: [("action", action)])
            )
        }
        counter.increment()
        timer.record(duration: duration)
    }

    private struct RequestKey: Hashable {
        var action: String
        var outcome: String
    }

    /// The handles of every request's metrics, made once per action and outcome rather than looked
    /// up in the metrics backend for every request.
    private static let requestHandles = MetricHandles<RequestKey, (Counter, Timer)>()

    /// An error the proxy answered itself, by its SQS error code.
    static func errorAnswered(kind: String) {
        Counter(label: "sqs_proxy_errors_total", dimensions: [("kind", kind)]).increment()
    }

    /// Records the memory budget's limit and the bytes it holds now; called for each scrape.
    public static func recordMemoryBudget(_ budget: MemoryBudget) {
        Gauge(label: "sqs_proxy_memory_budget_bytes").record(budget.limit)
        Gauge(label: "sqs_proxy_memory_budget_in_use_bytes").record(budget.inUse)
    }
}
