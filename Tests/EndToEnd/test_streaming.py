"""Bodies far larger than memory should hold stream through the proxy: 100 MiB messages, batches of
multi-MiB entries, bodies over the payload limit."""

import hashlib
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, PROXY_BIN, patient_client
from test_extended import md5_of_body, objects, payload
from test_multipart import PART, proxy_through, s3_relay  # noqa: F401 (fixture)

MIB = 1024 * 1024


def sent_to_sqs(relay, since):
    return [r for r in relay.records[since:] if b"SendMessage" in r.body or "SendMessage" in r.headers.get("x-amz-target", "")]


@pytest.mark.timeout(900)
def test_hundred_mib_message_round_trip(extended_proxy, s3, queue):
    esqs = patient_client(extended_proxy.endpoint)
    body = payload(100 * MIB, "big")
    assert any(ord(c) > 0xFFFF for c in body[:100]) and '"' in body[:100] and "\\" in body[:100]
    before = set(objects(s3))
    sent = esqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    (key,) = set(objects(s3)) - before
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert len(stored) == 100 * MIB and hashlib.md5(stored).hexdigest() == md5_of_body(body)
    del stored

    message = esqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["MD5OfBody"] == md5_of_body(body)
    assert message["Body"] == body
    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)


def test_batch_of_multi_mib_entries(start_proxy, s3_relay, s3, queue):
    client = patient_client(proxy_through(start_proxy, s3_relay).endpoint)
    bodies = {
        "a": payload(PART + 3 * MIB, "a"),  # more than one part: multipart while read
        "b": payload(2 * MIB, "b"),  # over the threshold, within one part: one PUT once read
        "c": payload(PART * 2 + 17, "c"),
        "d": "small and inline",
    }
    attributes = {"n": {"DataType": "Number", "StringValue": "7"}}
    before = set(objects(s3))
    result = client.send_message_batch(
        QueueUrl=queue,
        Entries=[{"Id": i, "MessageBody": b, "MessageAttributes": attributes} for i, b in bodies.items()],
    )
    assert not result.get("Failed")
    assert {e["Id"]: e["MD5OfMessageBody"] for e in result["Successful"]} == {i: md5_of_body(b) for i, b in bodies.items()}
    assert len(set(objects(s3)) - before) == 3
    assert len([p for m, p in s3_relay.records if m == "PUT" and "partNumber=" in p]) == 2 + 3

    received = {}
    for _ in range(10):
        for m in client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", []):
            assert m["MD5OfBody"] == md5_of_body(m["Body"])
            assert m["MessageAttributes"] == attributes
            received[m["Body"]] = m["ReceiptHandle"]
        if len(received) == len(bodies):
            break
    assert sorted(received) == sorted(bodies.values())
    client.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(received.values())]
    )
    assert set(objects(s3)) == before


def test_calls_to_aws_name_the_proxy_in_their_user_agent(start_proxy, s3_relay, relay, s3, queue):
    """SQS sees the client's User-Agent with the proxy's appended; S3 sees the proxy's alone."""
    proxy = start_proxy("--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint)
    version = subprocess.run([PROXY_BIN, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    product = f"sqs-extended-proxy/{version}"
    client = patient_client(proxy.endpoint)
    before = len(relay.records)
    client.send_message(QueueUrl=queue, MessageBody=payload(300_000, "agent"))
    sends = [r for r in relay.records[before:] if b"SendMessage" in r.body or r.headers.get("x-amz-target", "").endswith("SendMessage")]
    assert len(sends) == 1
    agent = sends[0].headers["user-agent"]
    assert agent.startswith("Boto3/") and agent.endswith(" " + product)
    assert s3_relay.user_agents and set(s3_relay.user_agents) == {product}


@pytest.mark.parametrize("fault", [None, "cut", "500"])
def test_a_large_payload_is_read_in_ranges_and_a_failed_range_is_tried_again(start_proxy, s3_relay, s3, queue, fault):
    """256 KiB ranges, several at once: the body arrives whole and in order, its MD5 right (the SDK
    checks it), and a range cut half-way, or answered with a 500, is read again."""
    proxy = start_proxy("--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--get-range-size", str(256 * 1024))
    client = patient_client(proxy.endpoint)
    body = payload(MIB + 17, "ranged")
    client.send_message(QueueUrl=queue, MessageBody=body)
    size = len(body.encode())
    if fault:
        # The third range fails once.
        s3_relay.faults["get"], s3_relay.fault_after["get"], s3_relay.fault_times["get"] = fault, 2, 1
    before = len(s3_relay.ranges)
    try:
        (message,) = client.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    finally:
        s3_relay.faults.pop("get", None)
    assert message["Body"] == body
    ranges = s3_relay.ranges[before:]
    expected = {f"bytes={start}-{min(start + 256 * 1024, size) - 1}" for start in range(0, size, 256 * 1024)}
    assert set(ranges) == expected
    assert len(ranges) == len(expected) + (1 if fault else 0)
    if fault:
        assert s3_relay.served_faults.get("get") == 1
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def limited_proxy(start_proxy, s3_relay):
    """Payloads up to 6 MiB: requests that stream may be 37 MiB as sent in JSON (a body's bytes
    escaped as \\u00XX at worst), 19 MiB in Query (%XX)."""
    return start_proxy(
        "--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--part-size", str(PART), "--max-payload-size", str(6 * MIB)
    )


def test_body_declared_over_the_limit_is_refused_before_anything_is_written(limited_proxy, s3_relay, s3, relay, queue):
    client = patient_client(limited_proxy.endpoint, retries={"max_attempts": 1, "mode": "standard"})
    before_objects, before_records = set(objects(s3)), len(relay.records)
    with pytest.raises(ClientError) as refused:
        client.send_message(QueueUrl=queue, MessageBody="x" * (40 * MIB))
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3_relay.records == []
    assert not sent_to_sqs(relay, before_records)
    assert set(objects(s3)) == before_objects
    # The connection and the proxy are fine: the next message goes through.
    assert client.send_message(QueueUrl=queue, MessageBody="next")["MD5OfMessageBody"] == md5_of_body("next")


def test_a_body_at_the_limit_made_of_escapes_goes_through(limited_proxy, s3, queue):
    """Every character of this body needs escaping (é: \\u00e9 in JSON, %C3%A9 in Query): the
    request is three times the body's size, which is at the limit."""
    client = patient_client(limited_proxy.endpoint, retries={"max_attempts": 1, "mode": "standard"})
    body = "é" * (3 * MIB)
    assert len(body.encode()) == 6 * MIB
    client.send_message(QueueUrl=queue, MessageBody=body)
    assert client.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == body
    with pytest.raises(ClientError) as refused:
        client.send_message(QueueUrl=queue, MessageBody=body + "é")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "maximum payload size" in refused.value.response["Error"]["Message"]


def test_body_passing_the_limit_while_read_is_refused_and_its_upload_aborted(limited_proxy, s3_relay, s3, relay, queue):
    client = patient_client(limited_proxy.endpoint, retries={"max_attempts": 1, "mode": "standard"})
    before_objects, before_records = set(objects(s3)), len(relay.records)
    with pytest.raises(ClientError) as refused:
        client.send_message(QueueUrl=queue, MessageBody="y" * (6 * MIB + 512 * 1024))
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "maximum payload size" in refused.value.response["Error"]["Message"]
    assert any(m == "DELETE" and "uploadId=" in p for m, p in s3_relay.records)
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert set(objects(s3)) == before_objects
    assert not sent_to_sqs(relay, before_records)


def test_batch_with_an_invalid_entry_leaves_no_stored_payload(start_proxy, s3_relay, s3, relay, queue):
    client = patient_client(proxy_through(start_proxy, s3_relay).endpoint, retries={"max_attempts": 1, "mode": "standard"})
    before_objects, before_records = set(objects(s3)), len(relay.records)
    reserved = {"ExtendedPayloadSize": {"DataType": "Number", "StringValue": "1"}}
    with pytest.raises(ClientError) as refused:
        client.send_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": "big", "MessageBody": payload(PART + MIB, "big")},
                {"Id": "bad", "MessageBody": payload(2 * MIB, "bad"), "MessageAttributes": reserved},
            ],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidAttributeName"
    assert any(m == "PUT" and "partNumber=" in p for m, p in s3_relay.records), "the first body was not streamed"
    assert set(objects(s3)) == before_objects
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert not sent_to_sqs(relay, before_records)
