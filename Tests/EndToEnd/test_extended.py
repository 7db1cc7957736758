"""The extended-client behaviour end to end: real SDKs through the proxy to moto's SQS and S3, in
whichever protocol this virtualenv's botocore speaks."""

import hashlib
import http.client
import json
import struct
import uuid
from urllib.parse import quote, urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, make_client

THRESHOLD = 262_144
POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"


def md5_of_body(body):
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes):
    """The attribute digest as the Java SDK checks it, computed here, not by the proxy."""
    if not attributes:
        return None
    buffer = b""

    def prefixed(data):
        return struct.pack(">I", len(data)) + data

    for name in sorted(attributes, key=lambda n: n.encode("utf-8")):
        value = attributes[name]
        buffer += prefixed(name.encode("utf-8")) + prefixed(value["DataType"].encode("utf-8"))
        if "StringValue" in value:
            buffer += b"\x01" + prefixed(value["StringValue"].encode("utf-8"))
        else:
            buffer += b"\x02" + prefixed(bytes(value["BinaryValue"]))
    return hashlib.md5(buffer).hexdigest()


def attributes_size(attributes):
    size = 0
    for name, value in attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode())
        size += len(value["StringValue"].encode()) if "StringValue" in value else len(value["BinaryValue"])
    return size


def payload(size, seed="x"):
    """A body of exactly `size` UTF-8 bytes, with multi-byte characters and characters that need escaping."""
    unit = f"{seed}é<&>\"\\\n\r\t😀"
    data = (unit * (size // len(unit.encode()) + 1)).encode()[:size]
    text = data.decode("utf-8", errors="ignore")
    return text + "a" * (size - len(text.encode()))


def objects(s3, prefix=""):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def receive_all(client, url, count, **kwargs):
    messages = []
    for _ in range(10):
        messages += client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        if len(messages) >= count:
            break
    return messages


ATTRIBUTES = {
    "text": {"DataType": "String", "StringValue": "ünïcode & <xml>"},
    "count": {"DataType": "Number", "StringValue": "12.5"},
    "blob": {"DataType": "Binary", "BinaryValue": bytes(range(200))},
}


def test_offload_and_restore_with_attributes(esqs, direct_sqs, s3, queue):
    body = payload(300_000)
    before = set(objects(s3))
    sent = esqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == md5_of_body(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    new = set(objects(s3)) - before
    assert len(new) == 1
    key = new.pop()
    assert len(key) == 36 and key == key.lower()
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body.encode()

    message = esqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_of_body(body)
    assert set(message["MessageAttributes"]) == set(ATTRIBUTES)
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == ATTRIBUTES["blob"]["BinaryValue"]
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])
    assert message["ReceiptHandle"].startswith(f"-..s3BucketName..-{BUCKET}-..s3BucketName..--..s3Key..-{key}-..s3Key..-")

    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)
    assert "Messages" not in esqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)


def test_sqs_holds_the_compact_java_pointer(esqs, direct_sqs, s3, queue):
    body = payload(THRESHOLD + 1)
    esqs.send_message(QueueUrl=queue, MessageBody=body)
    raw = direct_sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert raw["MessageAttributes"] == {"ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(THRESHOLD + 1)}}
    pointer = json.loads(raw["Body"])
    assert raw["Body"] == json.dumps(pointer, separators=(",", ":"))
    assert pointer[0] == POINTER_CLASS and list(pointer[1]) == ["s3BucketName", "s3Key"]
    assert pointer[1]["s3BucketName"] == BUCKET


def test_only_the_attributes_asked_for_are_returned(esqs, queue):
    esqs.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 10), MessageAttributes=ATTRIBUTES)
    message = esqs.receive_message(QueueUrl=queue, MessageAttributeNames=["text"])["Messages"][0]
    assert set(message["MessageAttributes"]) == {"text"}
    assert message["MD5OfMessageAttributes"] == md5_of_attributes({"text": ATTRIBUTES["text"]})
    esqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    bare = esqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "MessageAttributes" not in bare and "MD5OfMessageAttributes" not in bare
    assert bare["Body"] == payload(THRESHOLD + 10)


def test_threshold_boundary_counts_attributes(esqs, s3, queue):
    attribute = {"a": {"DataType": "String", "StringValue": "v"}}
    cases = [
        (payload(THRESHOLD), {}, False),
        (payload(THRESHOLD + 1), {}, True),
        (payload(THRESHOLD - attributes_size(attribute)), attribute, False),
        (payload(THRESHOLD - attributes_size(attribute) + 1), attribute, True),
    ]
    for body, attributes, offloaded in cases:
        before = set(objects(s3))
        esqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=attributes)
        assert (len(set(objects(s3)) - before) == 1) == offloaded, (len(body.encode()), attributes)
    received = receive_all(esqs, queue, len(cases), MessageAttributeNames=["All"])
    assert sorted(m["Body"] for m in received) == sorted(c[0] for c in cases)


def test_batch_offloads_entries_one_by_one(esqs, s3, queue):
    entries = [
        {"Id": "small", "MessageBody": "small body", "MessageAttributes": {"k": ATTRIBUTES["text"]}},
        {"Id": "large", "MessageBody": payload(400_000, "L"), "MessageAttributes": {"n": ATTRIBUTES["count"]}},
        {"Id": "binary", "MessageBody": payload(THRESHOLD + 5, "B"), "MessageAttributes": {"b": ATTRIBUTES["blob"]}},
    ]
    before = set(objects(s3))
    result = esqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert not result.get("Failed")
    assert len(set(objects(s3)) - before) == 2
    by_id = {entry["Id"]: entry for entry in result["Successful"]}
    for entry in entries:
        assert by_id[entry["Id"]]["MD5OfMessageBody"] == md5_of_body(entry["MessageBody"])
        assert by_id[entry["Id"]]["MD5OfMessageAttributes"] == md5_of_attributes(entry["MessageAttributes"])

    received = receive_all(esqs, queue, 3, MessageAttributeNames=["All"])
    assert sorted(m["Body"] for m in received) == sorted(e["MessageBody"] for e in entries)
    for message in received:
        assert message["MD5OfBody"] == md5_of_body(message["Body"])
        assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])

    changed = esqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[{"Id": f"c{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 20} for i, m in enumerate(received)],
    )
    assert len(changed["Successful"]) == 3 and not changed.get("Failed")
    deleted = esqs.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
    )
    assert len(deleted["Successful"]) == 3
    assert set(objects(s3)) == before


def test_batch_over_one_mebibyte_offloads_the_largest(esqs, s3, queue):
    sizes = [250_000, 240_000, 260_000, 230_000, 200_000]
    entries = [{"Id": f"e{i}", "MessageBody": payload(size, str(i))} for i, size in enumerate(sizes)]
    before = set(objects(s3))
    result = esqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert not result.get("Failed")
    stored = set(objects(s3)) - before
    assert len(stored) == 1
    assert s3.get_object(Bucket=BUCKET, Key=stored.pop())["Body"].read() == entries[2]["MessageBody"].encode()
    received = receive_all(esqs, queue, 5)
    assert sorted(m["Body"] for m in received) == sorted(e["MessageBody"] for e in entries)


def test_change_visibility_and_delete_with_marked_handles(esqs, s3, queue):
    body = payload(THRESHOLD + 100)
    esqs.send_message(QueueUrl=queue, MessageBody=body)
    first = esqs.receive_message(QueueUrl=queue, VisibilityTimeout=60)["Messages"][0]
    assert first["ReceiptHandle"].startswith("-..s3BucketName..-")
    esqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    again = esqs.receive_message(QueueUrl=queue, VisibilityTimeout=60)["Messages"][0]
    assert again["MessageId"] == first["MessageId"] and again["Body"] == body
    key = again["ReceiptHandle"].split("-..s3Key..-")[1]
    esqs.delete_message(QueueUrl=queue, ReceiptHandle=again["ReceiptHandle"])
    assert key not in objects(s3)


def test_retain_payloads_keeps_objects(start_proxy, s3, queue):
    client = make_client(start_proxy("--bucket", BUCKET, "--retain-payloads").endpoint)
    client.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1))
    message = client.receive_message(QueueUrl=queue)["Messages"][0]
    key = message["ReceiptHandle"].split("-..s3Key..-")[1]
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key in objects(s3)
    assert "Messages" not in client.receive_message(QueueUrl=queue, VisibilityTimeout=0)


def test_legacy_attribute_name_and_key_prefix(start_proxy, direct_sqs, s3, queue):
    client = make_client(start_proxy("--bucket", BUCKET, "--legacy-attribute-name", "--s3-key-prefix", "tenant-1/").endpoint)
    body = payload(THRESHOLD + 7)
    client.send_message(QueueUrl=queue, MessageBody=body)
    raw = direct_sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
    assert raw["MessageAttributes"] == {"SQSLargePayloadSize": {"DataType": "Number", "StringValue": str(THRESHOLD + 7)}}
    key = json.loads(raw["Body"])[1]["s3Key"]
    assert key.startswith("tenant-1/") and len(key) == len("tenant-1/") + 36
    message = client.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body and "MessageAttributes" not in message


def test_always_through_s3(start_proxy, s3, queue):
    client = make_client(start_proxy("--bucket", BUCKET, "--always-through-s3").endpoint)
    before = set(objects(s3))
    client.send_message(QueueUrl=queue, MessageBody="tiny")
    assert len(set(objects(s3)) - before) == 1
    assert client.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "tiny"


def test_fifo_content_based_deduplication_survives_offload(esqs, direct_sqs):
    url = esqs.create_queue(
        QueueName=f"f-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    body, other = payload(THRESHOLD + 3, "fifo"), payload(THRESHOLD + 3, "other")
    for text in (body, body, other):
        esqs.send_message(QueueUrl=url, MessageBody=text, MessageGroupId="g1")
    messages = []
    for _ in range(5):
        batch = esqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        for message in batch:
            esqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        messages += batch
    assert [m["Body"] for m in messages] == [body, other]
    assert messages[0]["Attributes"]["MessageGroupId"] == "g1"
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(body.encode()).hexdigest()
    direct_sqs.delete_queue(QueueUrl=url)


def test_fifo_explicit_deduplication_id_passes_through(esqs, direct_sqs):
    url = esqs.create_queue(QueueName=f"g-{uuid.uuid4().hex[:12]}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    esqs.send_message(QueueUrl=url, MessageBody=payload(THRESHOLD + 3), MessageGroupId="g", MessageDeduplicationId="d1")
    message = esqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert message["Attributes"]["MessageDeduplicationId"] == "d1"
    direct_sqs.delete_queue(QueueUrl=url)


def reached_sqs(relay, before, action):
    return [r for r in relay.records[before:] if action.encode() in r.body or r.headers.get("x-amz-target", "").endswith(action)]


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"MessageBody": "x", "MessageAttributes": {"ExtendedPayloadSize": {"DataType": "Number", "StringValue": "1"}}}, "InvalidAttributeName"),
        ({"MessageBody": "x", "MessageAttributes": {"SQSLargePayloadSize": {"DataType": "Number", "StringValue": "1"}}}, "InvalidAttributeName"),
        (
            {
                "MessageBody": payload(THRESHOLD + 1),
                "MessageAttributes": {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)},
            },
            "InvalidParameterValue",
        ),
        ({"MessageBody": "x", "MessageAttributes": {"big": {"DataType": "String", "StringValue": "v" * THRESHOLD}}}, "InvalidParameterValue"),
        ({"MessageBody": ""}, "InvalidParameterValue"),
    ],
    ids=["reserved-name", "reserved-legacy-name", "ten-attributes", "attributes-over-threshold", "empty-body"],
)
def test_validation_errors_write_nothing(esqs, s3, relay, queue, kwargs, code):
    before_objects, before_records = set(objects(s3)), len(relay.records)
    with pytest.raises(ClientError) as raised:
        esqs.send_message(QueueUrl=queue, **kwargs)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert set(objects(s3)) == before_objects
    assert not reached_sqs(relay, before_records, "SendMessage")


def test_reserved_name_is_the_modeled_exception(esqs, queue):
    with pytest.raises(esqs.exceptions.InvalidAttributeName):
        esqs.send_message(
            QueueUrl=queue, MessageBody="x", MessageAttributes={"ExtendedPayloadSize": {"DataType": "Number", "StringValue": "1"}}
        )


def test_batch_with_repeated_ids_leaves_s3_as_it_was(esqs, s3, relay, queue):
    """Bodies stored while the batch streamed are kept by entry position: none is left behind."""
    before_objects, before_records = set(objects(s3)), len(relay.records)
    entries = [{"Id": "a", "MessageBody": payload(300_000, str(i))} for i in range(2)]
    with pytest.raises(esqs.exceptions.BatchEntryIdsNotDistinct):
        esqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert set(objects(s3)) == before_objects
    assert not reached_sqs(relay, before_records, "SendMessageBatch")


def test_a_batch_of_eleven_entries_is_refused_and_leaves_nothing(extended_proxy, s3, relay, queue):
    client = make_client(extended_proxy.endpoint, parameter_validation=False)
    before_objects, before_records = set(objects(s3)), len(relay.records)
    entries = [{"Id": str(i), "MessageBody": payload(300_000, str(i))} for i in range(11)]
    with pytest.raises(client.exceptions.TooManyEntriesInBatchRequest):
        client.send_message_batch(QueueUrl=queue, Entries=entries)
    assert set(objects(s3)) == before_objects
    assert not reached_sqs(relay, before_records, "SendMessageBatch")


@pytest.mark.parametrize("size", [100, 300_000], ids=["small", "offloaded"])
def test_the_clients_trace_header_reaches_sqs_unsigned(extended_proxy, relay, queue, size):
    """X-Ray's X-Amzn-Trace-Id sets the message's AWSTraceHeader in SQS: it is forwarded on the send
    it belongs to, and left out of the signature as the SDKs leave it."""
    client = make_client(extended_proxy.endpoint)
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = trace

    client.meta.events.register("before-sign.sqs.*", add_trace_header)
    before = len(relay.records)
    client.send_message(QueueUrl=queue, MessageBody=payload(size))
    sends = reached_sqs(relay, before, "SendMessage")
    assert len(sends) == 1 and sends[0].signature_valid
    assert sends[0].headers.get("x-amzn-trace-id") == trace
    signed = sends[0].headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "x-amzn-trace-id" not in signed


@pytest.mark.parametrize("size", [100, 300_000], ids=["held", "streamed"])
def test_a_message_of_eleven_attributes_is_refused_and_leaves_nothing(esqs, s3, relay, queue, size):
    """SQS takes ten attributes a message; the eleventh is refused before anything is stored or sent."""
    before_objects, before_records = set(objects(s3)), len(relay.records)
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(ClientError) as raised:
        esqs.send_message(QueueUrl=queue, MessageBody=payload(size), MessageAttributes=attributes)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "exceeds the allowed maximum [10]" in raised.value.response["Error"]["Message"]
    assert set(objects(s3)) == before_objects
    assert not reached_sqs(relay, before_records, "SendMessage")


def test_a_request_of_more_items_than_any_sqs_request_is_refused(esqs, relay, queue):
    """500 attribute names: more parameters (Query) or values (JSON) than any valid request has."""
    before_records = len(relay.records)
    with pytest.raises(ClientError) as raised:
        esqs.receive_message(QueueUrl=queue, MessageAttributeNames=[f"name{i}" for i in range(500)])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "more than any SQS request" in raised.value.response["Error"]["Message"]
    assert not reached_sqs(relay, before_records, "ReceiveMessage")
    # The proxy serves on.
    esqs.receive_message(QueueUrl=queue, MessageAttributeNames=[f"name{i}" for i in range(300)])


def test_batch_with_one_invalid_entry_writes_nothing(esqs, s3, relay, queue):
    before_objects, before_records = set(objects(s3)), len(relay.records)
    with pytest.raises(ClientError) as raised:
        esqs.send_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": "ok", "MessageBody": payload(THRESHOLD + 1)}, {"Id": "bad", "MessageBody": ""}],
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert set(objects(s3)) == before_objects
    assert not reached_sqs(relay, before_records, "SendMessageBatch")


def test_body_over_max_payload_size_is_refused(start_proxy, s3, queue):
    client = make_client(start_proxy("--bucket", BUCKET, "--max-payload-size", "300000").endpoint)
    before = set(objects(s3))
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=queue, MessageBody=payload(300_001))
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert set(objects(s3)) == before
    client.send_message(QueueUrl=queue, MessageBody=payload(300_000))
    assert client.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == payload(300_000)


def test_missing_bucket_sends_nothing_to_sqs(start_proxy, relay, direct_sqs, queue):
    client = make_client(start_proxy("--bucket", "no-such-bucket-here").endpoint, retries={"max_attempts": 1, "mode": "standard"})
    before = len(relay.records)
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 500
    assert "no-such-bucket-here" in raised.value.response["Error"]["Message"]
    assert not reached_sqs(relay, before, "SendMessage")
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=queue)


def test_threshold_auto_follows_the_queues_maximum_message_size(start_proxy, s3, relay, direct_sqs):
    """--threshold auto offloads only what would not fit the queue; a queue whose size is lowered
    after the proxy asked is asked again when SQS refuses a message as too long."""
    client = make_client(start_proxy("--bucket", BUCKET, "--threshold", "auto").endpoint)
    queue = client.create_queue(QueueName=f"sized-{uuid.uuid4().hex[:12]}", Attributes={"MaximumMessageSize": "2048"})[
        "QueueUrl"]
    before = set(objects(s3))
    client.send_message(QueueUrl=queue, MessageBody="s" * 2000)
    assert set(objects(s3)) == before
    client.send_message(QueueUrl=queue, MessageBody="l" * 2100)
    assert len(set(objects(s3)) - before) == 1
    # Lowered behind the proxy's back: its remembered 2048 is stale.
    direct_sqs.set_queue_attributes(QueueUrl=queue, Attributes={"MaximumMessageSize": "1024"})
    before_records = len(relay.records)
    client.send_message(QueueUrl=queue, MessageBody="m" * 1500)
    assert len(set(objects(s3)) - before) == 2
    sends = reached_sqs(relay, before_records, "SendMessage")
    assert len(sends) == 2  # refused as too long, then sent with the body in S3
    bodies = sorted(m["Body"] for m in receive_all(client, queue, 3))
    assert bodies == sorted(["s" * 2000, "l" * 2100, "m" * 1500])


def offloaded_key(client, queue):
    """The key of the one message in `queue`, read through the proxy and made visible again."""
    message = client.receive_message(QueueUrl=queue)["Messages"][0]
    client.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return message["ReceiptHandle"].split("-..s3Key..-")[1]


def test_missing_payload_ignored_deletes_the_message(start_proxy, esqs, direct_sqs, s3, queue):
    esqs.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1))
    esqs.send_message(QueueUrl=queue, MessageBody="inline neighbour")
    key = None
    for message in receive_all(esqs, queue, 2):
        if "-..s3Key..-" in message["ReceiptHandle"]:
            key = message["ReceiptHandle"].split("-..s3Key..-")[1]
        esqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    s3.delete_object(Bucket=BUCKET, Key=key)
    client = make_client(start_proxy("--bucket", BUCKET, "--ignore-payload-not-found").endpoint)
    bodies = [m["Body"] for m in receive_all(client, queue, 1)]
    assert bodies == ["inline neighbour"]
    attributes = direct_sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_without_bucket_large_sends_fail_as_in_sqs_but_pointers_are_restored(start_proxy, esqs, queue):
    plain = make_client(start_proxy("--payload-buckets", BUCKET).endpoint)
    with pytest.raises(ClientError) as raised:
        plain.send_message(QueueUrl=queue, MessageBody="a" * 1_048_577)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    body = payload(THRESHOLD + 1)
    esqs.send_message(QueueUrl=queue, MessageBody=body)
    message = plain.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_of_body(body)
    plain.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def test_sqs_failure_after_upload_deletes_the_orphans(esqs, s3, queue):
    missing = queue.rsplit("/", 1)[0] + f"/missing-{uuid.uuid4().hex[:8]}"
    before = set(objects(s3))
    with pytest.raises(esqs.exceptions.QueueDoesNotExist):
        esqs.send_message(QueueUrl=missing, MessageBody=payload(THRESHOLD + 1))
    with pytest.raises(esqs.exceptions.QueueDoesNotExist):
        esqs.send_message_batch(
            QueueUrl=missing,
            Entries=[{"Id": "a", "MessageBody": payload(THRESHOLD + 1)}, {"Id": "b", "MessageBody": payload(THRESHOLD + 2)}],
        )
    assert set(objects(s3)) == before


@pytest.mark.parametrize("fault", ["500", "break"])
@pytest.mark.parametrize("action", ["SendMessage", "SendMessageBatch"])
def test_a_send_sqs_took_keeps_its_payload_whatever_the_answer(
    extended_proxy, relay, s3, direct_sqs, queue, action, fault
):
    """SQS took the message, then the proxy heard a 500 (not in SQS's protocol) or the connection
    broke: the message may be in the queue, so its payload must stay."""
    client = make_client(extended_proxy.endpoint, retries={"max_attempts": 1, "mode": "standard"})
    body = payload(THRESHOLD + 1)
    relay.failed_after_taking[action] = fault
    try:
        with pytest.raises(ClientError) as raised:
            if action == "SendMessage":
                client.send_message(QueueUrl=queue, MessageBody=body)
            else:
                client.send_message_batch(QueueUrl=queue, Entries=[{"Id": "a", "MessageBody": body}])
    finally:
        relay.failed_after_taking.clear()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    held = direct_sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"], VisibilityTimeout=0)["Messages"]
    assert len(held) == 1
    key = json.loads(held[0]["Body"])[1]["s3Key"]
    assert key in objects(s3)
    assert client.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == body


def test_encryption_and_acl_options_reach_s3(start_proxy, s3, queue):
    client = make_client(
        start_proxy(
            "--bucket", BUCKET, "--sse", "aws:kms", "--sse-kms-key-id", "alias/payloads", "--s3-acl", "public-read"
        ).endpoint
    )
    before = set(objects(s3))
    client.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1))
    (key,) = set(objects(s3)) - before
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("alias/payloads")
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert any(
        grant["Permission"] == "READ" and grant["Grantee"].get("URI", "").endswith("/global/AllUsers") for grant in grants
    )


def test_query_request_posted_to_the_queue_path(extended_proxy, esqs, s3, queue):
    """Java SDK v1 posts Query requests to the queue's path and may leave QueueUrl out."""
    body = payload(THRESHOLD + 1, "java1")
    form = "Action=SendMessage&Version=2012-11-05&MessageBody=" + quote(body, safe="")
    endpoint = urlsplit(extended_proxy.endpoint)
    connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
    connection.request(
        "POST", urlsplit(queue).path, body=form.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    response = connection.getresponse()
    answer = response.read().decode()
    assert response.status == 200, answer
    assert f"<MD5OfMessageBody>{md5_of_body(body)}</MD5OfMessageBody>" in answer
    message = esqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body
    assert message["ReceiptHandle"].startswith("-..s3BucketName..-")


def test_the_shipped_lifecycle_rule_is_one_s3_takes(s3):
    """config/s3-lifecycle.json, as the README says to apply it, on a bucket of its own."""
    from pathlib import Path

    rules = json.loads((Path(__file__).resolve().parents[2] / "config" / "s3-lifecycle.json").read_text())
    bucket = f"e2e-lifecycle-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)
        applied = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
        assert applied["abort-incomplete-payload-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
        assert applied["expire-payloads-no-message-can-point-at"]["Expiration"]["Days"] == 29
    finally:
        s3.delete_bucket(Bucket=bucket)
