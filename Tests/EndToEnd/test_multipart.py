"""Large payloads go to S3 in multipart uploads; a failure half-way leaves no upload behind."""

import hashlib

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, make_client, patient_client
from s3_faults import S3FaultRelay
from test_extended import md5_of_body, objects, payload
from test_operations import metric, metrics

PART = 5 * 1024 * 1024


@pytest.fixture
def s3_relay(moto):
    relay = S3FaultRelay(upstream=moto)
    server = relay.serve()
    yield relay
    server.shutdown()


def proxy_through(start_proxy, s3_relay):
    return start_proxy(
        "--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--part-size", str(PART), "--parts-in-flight", "2"
    )


def test_large_payload_goes_up_in_parts(start_proxy, s3_relay, s3, queue):
    client = patient_client(proxy_through(start_proxy, s3_relay).endpoint)
    body = payload(2 * PART + 12345, "multi")
    before = set(objects(s3))
    sent = client.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    (key,) = set(objects(s3)) - before
    parts = [path for method, path in s3_relay.records if method == "PUT" and "partNumber=" in path]
    assert len(parts) == 3
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"').endswith("-3")
    assert hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()).digest() == hashlib.sha256(body.encode()).digest()
    message = client.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_of_body(body)
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)


def test_parts_go_up_while_the_body_arrives(start_proxy, s3_relay, s3, queue):
    import socket
    import time
    from urllib.parse import urlsplit

    endpoint = urlsplit(proxy_through(start_proxy, s3_relay).endpoint)
    body = b"y" * (2 * PART + 4321)
    document = b'{"QueueUrl":"' + queue.encode() + b'","MessageBody":"' + body + b'"}'
    head = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: {len(document)}\r\n\r\n"
    )
    before = set(objects(s3))
    with socket.create_connection((endpoint.hostname, endpoint.port), timeout=30) as s:
        s.sendall(head.encode() + document[: PART // 2])
        deadline = time.time() + 10
        while not any("partNumber=1&" in path for _, path in s3_relay.records) and time.time() < deadline:
            time.sleep(0.05)
        assert any("partNumber=1&" in path for _, path in s3_relay.records), "part 1 waited for its last byte"
        s.sendall(document[PART // 2 :])
        response = s.makefile("rb").readline()
    assert b" 200 " in response
    (key,) = set(objects(s3)) - before
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"').endswith("-3")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body


def test_body_shorter_than_its_encoding_promised_is_stored_whole(start_proxy, s3_relay, s3, queue):
    # Every character here takes 6 bytes on the wire (\u00e9 or %C3%A9) for 2 in the body: the
    # request may hold a full part, the body does not. Its streamed part is cut short and the body
    # goes up from memory as the one part.
    client = patient_client(proxy_through(start_proxy, s3_relay).endpoint)
    body = "\u00e9" * (PART // 2 - 1000)
    before = set(objects(s3))
    sent = client.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    (key,) = set(objects(s3)) - before
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"').endswith("-1")
    assert len([path for method, path in s3_relay.records if method == "PUT" and "partNumber=1&" in path]) == 2
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body.encode()
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    message = client.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body


def test_failure_half_way_aborts_the_upload_and_sends_nothing(start_proxy, s3_relay, s3, relay, direct_sqs, queue):
    s3_relay.fail_part_number = 2
    client = patient_client(proxy_through(start_proxy, s3_relay).endpoint, retries={"max_attempts": 1, "mode": "standard"})
    before_objects, before_records = set(objects(s3)), len(relay.records)
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=queue, MessageBody=payload(3 * PART, "fail"))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert any(method == "DELETE" and "uploadId=" in path for method, path in s3_relay.records)
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert set(objects(s3)) == before_objects
    assert not [r for r in relay.records[before_records:] if b"SendMessage" in r.body or "SendMessage" in r.headers.get("x-amz-target", "")]
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=queue)


def test_garbage_does_not_hurt_the_extended_proxy(extended_proxy, esqs):
    from test_foundation import send_garbage

    send_garbage(extended_proxy.endpoint)
    esqs.list_queues()
    assert extended_proxy.alive(), extended_proxy.stderr()


@pytest.mark.parametrize("wire", ["json", "query"])
def test_client_disconnect_mid_upload_leaves_nothing(start_proxy, s3_relay, s3, relay, queue, wire):
    import time
    from urllib.parse import quote, urlsplit

    proxy = proxy_through(start_proxy, s3_relay)
    endpoint = urlsplit(proxy.endpoint)
    before_objects, before_records = set(objects(s3)), len(relay.records)
    if wire == "json":
        headers = "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n"
        start = f'{{"QueueUrl":"{queue}","MessageBody":"'
    else:
        headers = "Content-Type: application/x-www-form-urlencoded\r\n"
        start = f"Action=SendMessage&QueueUrl={quote(queue, safe='')}&MessageBody="
    head = f"POST / HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 40000000\r\n\r\n"
    with send_three_parts(endpoint, head + start):
        deadline = time.time() + 10
        while not any("partNumber=" in path for _, path in s3_relay.records) and time.time() < deadline:
            time.sleep(0.05)
    assert_upload_aborted(s3, s3_relay, before_objects)
    assert len(relay.records) == before_records
    assert proxy.alive()


def send_three_parts(endpoint, opening):
    """A connection to the proxy that sent `opening` (a send's head and the start of its body) and
    then three parts' worth of body; the caller decides what comes next."""
    import socket

    s = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
    s.sendall(opening.encode())
    chunk = b"x" * (1 << 20)
    for _ in range(3 * PART // len(chunk)):
        s.sendall(chunk)
    return s


def assert_upload_aborted(s3, s3_relay, before_objects):
    """The upload started, then was aborted: no upload pending, no new object."""
    import time

    deadline = time.time() + 10
    while time.time() < deadline and s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads"):
        time.sleep(0.1)
    assert any("partNumber=" in path for _, path in s3_relay.records), "the upload never started"
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert set(objects(s3)) == before_objects


def test_large_payloads_stream_into_the_receive_response(start_proxy, s3_relay, esqs, queue):
    import http.client
    import json
    from urllib.parse import urlsplit

    proxy = proxy_through(start_proxy, s3_relay)
    client = patient_client(proxy.endpoint)
    bodies = [payload(PART + 1000, "one"), payload(PART + 2000, "two"), "small one"]
    for body in bodies:
        client.send_message(
            QueueUrl=queue, MessageBody=body, MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
        )
    received = []
    for _ in range(10):
        endpoint = urlsplit(proxy.endpoint)
        connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
        request = json.dumps({"QueueUrl": queue, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"]})
        connection.request(
            "POST",
            "/",
            body=request,
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
        )
        response = connection.getresponse()
        document = json.loads(response.read())
        if any(len(m["Body"]) > PART for m in document.get("Messages", [])):
            assert response.getheader("Transfer-Encoding") == "chunked"
        received += document.get("Messages", [])
        if len(received) == 3:
            break
    assert sorted(m["Body"] for m in received) == sorted(bodies)
    for message in received:
        assert message["MD5OfBody"] == md5_of_body(message["Body"])
        assert message["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
        assert message["ReceiptHandle"].startswith("-..s3BucketName..-") == (message["Body"] != "small one")


def test_a_body_that_stops_arriving_is_cut_and_its_upload_aborted(start_proxy, s3_relay, s3, relay, queue):
    import time
    from urllib.parse import urlsplit

    proxy = start_proxy(
        "--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--part-size", str(PART), "--parts-in-flight", "2",
        "--request-body-timeout", "1",
    )
    endpoint = urlsplit(proxy.endpoint)
    before_objects, before_records = set(objects(s3)), len(relay.records)
    head = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: 40000000\r\n\r\n"
    )
    with send_three_parts(endpoint, head + f'{{"QueueUrl":"{queue}","MessageBody":"') as s:
        # The client stalls, its connection open: the proxy closes it.
        started = time.time()
        assert s.recv(1024) == b""
        assert time.time() - started < 8
    assert_upload_aborted(s3, s3_relay, before_objects)
    assert len(relay.records) == before_records
    assert proxy.alive(), proxy.stderr()


def budget_in_use(proxy):
    return metric(metrics(proxy), "sqs_proxy_memory_budget_in_use_bytes")


def test_a_request_the_memory_budget_has_no_room_for_gets_a_503_that_sdks_retry(start_proxy, s3_relay, queue):
    import socket
    import threading
    import time
    from urllib.parse import urlsplit

    mib = 1024 * 1024
    # The least budget with a bucket: one streamed send, (1 part in flight + 1) x (5 MiB + 256 KiB) + 1 MiB.
    budget = 2 * (PART + 256 * 1024) + mib
    proxy = start_proxy(
        "--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--part-size", str(PART), "--parts-in-flight", "1",
        "--max-request-size", str(mib), "--memory-budget", str(budget),
    )
    endpoint = urlsplit(proxy.endpoint)
    # Eleven requests hold all of their 1 MiB bodies but the last byte: 11 MiB of the 11.5.
    head = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: {mib}\r\n\r\n"
    ).encode()
    holders = []
    for _ in range(11):
        holder = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
        holder.sendall(head + b"x" * (mib - 1))
        holders.append(holder)
    # Once the proxy counts what the holders sent, the budget has no room for the send.
    held = 11 * (mib - 1)
    deadline = time.time() + 30
    while budget_in_use(proxy) < held:
        assert time.time() < deadline, f"the budget counts {budget_in_use(proxy)} of the holders' {held} bytes"
        time.sleep(0.05)
    assert metric(metrics(proxy), "sqs_proxy_memory_budget_bytes") == budget
    impatient = make_client(proxy.endpoint, retries={"max_attempts": 1, "mode": "standard"})
    body = payload(600_000, "budget")
    with pytest.raises(ClientError) as raised:
        impatient.send_message(QueueUrl=queue, MessageBody=body)
    refused = raised.value
    assert refused.response["Error"]["Code"] == "ServiceUnavailable"
    assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "memory budget" in refused.response["Error"]["Message"]
    # The SDK's own retries get through once the holders are gone.
    threading.Timer(1.0, lambda: [holder.close() for holder in holders]).start()
    patient = make_client(proxy.endpoint, retries={"max_attempts": 10, "mode": "standard"})
    patient.send_message(QueueUrl=queue, MessageBody=body)
    received = patient.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in received] == [body]
    assert proxy.alive(), proxy.stderr()
