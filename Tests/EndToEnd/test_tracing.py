"""OpenTelemetry tracing: the proxy's spans reach a collector (a stand-in, `otlp_collector.py`) over
OTLP/HTTP, continue the client's trace, and describe the S3 and SQS calls made for each request."""

import time
import uuid

import pytest

from conftest import BUCKET, PROXY_BIN, REGION, ProxyProcess, patient_client, proxy_environment
from otlp_collector import Collector
from test_extended import md5_of_body, objects, payload, reached_sqs

SERVER, CLIENT, ERROR = 2, 3, 2
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


@pytest.fixture
def collector():
    collector = Collector()
    server = collector.serve()
    yield collector
    server.shutdown()


@pytest.fixture
def traced_proxy(start_proxy, collector, s3):
    """A proxy with a payload bucket that exports its spans to the collector at once."""
    return start_proxy(
        "--bucket", BUCKET, "--part-size", str(5 * 1024 * 1024),
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_SERVICE_NAME": "orders-sidecar",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        },
    )


def with_headers(client, headers):
    """The client, sending `headers` (unsigned, as SDK instrumentation adds them) on every call."""

    def add(request, **_):
        for name, value in headers.items():
            request.headers[name] = value

    client.meta.events.register("before-send.sqs.*", add)
    return client


def named(spans, name):
    return [s for s in spans if s.name == name]


def children(spans, parent):
    return [s for s in spans if s.parent_span_id == parent.span_id]


def test_a_large_send_is_one_server_span_in_the_clients_trace_with_its_s3_and_sqs_calls(traced_proxy, collector, s3):
    client = with_headers(
        patient_client(traced_proxy.endpoint),
        {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "congo=t61rcWkgMzE"},
    )
    queue = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    body = payload(6 * 1024 * 1024)
    client.send_message(QueueUrl=queue, MessageBody=body)

    spans = collector.wait_for(lambda spans: any(s.name == "SendMessage" for s in spans))
    send = named(spans, "SendMessage")[0]
    assert (send.trace_id, send.parent_span_id, send.kind) == (TRACE_ID, PARENT_ID, SERVER)
    assert send.trace_state == "congo=t61rcWkgMzE"
    assert send.resource["service.name"] == "orders-sidecar"
    assert send.attributes["messaging.system"] == "aws_sqs"
    assert send.attributes["messaging.operation.type"] == "send"
    assert send.attributes["messaging.destination.name"] == queue.rsplit("/", 1)[1]
    assert send.attributes["rpc.system"] == "aws-api"
    assert send.attributes["rpc.method"] == "SendMessage"
    assert send.attributes["http.response.status_code"] == 200
    assert send.attributes["sqs_extended_proxy.payload_bytes_offloaded"] == len(body.encode())
    assert send.attributes["aws.request_id"]
    assert send.status_code != ERROR

    calls = children(spans, send)
    names = sorted(s.name for s in calls)
    # The 6 MiB body streamed: a multipart upload of two parts, then the pointer to SQS.
    assert names == ["S3.CompleteMultipartUpload", "S3.CreateMultipartUpload", "S3.UploadPart", "S3.UploadPart", "SQS.SendMessage"]
    for call in calls:
        assert call.kind == CLIENT and call.trace_id == TRACE_ID
        assert call.attributes["rpc.system"] == "aws-api"
        assert call.attributes["http.response.status_code"] == 200
        assert send.start <= call.start <= call.end <= send.end
    parts = named(calls, "S3.UploadPart")
    assert sorted(p.attributes["aws.s3.part_number"] for p in parts) == [1, 2]
    assert sum(p.attributes["http.request.body.size"] for p in parts) == len(body.encode())
    assert all(p.attributes["aws.s3.bucket"] == BUCKET for p in parts)
    sqs_call = named(calls, "SQS.SendMessage")[0]
    assert sqs_call.attributes["rpc.service"] == "SQS" and sqs_call.attributes["aws.request_id"]


def test_a_streamed_receive_is_timed_to_its_last_byte_and_continues_an_xray_trace(traced_proxy, collector, s3):
    client = patient_client(traced_proxy.endpoint)
    queue = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    body = payload(3 * 1024 * 1024)
    client.send_message(QueueUrl=queue, MessageBody=body)
    xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    receiver = with_headers(patient_client(traced_proxy.endpoint), {"X-Amzn-Trace-Id": xray})
    messages = receiver.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert messages[0]["MD5OfBody"] == md5_of_body(body)

    spans = collector.wait_for(lambda spans: any(s.name == "ReceiveMessage" for s in spans))
    receive = named(spans, "ReceiveMessage")[0]
    assert (receive.trace_id, receive.parent_span_id) == ("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8")
    assert receive.attributes["messaging.operation.type"] == "receive"
    assert receive.attributes["sqs_extended_proxy.payload_bytes_restored"] == len(body.encode())
    gets = named(children(spans, receive), "S3.GetObject")
    assert gets and all(g.attributes["aws.s3.bucket"] == BUCKET for g in gets)
    # The body was written after the last GET began: the server span ends after every call.
    assert receive.end >= max(g.end for g in gets)
    assert named(children(spans, receive), "SQS.ReceiveMessage")


def test_sqs_gets_an_xray_header_naming_the_proxys_call_when_the_client_sent_none(traced_proxy, collector, relay, s3):
    client = with_headers(patient_client(traced_proxy.endpoint), {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    queue = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    before = len(relay.records)
    client.send_message(QueueUrl=queue, MessageBody="small")
    sends = reached_sqs(relay, before, "SendMessage")
    assert len(sends) == 1 and sends[0].signature_valid
    spans = collector.wait_for(lambda spans: any(s.name == "SQS.SendMessage" for s in spans))
    call = named(spans, "SQS.SendMessage")[0]
    expected = f"Root=1-{TRACE_ID[:8]}-{TRACE_ID[8:]};Parent={call.span_id};Sampled=1"
    assert sends[0].headers.get("x-amzn-trace-id") == expected


def test_an_error_marks_the_spans_of_the_call_that_failed(traced_proxy, collector):
    client = patient_client(traced_proxy.endpoint)
    missing = traced_proxy.endpoint + "/123456789012/no-such-queue-" + uuid.uuid4().hex[:8]
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.send_message(QueueUrl=missing, MessageBody="x")
    spans = collector.wait_for(lambda spans: any(s.name == "SendMessage" for s in spans))
    send = named(spans, "SendMessage")[0]
    assert send.attributes["http.response.status_code"] == 400
    assert send.attributes["error.type"] == "AWS.SimpleQueueService.NonExistentQueue"
    call = named(children(spans, send), "SQS.SendMessage")[0]
    assert call.status_code == ERROR
    assert call.attributes["error.type"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_without_otel_variables_nothing_is_exported(start_proxy, collector):
    proxy = start_proxy(env={"OTEL_SERVICE_NAME": "x", "OTEL_BSP_SCHEDULE_DELAY": "50"})
    patient_client(proxy.endpoint).list_queues()
    disabled = start_proxy(
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_SDK_DISABLED": "true", "OTEL_BSP_SCHEDULE_DELAY": "50"}
    )
    patient_client(disabled.endpoint).list_queues()
    traced = start_proxy(env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"})
    patient_client(traced.endpoint).list_queues()
    spans = collector.wait_for(lambda spans: any(s.name == "ListQueues" for s in spans))
    assert len(named(spans, "ListQueues")) == 1
    assert named(spans, "ListQueues")[0].resource["service.name"] == "sqs-extended-proxy"
    # The proxy says when it traces (and where to); the other two did not.
    assert "tracing settings=" in traced.stderr(whole=True)
    assert "tracing" not in proxy.stderr(whole=True) and "tracing" not in disabled.stderr(whole=True)
    assert collector.content_types[0] == ("/v1/traces", "application/x-protobuf")


@pytest.mark.parametrize(
    "protocol, reason",
    [("grpc", "OTLP/HTTP only"), ("http/json", "base64")],
)
def test_protocols_not_supported_are_start_up_errors_that_say_why(relay, protocol, reason):
    """gRPC is not built in; swift-otel's OTLP/JSON writes ids in base64 where collectors read hex."""
    import subprocess

    result = subprocess.run(
        [PROXY_BIN, "--region", "us-east-1", "--sqs-endpoint", relay.endpoint, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
        env=proxy_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}" in result.stderr and reason in result.stderr


def test_the_last_requests_spans_are_exported_at_shutdown(relay, collector):
    """The exporter stops after the listener: a batch not yet due is sent before the process exits."""
    proxy = ProxyProcess(
        ["--region", REGION, "--sqs-endpoint", relay.endpoint],
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "600000"},
    )
    patient_client(proxy.endpoint).list_queues()
    assert not collector.spans
    proxy.process.terminate()
    assert proxy.process.wait(20) == 0
    assert named(collector.spans, "ListQueues")


def test_check_shows_the_tracing_settings_and_their_sources(relay, moto):
    from test_check import run_check

    _, lines = run_check(
        relay, moto, "--region", "us-east-1",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
    )
    assert "tracing: on (OTEL_EXPORTER_OTLP_ENDPOINT is set)" in lines
    assert "tracing endpoint = http://collector:4318/v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT)" in lines
    assert "tracing sampler = traceidratio, argument 0.25 (OTEL_TRACES_SAMPLER)" in lines
    _, lines = run_check(relay, moto, "--region", "us-east-1")
    assert "tracing: off (no OTEL_TRACES_EXPORTER=otlp or OTLP endpoint set)" in lines


def test_the_sampler_variables_act_as_the_specification_says(start_proxy, collector):
    """The default sampler (parent-based) follows the client's sampled flag; always_off records nothing."""
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    following = start_proxy(env=env)
    never = start_proxy(env={**env, "OTEL_TRACES_SAMPLER": "always_off"})
    sampled = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    with_headers(patient_client(never.endpoint), sampled).list_queues()
    with_headers(patient_client(following.endpoint), {"traceparent": f"00-{'1' * 32}-{PARENT_ID}-00"}).list_queues()
    with_headers(patient_client(following.endpoint), sampled).list_queues()
    collector.wait_for(lambda spans: any(s.name == "ListQueues" for s in spans))
    # Every proxy's batch is due within 50 ms: a second is time enough for spans that should not come.
    time.sleep(1)
    assert [(s.name, s.trace_id) for s in collector.spans if s.kind == SERVER] == [("ListQueues", TRACE_ID)]


def test_what_a_span_holds_of_a_clients_text_is_bounded(traced_proxy, collector):
    """Spans outlive their requests, outside the memory budget: a queue name of 60,000 bytes is kept
    as its first 256."""
    client = patient_client(traced_proxy.endpoint)
    name = "n" * 60_000
    with pytest.raises(client.exceptions.ClientError):
        client.send_message(QueueUrl=traced_proxy.endpoint + "/123456789012/" + name, MessageBody="x")
    spans = collector.wait_for(lambda spans: any(s.kind == SERVER for s in spans))
    server = [s for s in spans if s.kind == SERVER][0]
    assert server.attributes["messaging.destination.name"] == "n" * 256
    assert all(len(str(value)) <= 256 for span in spans for value in span.attributes.values())


def test_a_collector_that_cannot_be_reached_costs_requests_nothing(relay):
    """Requests are answered as ever; the spans that could not be sent are given up 5 s into the
    exporter's shutdown, and the proxy exits 0."""
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        proxy = ProxyProcess(
            ["--region", REGION, "--sqs-endpoint", relay.endpoint],
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed.getsockname()[1]}", "OTEL_BSP_SCHEDULE_DELAY": "50"},
        )
        client = patient_client(proxy.endpoint)
        for _ in range(5):
            assert "ResponseMetadata" in client.list_queues()
            time.sleep(0.1)
        proxy.process.terminate()
        assert proxy.process.wait(20) == 0
        assert "spans not sent within 5.0 seconds of shutdown were given up" in proxy.stderr(whole=True)
    finally:
        closed.close()
