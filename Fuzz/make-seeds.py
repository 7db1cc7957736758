"""Writes the seed corpora in Fuzz/Corpus from real traffic: boto3 calls every rewritten action (and a
few others) against a moto server this script starts; the requests botocore sent and the answers
moto gave become seeds, with S3 and STS documents, pointers and receipt handles as the extended
client libraries write them. Run it once with each e2e venv (boto3 of today speaks the JSON
protocol, the legacy one Query; MOTO_PYTHON is the Python whose moto serves):

    .venv-e2e/bin/python Fuzz/make-seeds.py
    MOTO_PYTHON=.venv-e2e/bin/python .venv-e2e-legacy/bin/python Fuzz/make-seeds.py
"""

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "Corpus"
ACTIONS = re.findall(r'case \w+ = "(\w+)"', (ROOT.parent / "Sources/SQSWire/SQSAction.swift").read_text())
RESPONSE_ACTIONS = [
    "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
    "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
]


def seed(target, name, payload, choice=None, cuts=()):
    """One seed file: `[choice, len(cuts), *cuts] + payload` for targets that read a FuzzInput."""
    data = payload if choice is None else bytes([choice, len(cuts), *cuts]) + payload
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:12]
    (folder / f"{name}-{digest}").write_bytes(data)


def start_moto():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [os.environ.get("MOTO_PYTHON", sys.executable), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto did not start")


def main():
    moto, url = start_moto()
    try:
        traffic = capture(url)
    finally:
        moto.terminate()
    json_protocol = any(headers.get("X-Amz-Target") for _, headers, _, _ in traffic)
    protocol_bit = 0 if json_protocol else 1
    tag = "json" if json_protocol else "query"
    for action, headers, body, response in traffic:
        name = f"{tag}-{action}"
        if json_protocol:
            seed("FuzzJSONParser", name, body)
            seed("FuzzJSONParser", name + "-response", response)
        else:
            seed("FuzzXMLReader", name + "-response", response)
        seed("FuzzRequestDecoder", name, body, choice=(ACTIONS.index(action) << 1) | protocol_bit)
        if action in RESPONSE_ACTIONS:
            choice = (RESPONSE_ACTIONS.index(action) << 1) | protocol_bit
            seed("FuzzResponseCodec", name, response, choice=choice)
        if action in ("SendMessage", "SendMessageBatch"):
            choice = protocol_bit | (2 if action == "SendMessageBatch" else 0)
            seed("FuzzStreamingReaders", name, body, choice=choice)
            seed("FuzzStreamingReaders", name + "-cut", body, choice=choice, cuts=(6, 0, 200, 31))
            unescaper_seeds(tag, body, json_protocol)
        signature_seeds(name, headers)
    payload_codec_seeds()
    s3_and_sts_seeds()


def capture(url):
    """(action, request headers, request body, response body) of each call made."""
    client = boto3.client(
        "sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDSEED",
        aws_secret_access_key="seed-secret", aws_session_token="seed-token",
    )
    traffic = []
    sent = {}

    def before_send(request, **_):
        sent["headers"] = dict(request.headers)
        sent["body"] = request.body if isinstance(request.body, bytes) else (request.body or "").encode()

    def received(response_dict, context, **_):
        action = context.get("operation_name") if context else None
        if action is None:
            return
        headers = {key: value.decode() if isinstance(value, bytes) else value for key, value in sent["headers"].items()}
        traffic.append((action, headers, sent["body"], response_dict["body"]))

    client.meta.events.register("before-send.sqs.*", before_send)
    client.meta.events.register("response-received.sqs.*", received)
    client.meta.events.register(
        "before-call.sqs.*", lambda model, context, **_: context.__setitem__("operation_name", model.name)
    )
    queue = client.create_queue(QueueName="seeds", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    fifo = client.create_queue(
        QueueName="seeds.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    client.get_queue_url(QueueName="seeds")
    client.list_queues(QueueNamePrefix="se")
    client.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
    attributes = {
        "text": {"DataType": "String", "StringValue": "caf\u00e9 \u2603 \"quoted\" <tag> & more"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
        "custom": {"DataType": "String.custom", "StringValue": "x"},
    }
    pointer = '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"k-1"}]'
    client.send_message(QueueUrl=queue, MessageBody="hello \u00e9\n\t\"world\" \\ \U0001f600", MessageAttributes=attributes)
    client.send_message(
        QueueUrl=queue, MessageBody=pointer,
        MessageAttributes={"ExtendedPayloadSize": {"DataType": "Number", "StringValue": "300000"}},
    )
    client.send_message(QueueUrl=fifo, MessageBody="in order", MessageGroupId="g", MessageDeduplicationId="d")
    client.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "MessageBody": "first & second = third+fourth%", "DelaySeconds": 0},
            {"Id": "b", "MessageBody": "x" * 300, "MessageAttributes": attributes},
            {"Id": "c", "MessageBody": pointer,
             "MessageAttributes": {"SQSLargePayloadSize": {"DataType": "Number", "StringValue": "5"}}},
        ],
    )
    messages = client.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    )
    handles = [m["ReceiptHandle"] for m in messages.get("Messages", [])]
    marked = f"-..s3BucketName..-payloads-..s3BucketName..--..s3Key..-k-1-..s3Key..-{handles[0]}"
    client.change_message_visibility(QueueUrl=queue, ReceiptHandle=handles[0], VisibilityTimeout=5)
    client.change_message_visibility_batch(
        QueueUrl=queue, Entries=[{"Id": "1", "ReceiptHandle": h, "VisibilityTimeout": 0} for h in handles[:2]]
    )
    try:
        client.delete_message(QueueUrl=queue, ReceiptHandle=marked)
    except botocore.exceptions.ClientError:
        pass
    client.delete_message(QueueUrl=queue, ReceiptHandle=handles[0])
    client.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[1:3])]
    )
    client.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1, AttributeNames=["All"])
    client.tag_queue(QueueUrl=queue, Tags={"team": "orders"})
    client.list_queue_tags(QueueUrl=queue)
    client.set_queue_attributes(QueueUrl=queue, Attributes={"DelaySeconds": "1"})
    client.purge_queue(QueueUrl=queue)
    client.delete_queue(QueueUrl=queue)
    return traffic


def unescaper_seeds(tag, body, json_protocol):
    """The message bodies of a send as they are on the wire, closed as each protocol closes them."""
    text = body.decode()
    if json_protocol:
        for match in re.finditer(r'"MessageBody":\s*"((?:[^"\\]|\\.)*)"', text):
            seed("FuzzUnescapers", f"{tag}-body", (match.group(1) + '"').encode(), choice=0)
            seed("FuzzUnescapers", f"{tag}-body-cut", (match.group(1) + '"').encode(), choice=0, cuts=(0, 2, 5))
    else:
        for match in re.finditer(r"MessageBody=([^&]*)", text):
            seed("FuzzUnescapers", f"{tag}-body", (match.group(1) + "&").encode(), choice=1)
            seed("FuzzUnescapers", f"{tag}-body-cut", match.group(1).encode(), choice=1, cuts=(0, 1, 2))


def signature_seeds(name, headers):
    """A request as the verifier sees it: path, query, then one header a line."""
    lines = ["/", ""] + [f"{key}:{value}" for key, value in headers.items()]
    text = "\n".join(lines).encode()
    seed("FuzzSignatureVerifier", name + "-received", text, choice=0)
    unsigned = "\n".join(["/queue/seeds", "a=b&c=d"] + [
        f"{key}:{value}" for key, value in headers.items() if key.lower() not in ("authorization", "x-amz-date")
    ]).encode()
    seed("FuzzSignatureVerifier", name + "-signed", unsigned, choice=1)


def payload_codec_seeds():
    pointers = [
        '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"a1b2-c3"}]',
        '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k"}]',
        '["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3Key": "k\\u00e9", "s3BucketName": "b"}]',
    ]
    for index, pointer in enumerate(pointers):
        seed("FuzzPayloadCodecs", f"pointer-{index}", pointer.encode(), choice=0)
    handles = [
        "-..s3BucketName..-payloads-..s3BucketName..--..s3Key..-a1b2-c3-..s3Key..-AQEBzW5...handle==",
        "-..s3BucketName..-b-..s3BucketName..--..s3Key..-k-..s3Key..--..s3BucketName..-c-..s3BucketName..-",
    ]
    for index, handle in enumerate(handles):
        seed("FuzzPayloadCodecs", f"handle-{index}", handle.encode(), choice=1)


def s3_and_sts_seeds():
    """Documents of the shapes the S3 and STS clients read (from the services' documentation)."""
    documents = {
        "s3-initiate-multipart": '<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult '
        'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>payloads</Bucket><Key>k</Key>'
        "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
        "</InitiateMultipartUploadResult>",
        "s3-error": '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The '
        "specified key does not exist.</Message><Key>k</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>",
        "s3-slowdown": "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        "sts-web-identity": '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials><SessionToken>AQoDYXdzEE0a8ANXXXXXXXX</SessionToken>"
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
        "<Expiration>2026-12-02T01:07:45Z</Expiration><AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>"
        "</Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>"
        "ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>",
        "cdata-and-entities": "<A><![CDATA[<not markup>]]>&amp;&lt;&#x41;&#66;<B>t</B></A>",
    }
    for name, document in documents.items():
        seed("FuzzXMLReader", name, document.encode())


if __name__ == "__main__":
    main()
