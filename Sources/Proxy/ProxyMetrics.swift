import Metrics
import RequestTracing

/// The extended client's metrics, recorded through swift-metrics under Prometheus names. Requests
/// answered are counted at the server edge (`ServerMetrics`); upstream call latencies and retries
/// where the calls are made (`SQSUpstream`, `S3ObjectStore`). A traced request's payloads are
/// counted on its server span too.
enum ProxyMetrics {
    /// A message body stored in S3.
    static func payloadOffloaded(bytes: Int) {
        Counter(label: "sqs_proxy_payloads_offloaded_total").increment()
        Counter(label: "sqs_proxy_payload_bytes_offloaded_total").increment(by: bytes)
        RequestTrace.count(1, as: "sqs_extended_proxy.payloads_offloaded")
        RequestTrace.count(bytes, as: "sqs_extended_proxy.payload_bytes_offloaded")
    }

    /// A message body read back from S3 for a client.
    static func payloadRestored(bytes: Int) {
        Counter(label: "sqs_proxy_payloads_restored_total").increment()
        Counter(label: "sqs_proxy_payload_bytes_restored_total").increment(by: bytes)
        RequestTrace.count(1, as: "sqs_extended_proxy.payloads_restored")
        RequestTrace.count(bytes, as: "sqs_extended_proxy.payload_bytes_restored")
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
