"""Payloads that arrive through SNS: the real SNS Extended Client (amazon-sns-extended-client 1.0.1,
talking straight to moto) publishes to a topic; moto delivers to an SQS subscription, in an SNS
envelope or raw; the proxy restores the payload either way."""

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import BUCKET, moto_client
from test_extended import md5_of_body, objects, payload

LIBRARY = Path(__file__).with_name("sns_library.py")


def publish(moto, topic, body, tmp_path, legacy=False):
    """Publishes `body` with the SNS library in its own process (it patches boto3 on import)."""
    path = tmp_path / "body.txt"
    path.write_text(body, encoding="utf-8", newline="")
    python = os.environ.get("E2E_MOTO_PYTHON", sys.executable)
    arguments = [python, str(LIBRARY), "publish", f"http://{moto[0]}:{moto[1]}", topic, BUCKET, str(path)]
    output = subprocess.run(arguments + (["--legacy"] if legacy else []), check=True, capture_output=True, text=True, timeout=60)
    return json.loads(output.stdout)


@pytest.fixture
def topic(moto, direct_sqs, queue):
    """A topic whose notifications go to `queue` in envelopes; yields (topic ARN, subscription ARN)."""
    sns = moto_client(moto, "sns")
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:12]}")["TopicArn"]
    queue_arn = direct_sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    yield sns, arn, subscription
    sns.delete_topic(TopicArn=arn)


def message_value(envelope):
    """The text of an envelope before and after the value of its `Message` member."""
    start = re.search(r'"Message"\s*:\s*', envelope).end()
    _, length = json.JSONDecoder().raw_decode(envelope[start:])
    return envelope[:start], envelope[start + length:]


@pytest.mark.parametrize(
    "size, legacy",
    [(300_000, False), (1_500_000, False), (300_000, True)],
    ids=["held", "streamed", "legacy-attribute"],
)
def test_a_payload_in_an_envelope_is_restored_inside_it(moto, esqs, direct_sqs, s3, queue, topic, tmp_path, size, legacy):
    _, arn, _ = topic
    body = payload(size - 40, "sns") + '\n"quoted" \\ tab\t ü ✓ </Body>'
    before = set(objects(s3))
    publish(moto, arn, body, tmp_path, legacy=legacy)
    (key,) = set(objects(s3)) - before

    # Seen through the proxy, then again straight from SQS (visibility 0) to compare with what SNS wrote.
    message = esqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, WaitTimeSeconds=2)["Messages"][0]
    original = direct_sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]
    restored = message["Body"]
    envelope = json.loads(restored)
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == arn
    assert envelope["Message"] == body
    assert message["MD5OfBody"] == md5_of_body(restored)
    # Every byte but the Message member's value is SNS's.
    prefix, suffix = message_value(original["Body"])
    assert restored.startswith(prefix) and restored.endswith(suffix)
    assert json.loads(original["Body"])["Message"].startswith('["')
    assert message["ReceiptHandle"].startswith("-..s3BucketName..-")

    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)
    assert "Messages" not in direct_sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0, WaitTimeSeconds=0)


def test_raw_delivery_is_a_plain_offloaded_message(moto, esqs, s3, queue, topic, tmp_path):
    sns, arn, subscription = topic
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RawMessageDelivery", AttributeValue="true")
    body = payload(300_000, "raw")
    before = set(objects(s3))
    publish(moto, arn, body, tmp_path)
    (key,) = set(objects(s3)) - before
    message = esqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body
    assert "ExtendedPayloadSize" not in message.get("MessageAttributes", {})
    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)


def test_retained_payloads_stay_after_the_envelope_is_deleted(moto, start_proxy, s3, queue, topic, tmp_path):
    from conftest import make_client

    client = make_client(start_proxy("--bucket", BUCKET, "--retain-payloads").endpoint)
    _, arn, _ = topic
    before = set(objects(s3))
    publish(moto, arn, payload(300_000, "kept"), tmp_path)
    (key,) = set(objects(s3)) - before
    message = client.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]
    assert json.loads(message["Body"])["Message"] == payload(300_000, "kept")
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key in objects(s3)


def test_an_envelope_that_is_not_strictly_one_is_left_alone(esqs, direct_sqs, s3, queue):
    pointer = json.dumps(["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": BUCKET, "s3Key": "k"}])
    lookalikes = [
        {"Type": "SubscriptionConfirmation", "Message": pointer, "MessageAttributes": {"ExtendedPayloadSize": {"Type": "Number", "Value": "9"}}},
        {"Type": "Notification", "Message": pointer},
        {"Type": "Notification", "Message": "not a pointer: S3Pointer", "MessageAttributes": {"ExtendedPayloadSize": {"Type": "Number", "Value": "9"}}},
    ]
    for lookalike in lookalikes:
        direct_sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(lookalike))
    seen = []
    for _ in range(5):
        seen += [m["Body"] for m in esqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])]
        if len(seen) == len(lookalikes):
            break
    assert sorted(seen) == sorted(json.dumps(lookalike) for lookalike in lookalikes)
