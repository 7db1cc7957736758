import Metrics
import NIOHTTP1
import Upstream

/// The proxy's metrics, recorded through swift-metrics under Prometheus names. Upstream call
/// latencies and retries are recorded where the calls are made (`SQSUpstream`, `S3ObjectStore`).
public enum ProxyMetrics {
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

    /// A message body stored in S3.
    static func payloadOffloaded(bytes: Int) {
        Counter(label: "sqs_proxy_payloads_offloaded_total").increment()
        Counter(label: "sqs_proxy_payload_bytes_offloaded_total").increment(by: bytes)
    }

    /// A message body read back from S3 for a client.
    static func payloadRestored(bytes: Int) {
        Counter(label: "sqs_proxy_payloads_restored_total").increment()
        Counter(label: "sqs_proxy_payload_bytes_restored_total").increment(by: bytes)
    }

    /// A received message whose payload could not be had, by why (`ReceivePlan.Unavailable`).
    static func payloadUnavailable(reason: String) {
        Counter(label: "sqs_proxy_payloads_unavailable_total", dimensions: [("reason", reason)]).increment()
    }

    /// Payload objects deleted from S3.
    static func payloadsDeleted(_ count: Int) {
        Counter(label: "sqs_proxy_payload_objects_deleted_total").increment(by: count)
    }

    /// A pointer or marked receipt handle naming an object outside the payload buckets, left alone.
    static func payloadRefused(operation: String) {
        Counter(label: "sqs_proxy_payloads_refused_total", dimensions: [("operation", operation)]).increment()
    }
}
