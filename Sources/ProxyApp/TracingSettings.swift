import Proxy
import RequestTracing
import TextCoding

/// Tracing as the OpenTelemetry environment variables set it. Off unless `OTEL_TRACES_EXPORTER`
/// names `otlp` or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; `OTEL_SDK_DISABLED=true` and
/// `OTEL_TRACES_EXPORTER=none` win. What swift-otel would stop the process on (the gRPC protocol,
/// which is not built in, exporters and samplers it lacks) is a start-up error that names it; a
/// value the specification does not know is warned of and ignored, as the specification says.
public struct TracingSettings: Equatable, Sendable {
    /// Whether requests are traced.
    public var enabled: Bool
    /// Which variable turned tracing on or off.
    public var reason: String
    /// The trace headers read from clients and written on SQS calls (`OTEL_PROPAGATORS`).
    public var propagation: TracePropagation
    /// The service the spans are of: `OTEL_SERVICE_NAME`, else `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`, else `sqs-extended-proxy`.
    public var serviceName: String
    /// The variables swift-otel resolves the exporter, sampler, batch processor and resource from:
    /// the trace-related `OTEL_*` variables as given, the others left out (the proxy reads trace
    /// headers itself and has no OpenTelemetry logs or metrics).
    public var exporterEnvironment: [String: String]
    /// `name = value (source)` of each tracing setting, for `check`.
    public var lines: [String]
    /// Values that were ignored, and why.
    public var warnings: [String]

    /// The propagators read when `OTEL_PROPAGATORS` is unset: W3C trace context, and X-Ray, which
    /// AWS SDKs and Lambda send (the specification's default, `tracecontext,baggage`, would ignore it;
    /// the proxy has no use for baggage).
    public static let defaultPropagators = "tracecontext,xray"
    /// The samplers swift-otel has.
    static let samplers: Set = [
        "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
        "parentbased_traceidratio",
    ]
    /// Samplers the specification names that swift-otel lacks.
    static let missingSamplers: Set = ["jaeger_remote", "parentbased_jaeger_remote", "xray"]
    /// Propagators the specification names that the proxy does not read.
    static let missingPropagators: Set = ["b3", "b3multi", "jaeger", "ottrace", "xray-lambda"]
    /// Exporters the specification names that are not built in.
    static let missingExporters: Set = ["console", "zipkin", "jaeger", "logging"]

    public init(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmed(), !value.isEmpty else { return nil }
            return value
        }
        var warnings: [String] = []
        var lines: [String] = []

        var exporters: [String] = []
        if let names = value("OTEL_TRACES_EXPORTER") {
            for name in names.lowercased().split(separator: ",").map({ String($0).trimmed() }) where !name.isEmpty {
                if name == "otlp" || name == "none" {
                    exporters.append(name)
                } else if Self.missingExporters.contains(name) {
                    throw ConfigurationError(
                        "OTEL_TRACES_EXPORTER=\(names): the \(name) exporter is not built into the proxy; use otlp")
                } else {
                    warnings.append("OTEL_TRACES_EXPORTER: unknown exporter \(name) ignored")
                }
            }
        }
        let endpointVariable = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"].first {
            value($0) != nil
        }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" {
            (enabled, reason) = (false, "off (OTEL_SDK_DISABLED=true)")
        } else if exporters.contains("none") && !exporters.contains("otlp") {
            (enabled, reason) = (false, "off (OTEL_TRACES_EXPORTER=none)")
        } else if exporters.contains("otlp") {
            (enabled, reason) = (true, "on (OTEL_TRACES_EXPORTER=otlp)")
        } else if let endpointVariable {
            (enabled, reason) = (true, "on (\(endpointVariable) is set)")
        } else {
            (enabled, reason) = (false, "off (no OTEL_TRACES_EXPORTER=otlp or OTLP endpoint set)")
        }

        let protocolVariable = ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"].first {
            value($0) != nil
        }
        var wireProtocol = protocolVariable.flatMap(value)?.lowercased() ?? "http/protobuf"
        var ignoredProtocol = false
        switch wireProtocol {
        case "http/protobuf":
            break
        case "http/json" where enabled:
            throw ConfigurationError(
                "\(protocolVariable ?? "")=http/json: swift-otel's OTLP/JSON writes trace and span ids in base64 where OTLP/JSON has them in hex, so a collector would read wrong ids; use http/protobuf"
            )
        case "grpc" where enabled:
            throw ConfigurationError(
                "\(protocolVariable ?? "")=grpc: the proxy exports traces over OTLP/HTTP only (its gRPC exporter is not built, to keep the binary small); set it to http/protobuf and point the endpoint at the collector's HTTP port (4318)"
            )
        case "grpc", "http/json":
            break
        default:
            warnings.append("\(protocolVariable ?? ""): unknown protocol \(wireProtocol) ignored")
            (wireProtocol, ignoredProtocol) = ("http/protobuf", true)
        }
        let endpoint: String
        if let specific = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            endpoint = specific
        } else if let shared = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            endpoint = shared.hasSuffix("/") ? shared + "v1/traces" : shared + "/v1/traces"
        } else {
            endpoint = "http://localhost:4318/v1/traces"
        }

        var sampler = value("OTEL_TRACES_SAMPLER")?.lowercased()
        if let name = sampler, !Self.samplers.contains(name) {
            if Self.missingSamplers.contains(name) && enabled {
                throw ConfigurationError(
                    "OTEL_TRACES_SAMPLER=\(name): not supported; use one of \(Self.samplers.sorted().joined(separator: ", "))"
                )
            }
            warnings.append("OTEL_TRACES_SAMPLER: unknown sampler \(name) ignored")
            sampler = nil
        }

        let propagatorNames = (value("OTEL_PROPAGATORS") ?? Self.defaultPropagators).lowercased()
            .split(separator: ",").map { String($0).trimmed() }.filter { !$0.isEmpty }
        var propagation = TracePropagation(readsTraceContext: false, usesXRay: false)
        for name in propagatorNames {
            switch name {
            case "tracecontext": propagation.readsTraceContext = true
            case "xray": propagation.usesXRay = true
            case "baggage": break
            case "none": propagation = TracePropagation(readsTraceContext: false, usesXRay: false)
            default:
                warnings.append(
                    Self.missingPropagators.contains(name)
                        ? "OTEL_PROPAGATORS: \(name) is not supported and is ignored"
                        : "OTEL_PROPAGATORS: unknown propagator \(name) ignored")
            }
            if name == "none" { break }
        }

        var exporterEnvironment: [String: String] = [:]
        for (name, variableValue) in environment where Self.passedToExporter(name) {
            exporterEnvironment[name] = variableValue
        }
        if sampler == nil { exporterEnvironment["OTEL_TRACES_SAMPLER"] = nil }
        if ignoredProtocol {
            exporterEnvironment["OTEL_EXPORTER_OTLP_PROTOCOL"] = nil
            exporterEnvironment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = nil
        }
        exporterEnvironment["OTEL_TRACES_EXPORTER"] = "otlp"
        // The tracer reads the W3C headers the proxy gives it, whatever the client sent.
        exporterEnvironment["OTEL_PROPAGATORS"] = "tracecontext"

        let resourceServiceName = value("OTEL_RESOURCE_ATTRIBUTES").flatMap(Self.serviceName(inResourceAttributes:))
        serviceName = value("OTEL_SERVICE_NAME") ?? resourceServiceName ?? "sqs-extended-proxy"
        let serviceNameSource =
            value("OTEL_SERVICE_NAME") != nil
            ? "OTEL_SERVICE_NAME" : resourceServiceName != nil ? "OTEL_RESOURCE_ATTRIBUTES" : "default"

        func source(_ name: String) -> String { value(name) == nil ? "default" : name }
        lines.append("tracing: \(reason)")
        if enabled {
            lines.append("tracing endpoint = \(endpoint) (\(endpointVariable ?? "default"))")
            lines.append(
                "tracing protocol = \(wireProtocol) (\(ignoredProtocol ? "default" : protocolVariable ?? "default"))")
            lines.append("tracing service name = \(serviceName) (\(serviceNameSource))")
            if let attributes = value("OTEL_RESOURCE_ATTRIBUTES") {
                lines.append("tracing resource attributes = \(attributes) (OTEL_RESOURCE_ATTRIBUTES)")
            }
            let samplerArgument = value("OTEL_TRACES_SAMPLER_ARG").map { ", argument \($0)" } ?? ""
            lines.append(
                "tracing sampler = \(sampler ?? "parentbased_always_on")\(samplerArgument) (\(sampler == nil ? "default" : "OTEL_TRACES_SAMPLER"))"
            )
            lines.append(
                "tracing propagators = \(propagatorNames.joined(separator: ",")) (\(source("OTEL_PROPAGATORS")))")
            for (name, fallback) in Self.batchVariables {
                lines.append("tracing \(name) = \(value(name) ?? fallback) (\(source(name)))")
            }
        }
        lines += warnings.map { "tracing warning: \($0)" }
        self.propagation = propagation
        self.exporterEnvironment = exporterEnvironment
        self.lines = lines
        self.warnings = warnings
    }

    /// The `service.name` of an `OTEL_RESOURCE_ATTRIBUTES` value (`key=value` pairs, comma-separated,
    /// percent-encoded).
    static func serviceName(inResourceAttributes attributes: String) -> String? {
        for pair in attributes.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmed() == "service.name" else { continue }
            let name = PercentEncoding.decodeLeniently(parts[1].trimmed(), plusIsSpace: false)
            return name.isEmpty ? nil : name
        }
        return nil
    }

    /// The batch span processor's variables and the specification's defaults.
    static let batchVariables = [
        ("OTEL_BSP_SCHEDULE_DELAY", "5000"), ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "2048"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
    ]

    /// Whether swift-otel is given the variable: those of traces, the resource, the batch span
    /// processor and the OTLP exporter (not its logs or metrics forms).
    static func passedToExporter(_ name: String) -> Bool {
        if name.hasPrefix("OTEL_EXPORTER_OTLP_") {
            return !name.hasPrefix("OTEL_EXPORTER_OTLP_LOGS_") && !name.hasPrefix("OTEL_EXPORTER_OTLP_METRICS_")
        }
        return name.hasPrefix("OTEL_TRACES_SAMPLER") || name.hasPrefix("OTEL_BSP_")
            || ["OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_LOG_LEVEL"].contains(name)
    }
}
