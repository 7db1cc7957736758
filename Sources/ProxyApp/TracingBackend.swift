import Logging
import OTel
import RequestTracing
import ServiceLifecycle
import Tracing
import Upstream

/// The process's tracer: swift-otel's, exporting over OTLP/HTTP with its batch span processor.
enum TracingBackend {
    /// Bootstraps the process's tracer as `settings` say; the request tracer and the service that
    /// exports the spans (to run until the other services have stopped, so that the last spans go too).
    static func bootstrap(_ settings: TracingSettings, logger: Logger) throws -> (
        tracer: RequestTracer, service: any Service
    ) {
        var configuration = OTel.Configuration.default
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.serviceName = settings.serviceName
        configuration.resourceAttributes["service.version"] = ProxyVersion.current
        configuration.diagnosticLogger = .custom(logger)
        // swift-otel's notes on each variable it read are not warnings; OTEL_LOG_LEVEL asks for them.
        configuration.diagnosticLogLevel = .warning
        let service = try OTel.bootstrap(configuration: configuration, environment: settings.exporterEnvironment)
        return (RequestTracer(tracer: InstrumentationSystem.tracer, propagation: settings.propagation), service)
    }
}

/// swift-otel's exporting service, given at most `flushLimit` to send the last spans once the
/// graceful shutdown reaches it (the other services have stopped by then): a collector that cannot
/// be reached would hold the exit for its timeout per batch. It never stops the proxy: when it ends
/// early, the proxy goes on without exporting.
struct SpanExporting: Service {
    let service: any Service
    let flushLimit: Duration
    let logger: Logger

    private enum Outcome: Sendable {
        case ended((any Error)?)
        case outOfTime
    }

    func run() async {
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    try await service.run()
                    return .ended(nil)
                } catch {
                    return .ended(error)
                }
            }
            group.addTask {
                // Both throw only when cancelled: the service ended first.
                try? await gracefulShutdown()
                try? await Task.sleep(for: flushLimit)
                return .outOfTime
            }
            let outcome = await group.next()
            group.cancelAll()
            switch outcome {
            case .outOfTime:
                logger.warning("tracing: the spans not sent within \(flushLimit) of shutdown were given up")
            case .ended(let error?):
                logger.error(
                    "tracing: the span exporter stopped; spans are no longer sent", metadata: ["error": "\(error)"])
            case .ended(nil), nil:
                break
            }
        }
    }
}
