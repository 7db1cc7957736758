import Proxy
import RequestTracing
import Testing

@testable import ProxyApp

struct TracingSettingsTests {
    @Test func offUnlessAnExporterOrAnEndpointIsNamed() throws {
        #expect(try !TracingSettings(environment: [:]).enabled)
        #expect(try !TracingSettings(environment: ["OTEL_SERVICE_NAME": "orders"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "otlp"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]).enabled)
        #expect(try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/x"]).enabled)
        #expect(try !TracingSettings(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": " "]).enabled)
    }

    @Test func sdkDisabledAndExporterNoneWin() throws {
        let disabled = try TracingSettings(environment: [
            "OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
        ])
        #expect(!disabled.enabled)
        #expect(disabled.reason == "off (OTEL_SDK_DISABLED=true)")
        #expect(
            try !TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"])
                .enabled)
        #expect(
            try TracingSettings(environment: ["OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"]).enabled)
    }

    @Test func grpcAndExportersNotBuiltInAreStartUpErrorsThatSayWhy() {
        #expect {
            try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        } throws: { error in
            "\(error)".contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") && "\(error)".contains("OTLP/HTTP only")
        }
        #expect(throws: ConfigurationError.self) {
            try TracingSettings(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            ])
        }
        #expect {
            try TracingSettings(environment: [
                "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            ])
        } throws: { error in
            "\(error)".contains("base64")
        }
        #expect(throws: ConfigurationError.self) {
            try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "zipkin"])
        }
        #expect(throws: ConfigurationError.self) {
            try TracingSettings(environment: ["OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "xray"])
        }
        // Tracing off: what it would have used is not checked.
        #expect(throws: Never.self) { try TracingSettings(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]) }
    }

    @Test func unknownValuesAreWarnedOfAndIgnored() throws {
        let settings = try TracingSettings(environment: [
            "OTEL_TRACES_EXPORTER": "otlp,fancy", "OTEL_TRACES_SAMPLER": "sometimes",
            "OTEL_PROPAGATORS": "tracecontext,b3,mystery",
        ])
        #expect(settings.enabled)
        #expect(settings.warnings.count == 4)
        #expect(settings.exporterEnvironment["OTEL_TRACES_SAMPLER"] == nil)
        #expect(settings.propagation == TracePropagation(readsTraceContext: true, usesXRay: false))
        let protocolUnknown = try TracingSettings(environment: [
            "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/thrift",
        ])
        #expect(protocolUnknown.exporterEnvironment["OTEL_EXPORTER_OTLP_PROTOCOL"] == nil)
        #expect(protocolUnknown.lines.contains("tracing protocol = http/protobuf (default)"))
        #expect(protocolUnknown.warnings == ["OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol http/thrift ignored"])
    }

    @Test func propagatorsReadTraceContextAndXRayByDefault() throws {
        #expect(
            try TracingSettings(environment: [:]).propagation
                == TracePropagation(readsTraceContext: true, usesXRay: true))
        #expect(
            try TracingSettings(environment: ["OTEL_PROPAGATORS": "xray"]).propagation
                == TracePropagation(readsTraceContext: false, usesXRay: true))
        #expect(
            try TracingSettings(environment: ["OTEL_PROPAGATORS": "tracecontext,baggage"]).propagation
                == TracePropagation(readsTraceContext: true, usesXRay: false))
        #expect(
            try TracingSettings(environment: ["OTEL_PROPAGATORS": "none,tracecontext"]).propagation
                == TracePropagation(readsTraceContext: false, usesXRay: false))
    }

    @Test func theExporterIsGivenTheTraceVariablesOnly() throws {
        let settings = try TracingSettings(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "a=b",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs", "OTEL_SDK_DISABLED": "false",
            "OTEL_LOGS_EXPORTER": "otlp", "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "orders",
            "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5", "OTEL_PROPAGATORS": "xray",
            "AWS_REGION": "eu-west-1",
        ])
        #expect(
            settings.exporterEnvironment == [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "a=b",
                "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "orders", "OTEL_TRACES_SAMPLER": "traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0.5", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_PROPAGATORS": "tracecontext",
            ])
    }

    @Test func theServiceNameComesFromItsVariableThenTheResourceThenTheProxy() throws {
        #expect(try TracingSettings(environment: [:]).serviceName == "sqs-extended-proxy")
        #expect(
            try TracingSettings(environment: ["OTEL_RESOURCE_ATTRIBUTES": "team=a, service.name=order%20intake"])
                .serviceName == "order intake")
        #expect(
            try TracingSettings(environment: [
                "OTEL_RESOURCE_ATTRIBUTES": "service.name=r", "OTEL_SERVICE_NAME": "orders",
            ]).serviceName == "orders")
    }

    @Test func checkShowsEachSettingAndWhereItCameFrom() throws {
        let lines = try TracingSettings(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/", "OTEL_BSP_MAX_QUEUE_SIZE": "64",
        ]).lines
        #expect(lines.contains("tracing: on (OTEL_EXPORTER_OTLP_ENDPOINT is set)"))
        #expect(lines.contains("tracing endpoint = http://c:4318/v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT)"))
        #expect(lines.contains("tracing protocol = http/protobuf (default)"))
        #expect(lines.contains("tracing service name = sqs-extended-proxy (default)"))
        #expect(lines.contains("tracing propagators = tracecontext,xray (default)"))
        #expect(lines.contains("tracing OTEL_BSP_MAX_QUEUE_SIZE = 64 (OTEL_BSP_MAX_QUEUE_SIZE)"))
        #expect(lines.contains("tracing OTEL_BSP_SCHEDULE_DELAY = 5000 (default)"))
        #expect(
            try TracingSettings(environment: [:]).lines == [
                "tracing: off (no OTEL_TRACES_EXPORTER=otlp or OTLP endpoint set)"
            ])
    }
}
