"""What the proxy lends its AWS identity to: payload buckets it may read and delete in, client
authentication with SigV4, and settings it refuses at start. Real boto3 clients in this virtualenv's
protocol, moto behind the signature-checking relay."""

import datetime
import json
import subprocess
import time
import types
import urllib.request
import uuid
from urllib.parse import urlsplit
from contextlib import contextmanager
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BUCKET, PROXY_BIN, REGION, ProxyProcess, make_client
from test_extended import THRESHOLD, md5_of_body, objects, payload
from test_multipart import s3_relay  # noqa: F401 (fixture)

POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"


@pytest.fixture
def other_bucket(s3):
    """A second bucket, with one object in it: someone else's data the proxy's role could reach."""
    name = f"e2e-other-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="secret/report", Body=b"someone else's data")
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def marked(bucket, key, handle):
    return f"-..s3BucketName..-{bucket}-..s3BucketName..--..s3Key..-{key}-..s3Key..-{handle}"


def refused_count(proxy, operation):
    text = urllib.request.urlopen(f"{proxy.admin}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith("sqs_proxy_payloads_refused_total") and f'operation="{operation}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def send_pointer(direct_sqs, queue, bucket, key, size=300_000):
    """A pointer written straight into the queue, as anyone allowed to send to it could."""
    direct_sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps([POINTER_CLASS, {"s3BucketName": bucket, "s3Key": key}], separators=(",", ":")),
        MessageAttributes={"ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(size)}},
    )


# Payload buckets


def test_forged_handle_markers_leave_another_buckets_object(start_proxy, s3, other_bucket, direct_sqs, queue):
    proxy = start_proxy("--bucket", BUCKET)
    client = make_client(proxy.endpoint)
    for body in ("first", "second", "third"):
        client.send_message(QueueUrl=queue, MessageBody=body)
    messages = []
    while len(messages) < 3:
        messages += client.receive_message(QueueUrl=queue, MaxNumberOfMessages=3, VisibilityTimeout=60)["Messages"]
    forged = [marked(other_bucket, "secret/report", m["ReceiptHandle"]) for m in messages]

    client.change_message_visibility(QueueUrl=queue, ReceiptHandle=forged[0], VisibilityTimeout=50)
    client.delete_message(QueueUrl=queue, ReceiptHandle=forged[0])
    client.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": "b", "ReceiptHandle": forged[1]}, {"Id": "c", "ReceiptHandle": forged[2]}]
    )

    assert s3.get_object(Bucket=other_bucket, Key="secret/report")["Body"].read() == b"someone else's data"
    # The SQS part went through: every message is gone.
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, WaitTimeSeconds=1)
    assert refused_count(proxy, "delete") == 3
    assert refused_count(proxy, "change_visibility") == 1
    log = proxy.stderr(whole=True)
    assert log.count("payload outside the payload locations left alone") == 4
    assert f"bucket={other_bucket}" in log or f'"bucket":"{other_bucket}"' in log
    assert "secret/report" in log and queue.rsplit("/", 1)[1] in log


def test_payloads_are_scoped_by_the_key_prefix(start_proxy, s3, direct_sqs, queue):
    """Two applications on one bucket: a pointer or a marker naming the other's prefix is left alone."""
    run = uuid.uuid4().hex[:8]
    own, theirs = f"app1-{run}/", f"app2-{run}/"
    s3.put_object(Bucket=BUCKET, Key=f"{theirs}report", Body=b"app2's data")
    proxy = start_proxy("--bucket", BUCKET, "--s3-key-prefix", own)
    client = make_client(proxy.endpoint)
    body = payload(THRESHOLD + 10)
    client.send_message(QueueUrl=queue, MessageBody=body)
    assert [key for key in objects(s3, own)], "the proxy stores under its own prefix"
    send_pointer(direct_sqs, queue, BUCKET, f"{theirs}report")

    messages = []
    for _ in range(10):
        messages += client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", [])
        if len(messages) == 2:
            break
    by_kind = {("pointer" if m["Body"].startswith('["') else "own"): m for m in messages}
    assert by_kind["own"]["Body"] == body
    assert json.loads(by_kind["pointer"]["Body"])[1]["s3Key"] == f"{theirs}report"
    assert refused_count(proxy, "receive") == 1
    # A marker naming the other prefix: the message goes, the object stays.
    client.delete_message(QueueUrl=queue, ReceiptHandle=marked(BUCKET, f"{theirs}report", by_kind["pointer"]["ReceiptHandle"]))
    client.delete_message(QueueUrl=queue, ReceiptHandle=by_kind["own"]["ReceiptHandle"])
    assert s3.get_object(Bucket=BUCKET, Key=f"{theirs}report")["Body"].read() == b"app2's data"
    assert objects(s3, own) == []
    assert refused_count(proxy, "delete") == 1


def test_a_prefix_without_a_slash_is_warned_about(start_proxy):
    proxy = start_proxy("--bucket", BUCKET, "--s3-key-prefix", "app2/", "--payload-buckets", f"{BUCKET}/app1,{BUCKET}/app2/")
    make_client(proxy.endpoint).list_queues()
    log = proxy.stderr(whole=True)
    assert "prefix does not end in /" in log and f"{BUCKET}/app1" in log
    assert f"{BUCKET}/app2/" not in log.split("prefix does not end in /")[1].splitlines()[0]


def sns_envelope(bucket, key):
    """An SNS notification of a pointer, as SNS delivers one without raw delivery."""
    pointer = json.dumps([POINTER_CLASS, {"s3BucketName": bucket, "s3Key": key}])
    return json.dumps({
        "Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "Message": pointer, "MessageAttributes": {"ExtendedPayloadSize": {"Type": "Number", "Value": "300000"}},
    })


def test_a_client_cannot_plant_a_pointer_in_an_sns_envelope(extended_proxy, esqs, relay, s3, queue):
    s3.put_object(Bucket=BUCKET, Key="victim/report", Body=b"someone's payload")
    before = len(relay.records)
    with pytest.raises(ClientError) as raised:
        esqs.send_message(QueueUrl=queue, MessageBody=sns_envelope(BUCKET, "victim/report"))
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        esqs.send_message_batch(QueueUrl=queue, Entries=[
            {"Id": "plain", "MessageBody": "hello"}, {"Id": "planted", "MessageBody": sns_envelope(BUCKET, "victim/report")}])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert not [r for r in relay.records[before:] if b"victim" in r.body]
    # A notification without a pointer is any other body.
    esqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"Type": "Notification", "Message": "hello"}))
    assert s3.get_object(Bucket=BUCKET, Key="victim/report")["Body"].read() == b"someone's payload"


def test_pointer_to_another_bucket_is_delivered_unresolved(start_proxy, s3_relay, s3, other_bucket, direct_sqs, queue):
    proxy = start_proxy("--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint)
    client = make_client(proxy.endpoint)
    body = payload(THRESHOLD + 10)
    client.send_message(QueueUrl=queue, MessageBody=body)
    send_pointer(direct_sqs, queue, other_bucket, "secret/report")

    messages = []
    for _ in range(10):
        messages += client.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if len(messages) == 2:
            break
    by_kind = {("pointer" if m["Body"].startswith('["') else "own"): m for m in messages}
    # The receive as a whole succeeded: the message of the proxy's own bucket is restored.
    assert by_kind["own"]["Body"] == body
    foreign = by_kind["pointer"]
    assert json.loads(foreign["Body"]) == [POINTER_CLASS, {"s3BucketName": other_bucket, "s3Key": "secret/report"}]
    assert foreign["MD5OfBody"] == md5_of_body(foreign["Body"])
    assert foreign["MessageAttributes"]["ExtendedPayloadSize"]["StringValue"] == "300000"
    assert not foreign["ReceiptHandle"].startswith("-..s3BucketName..-")
    assert not [path for _, path in s3_relay.records if other_bucket in path]
    assert refused_count(proxy, "receive") == 1
    assert "payload outside the payload locations left alone" in proxy.stderr(whole=True)
    client.delete_message(QueueUrl=queue, ReceiptHandle=foreign["ReceiptHandle"])
    assert s3.get_object(Bucket=other_bucket, Key="secret/report")["Body"].read() == b"someone else's data"


@pytest.mark.parametrize("setting", ["both", "any"])
def test_payload_buckets_naming_both_buckets_serve_both(start_proxy, s3, other_bucket, direct_sqs, queue, setting):
    buckets = f"{BUCKET},{other_bucket}" if setting == "both" else "*"
    proxy = start_proxy("--bucket", BUCKET, "--payload-buckets", buckets)
    client = make_client(proxy.endpoint)
    own = payload(THRESHOLD + 10)
    client.send_message(QueueUrl=queue, MessageBody=own)
    theirs = payload(THRESHOLD + 20, seed="y")
    s3.put_object(Bucket=other_bucket, Key="theirs/payload", Body=theirs.encode())
    send_pointer(direct_sqs, queue, other_bucket, "theirs/payload", size=len(theirs.encode()))

    messages = []
    for _ in range(10):
        messages += client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if len(messages) == 2:
            break
    assert sorted(m["Body"] for m in messages) == sorted([own, theirs])
    for message in messages:
        assert message["ReceiptHandle"].startswith("-..s3BucketName..-")
        client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert "theirs/payload" not in [o["Key"] for o in s3.list_objects_v2(Bucket=other_bucket).get("Contents", [])]
    assert refused_count(proxy, "receive") == 0 and refused_count(proxy, "delete") == 0


def test_without_a_bucket_nothing_is_read_unless_payload_buckets_say_so(start_proxy, esqs, queue):
    body = payload(THRESHOLD + 1)
    esqs.send_message(QueueUrl=queue, MessageBody=body)
    plain = make_client(start_proxy().endpoint)
    message = plain.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"][0]
    assert message["Body"].startswith(f'["{POINTER_CLASS}"')


# Client authentication

APP_KEY, APP_SECRET = "AKIAAPPLICATION", "application-secret"


def write_keys(path, keys):
    path.write_text("".join(f"[k{i}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n" for i, (k, s) in enumerate(keys)))


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "client-credentials"
    write_keys(path, [(APP_KEY, APP_SECRET)])
    return path


@pytest.fixture
def authenticating_proxy(start_proxy, keys_file):
    return start_proxy("--bucket", BUCKET, "--client-credentials", str(keys_file))


def client_with(proxy, key=APP_KEY, secret=APP_SECRET, **config):
    """A client that signs with `key` and `secret` and does not retry."""
    settings = dict(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=40, connect_timeout=5)
    settings.update(config)
    return boto3.client(
        "sqs",
        endpoint_url=proxy.endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**settings),
    )


def error_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


@contextmanager
def signing_clock(offset):
    """Makes botocore sign as if its clock were `offset` away."""
    if hasattr(botocore.auth, "get_current_datetime"):
        real = botocore.auth.get_current_datetime
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: real(*a, **k) + offset):
            yield
        return

    class Shifted(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime.utcnow() + offset

    with mock.patch.object(botocore.auth, "datetime", types.SimpleNamespace(datetime=Shifted)):
        yield


def test_the_right_key_works(authenticating_proxy, s3, queue):
    client = client_with(authenticating_proxy)
    body = payload(THRESHOLD + 5)
    client.send_message(QueueUrl=queue, MessageBody=body)
    message = client.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    # The queue was created through another proxy: the URL points at this one, same path.
    url = client.get_queue_url(QueueName=queue.rsplit("/", 1)[1])["QueueUrl"]
    assert url == authenticating_proxy.endpoint + urlsplit(queue).path


def test_unknown_key_wrong_secret_old_signature_and_none_are_refused(authenticating_proxy, relay, queue):
    since = len(relay.records)
    assert error_of(lambda: client_with(authenticating_proxy, key="AKIAUNKNOWN").list_queues()) == (
        "InvalidClientTokenId",
        403,
    )
    assert error_of(lambda: client_with(authenticating_proxy, secret="wrong").list_queues()) == (
        "SignatureDoesNotMatch",
        403,
    )
    with signing_clock(datetime.timedelta(minutes=-20)):
        assert error_of(lambda: client_with(authenticating_proxy).list_queues()) == ("RequestExpired", 403)
    with signing_clock(datetime.timedelta(minutes=20)):
        assert error_of(lambda: client_with(authenticating_proxy).list_queues()) == ("RequestExpired", 403)
    unsigned = client_with(authenticating_proxy, signature_version=UNSIGNED)
    assert error_of(lambda: unsigned.list_queues()) == ("MissingAuthenticationToken", 403)
    # A large send with a wrong secret: refused before anything reaches SQS.
    assert error_of(
        lambda: client_with(authenticating_proxy, secret="wrong").send_message(
            QueueUrl=queue, MessageBody=payload(THRESHOLD + 1)
        )
    ) == ("SignatureDoesNotMatch", 403)
    assert relay.records[since:] == []
    # Within the allowed skew the clock may differ.
    with signing_clock(datetime.timedelta(minutes=-10)):
        client_with(authenticating_proxy).list_queues()


def test_headers_that_change_a_request_must_be_signed(authenticating_proxy, relay):
    """Headers added after botocore signed: x-amz-* ones are refused, trace headers are not."""
    def adding(headers):
        client = client_with(authenticating_proxy)

        def add(request, **_):
            for name, value in headers.items():
                request.headers[name] = value

        client.meta.events.register_last("before-send.sqs.*", add)
        return client

    since = len(relay.records)
    code, status = error_of(lambda: adding({"X-Amz-Sneaky": "1"}).list_queues())
    assert (code, status) == ("IncompleteSignature", 400)
    assert relay.records[since:] == []
    # As the SDKs leave them unsigned: the trace header and the SDK's own user agent.
    adding({"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793", "X-Amz-User-Agent": "sdk/1"}).list_queues()


def test_streamed_send_with_a_wrong_secret_leaves_nothing(authenticating_proxy, relay, s3, direct_sqs, queue):
    before = set(objects(s3))
    since = len(relay.records)
    client = client_with(authenticating_proxy, secret="wrong", connect_timeout=60, read_timeout=300)
    assert error_of(lambda: client.send_message(QueueUrl=queue, MessageBody=payload(20 * 1024 * 1024))) == (
        "SignatureDoesNotMatch",
        403,
    )
    assert set(objects(s3)) == before
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    assert relay.records[since:] == []
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, WaitTimeSeconds=1)
    # The same send with the right key goes through.
    body = payload(20 * 1024 * 1024)
    patient = client_with(authenticating_proxy, connect_timeout=60, read_timeout=300)
    patient.send_message(QueueUrl=queue, MessageBody=body)
    assert patient.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == body


def test_a_rotated_file_is_taken_without_a_restart(authenticating_proxy, keys_file):
    client_with(authenticating_proxy).list_queues()
    write_keys(keys_file, [("AKIAROTATED", "rotated-secret")])
    deadline = time.time() + 10
    while True:
        try:
            client_with(authenticating_proxy, key="AKIAROTATED", secret="rotated-secret").list_queues()
            break
        except ClientError:
            assert time.time() < deadline, "the rotated key was not taken within 10 s"
            time.sleep(0.2)
    assert error_of(lambda: client_with(authenticating_proxy).list_queues()) == ("InvalidClientTokenId", 403)
    # A broken file keeps the keys that work.
    keys_file.write_text("[broken]\naws_access_key_id = AKIAHALF\n")
    time.sleep(2.5)
    client_with(authenticating_proxy, key="AKIAROTATED", secret="rotated-secret").list_queues()
    assert "client credentials file not taken" in authenticating_proxy.stderr(whole=True)


def test_listening_beyond_loopback_without_authentication_is_warned(start_proxy, keys_file):
    warning = "clients are not authenticated"
    assert warning not in start_proxy().stderr(whole=True)
    wide = ProxyProcess(["--region", REGION, "--listen", "0.0.0.0:0"])
    try:
        assert wide.stderr(whole=True).count(warning) == 1
    finally:
        wide.stop()
    guarded = ProxyProcess(["--region", REGION, "--listen", "0.0.0.0:0", "--client-credentials", str(keys_file)])
    try:
        assert warning not in guarded.stderr(whole=True)
    finally:
        guarded.stop()


# Two defects


def test_a_failed_queue_lookup_leaves_no_payload_behind(esqs, relay, s3, direct_sqs):
    """Bodies offloaded to fit a FIFO batch (each within the threshold, together over 1 MiB) are
    stored after the queue's deduplication setting is known: when GetQueueAttributes fails, nothing
    is left in S3."""
    url = direct_sqs.create_queue(
        QueueName=f"q-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    before = set(objects(s3))
    entries = [{"Id": str(i), "MessageBody": payload(250_000, seed=str(i)), "MessageGroupId": "g"} for i in range(5)]
    relay.dropped_actions.add("GetQueueAttributes")
    try:
        assert error_of(lambda: esqs.send_message_batch(QueueUrl=url, Entries=entries))[1] == 503
    finally:
        relay.dropped_actions.discard("GetQueueAttributes")
    assert set(objects(s3)) == before
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    # Once the lookup works, the same batch goes through with one entry offloaded.
    assert len(esqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 5
    assert len(set(objects(s3)) - before) == 1
    direct_sqs.delete_queue(QueueUrl=url)


# Settings refused at start


@pytest.mark.parametrize(
    "args, named",
    [
        (["--region", "us east:1"], "region"),
        (["--region", "eu/west-1"], "region"),
        (["--region", REGION, "--sqs-endpoint", "http://a b"], "sqs-endpoint"),
        (["--region", REGION, "--s3-endpoint", "https://user@evil.example"], "s3-endpoint"),
        (["--region", REGION, "--bucket", "own-bucket", "--payload-buckets", "other-bucket"], "payload-buckets"),
        (["--region", REGION, "--client-credentials", "/nonexistent/keys"], "client-credentials"),
    ],
)
def test_bad_settings_stop_the_start_with_one_line(args, named):
    result = subprocess.run(
        [PROXY_BIN, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", *args],
        env={"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_EC2_METADATA_DISABLED": "true"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode > 0, "a crash, not a refusal"
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and named in errors[0], result.stderr
    assert "Fatal error" not in result.stderr
