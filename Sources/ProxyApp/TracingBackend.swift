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
