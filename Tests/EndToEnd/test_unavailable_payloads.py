"""A received message whose payload cannot be had costs that message alone (issue 23, item 3): it is
not returned and stays in the queue, where its visibility timeout and the queue's redrive policy
take their course; every other message of the receive is delivered."""

import json
import time
import uuid

from conftest import BUCKET, make_client
from test_extended import THRESHOLD, payload
from test_operations import metric, metrics


def pointer_body(key):
    return json.dumps(["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": BUCKET, "s3Key": key}])


def send_pointer(direct_sqs, queue, key, size=THRESHOLD + 1, **kwargs):
    """Writes a pointer message straight into SQS, as a Java or Python producer would."""
    direct_sqs.send_message(
        QueueUrl=queue, MessageBody=pointer_body(key),
        MessageAttributes={"ExtendedPayloadSize": {"DataType": "Number", "StringValue": str(size)}}, **kwargs)


def one_attempt(proxy):
    return make_client(proxy.endpoint, retries={"total_max_attempts": 1, "mode": "standard"})


def test_a_missing_payload_costs_its_message_alone(extended_proxy, direct_sqs, queue):
    missing = f"missing-{uuid.uuid4().hex}"
    send_pointer(direct_sqs, queue, missing)
    for index in range(3):
        direct_sqs.send_message(QueueUrl=queue, MessageBody=f"small {index}")
    before = metric(metrics(extended_proxy), "sqs_proxy_payloads_unavailable_total", reason="not_found")
    client = one_attempt(extended_proxy)

    received = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=2)
    assert sorted(m["Body"] for m in received["Messages"]) == ["small 0", "small 1", "small 2"]
    for message in received["Messages"]:
        client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    after = metric(metrics(extended_proxy), "sqs_proxy_payloads_unavailable_total", reason="not_found")
    assert after == before + 1
    assert missing in extended_proxy.stderr() and "left in the queue" in extended_proxy.stderr()

    # Left in the queue: once its visibility timeout ran out, SQS hands it out again.
    time.sleep(2.5)
    again = direct_sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=2)
    assert [m["Body"] for m in again["Messages"]] == [pointer_body(missing)]
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_receive_of_unavailable_payloads_alone_is_empty(extended_proxy, direct_sqs, queue):
    send_pointer(direct_sqs, queue, f"missing-{uuid.uuid4().hex}")
    received = one_attempt(extended_proxy).receive_message(QueueUrl=queue, VisibilityTimeout=30)
    assert "Messages" not in received


def test_the_redrive_policy_moves_that_message_alone(extended_proxy, esqs, direct_sqs):
    name = f"r-{uuid.uuid4().hex[:12]}"
    dead_letters = direct_sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
    arn = direct_sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = esqs.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "1"})},
    )["QueueUrl"]
    missing = f"missing-{uuid.uuid4().hex}"
    send_pointer(direct_sqs, queue, missing)
    esqs.send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1, "kept"))
    client = one_attempt(extended_proxy)
    try:
        first = client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=1)
        assert [m["Body"] for m in first["Messages"]] == [payload(THRESHOLD + 1, "kept")]
        client.delete_message(QueueUrl=queue, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
        time.sleep(1.5)
        # Received once already: the next receive moves it to the dead-letter queue.
        assert "Messages" not in client.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        moved = direct_sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        assert [m["Body"] for m in moved["Messages"]] == [pointer_body(missing)]
    finally:
        direct_sqs.delete_queue(QueueUrl=queue)
        direct_sqs.delete_queue(QueueUrl=dead_letters)


def test_on_a_fifo_queue_the_rest_of_the_group_waits_with_it(extended_proxy, direct_sqs):
    queue = direct_sqs.create_queue(
        QueueName=f"f-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    try:
        send_pointer(direct_sqs, queue, f"missing-{uuid.uuid4().hex}", MessageGroupId="a")
        direct_sqs.send_message(QueueUrl=queue, MessageBody="a after", MessageGroupId="a")
        direct_sqs.send_message(QueueUrl=queue, MessageBody="b alone", MessageGroupId="b")
        received = one_attempt(extended_proxy).receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=30)
        assert [m["Body"] for m in received.get("Messages", [])] == ["b alone"]
        # The group id the proxy asked SQS for is not handed to a client that did not ask.
        assert "Attributes" not in received["Messages"][0]
    finally:
        direct_sqs.delete_queue(QueueUrl=queue)


def test_a_payload_larger_than_its_size_attribute_says_is_delivered(extended_proxy, s3, direct_sqs, queue):
    key = f"understated-{uuid.uuid4().hex}"
    body = payload(5 * 1024 * 1024 + 7, "understated")
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    send_pointer(direct_sqs, queue, key, size=10)
    message = one_attempt(extended_proxy).receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == body
