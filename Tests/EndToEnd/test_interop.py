"""Interoperability with the SQS Extended Client libraries, both directions: what the real Python
library (amazon-sqs-extended-client, talking straight to moto) writes, the proxy restores; what the
proxy writes, the library restores. Plus messages in the Java library's formats, written here by hand."""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import BUCKET
from test_extended import md5_of_attributes, md5_of_body, objects, payload

LIBRARY = Path(__file__).with_name("extended_library.py")


def library(moto, *args):
    """Runs the Python library in its own process (it patches boto3 on import)."""
    python = os.environ.get("E2E_MOTO_PYTHON", sys.executable)
    endpoint = f"http://{moto[0]}:{moto[1]}"
    output = subprocess.run(
        [python, str(LIBRARY), args[0], endpoint, *args[1:]], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return json.loads(output)


def write_body(tmp_path, body):
    path = tmp_path / "body.txt"
    path.write_text(body, encoding="utf-8", newline="")
    return str(path)


@pytest.mark.parametrize("legacy", [False, True], ids=["current-attribute", "legacy-attribute"])
def test_proxy_restores_what_the_python_library_sent(moto, esqs, s3, queue, tmp_path, legacy):
    body = payload(300_000, "py")
    # The library cannot size binary attributes (it calls .encode() on bytes): strings and numbers only.
    attributes = {
        "s": {"DataType": "String", "StringValue": "library ✓"},
        "n": {"DataType": "Number", "StringValue": "-1.5"},
    }
    before = set(objects(s3))
    args = ["send", queue, BUCKET, write_body(tmp_path, body), json.dumps(attributes)]
    sent = library(moto, *args, *(["--legacy"] if legacy else []))
    assert sent["MD5OfMessageBody"] != md5_of_body(body)  # the library's SDK saw the pointer
    (key,) = set(objects(s3)) - before

    message = esqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == md5_of_body(body)
    assert message["MessageAttributes"]["s"]["StringValue"] == "library ✓"
    assert message["MessageAttributes"]["n"] == {"DataType": "Number", "StringValue": "-1.5"}
    assert set(message["MessageAttributes"]) == {"s", "n"}
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])
    assert f"-..s3Key..-{key}-..s3Key..-" in message["ReceiptHandle"]
    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)


def test_python_library_restores_what_the_proxy_sent(moto, esqs, s3, queue):
    body = payload(280_000, "proxy")
    esqs.send_message(
        QueueUrl=queue, MessageBody=body, MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}}
    )
    before = set(objects(s3))
    (message,) = library(moto, "receive", queue, BUCKET, "--delete")
    assert message["Body"] == body
    assert message["MessageAttributes"] == {"n": {"DataType": "Number", "StringValue": "7"}}
    assert message["ReceiptHandle"].startswith(f"-..s3BucketName..-{BUCKET}-..s3BucketName..-")
    assert len(before - set(objects(s3))) == 1  # the library deleted the payload the proxy stored


@pytest.mark.parametrize(
    "pointer_class, attribute",
    [
        ("software.amazon.payloadoffloading.PayloadS3Pointer", "SQSLargePayloadSize"),
        ("com.amazon.sqs.javamessaging.MessageS3Pointer", "SQSLargePayloadSize"),
        ("software.amazon.payloadoffloading.PayloadS3Pointer", "ExtendedPayloadSize"),
    ],
    ids=["java-2-default", "java-1-legacy-class", "java-2-current-attribute"],
)
def test_proxy_restores_messages_in_the_java_formats(esqs, direct_sqs, s3, queue, pointer_class, attribute):
    body = payload(270_000, "java")
    key = str(uuid.uuid4())
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    pointer = json.dumps([pointer_class, {"s3BucketName": BUCKET, "s3Key": key}], separators=(",", ":"))
    direct_sqs.send_message(
        QueueUrl=queue,
        MessageBody=pointer,
        MessageAttributes={
            attribute: {"DataType": "Number", "StringValue": str(len(body.encode()))},
            "trace": {"DataType": "String", "StringValue": "abc"},
        },
    )
    message = esqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert message["MessageAttributes"] == {"trace": {"DataType": "String", "StringValue": "abc"}}
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])
    esqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert key not in objects(s3)


def test_json_lookalike_without_the_reserved_attribute_is_left_alone(esqs, direct_sqs, queue):
    lookalike = json.dumps(
        ["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": BUCKET, "s3Key": "nothing-here"}]
    )
    direct_sqs.send_message(QueueUrl=queue, MessageBody=lookalike)
    message = esqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert message["Body"] == lookalike
    assert not message["ReceiptHandle"].startswith("-..s3BucketName..-")
