"""Runs the real Python SQS Extended Client library (amazon-sqs-extended-client) against moto.

It replaces boto3's Session class when imported, so the tests run it in a separate process:
    python extended_library.py send ENDPOINT QUEUE_URL BUCKET BODY_FILE [ATTRIBUTES_JSON] [--legacy]
    python extended_library.py receive ENDPOINT QUEUE_URL BUCKET [--delete]
Output: one JSON document on standard output.
"""

import base64
import json
import sys

import boto3
import sqs_extended_client  # noqa: F401 - patches boto3.Session

REGION = "us-east-1"
CREDENTIALS = dict(aws_access_key_id="AKIALIBRARY", aws_secret_access_key="library", region_name=REGION)


def client(endpoint, bucket, legacy=False):
    sqs = boto3.Session().client("sqs", endpoint_url=endpoint, **CREDENTIALS)
    sqs.s3_client = boto3.Session().client("s3", endpoint_url=endpoint, **CREDENTIALS)
    sqs.large_payload_support = bucket
    sqs.use_legacy_attribute = legacy
    sqs.delete_payload_from_s3 = True
    return sqs


def main(argv):
    command, endpoint, queue, bucket = argv[:4]
    if command == "send":
        with open(argv[4], encoding="utf-8", newline="") as f:
            body = f.read()
        attributes = json.loads(argv[5]) if len(argv) > 5 and not argv[5].startswith("--") else {}
        for value in attributes.values():
            if "BinaryValue" in value:
                value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        sqs = client(endpoint, bucket, legacy="--legacy" in argv)
        response = sqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=attributes)
        print(json.dumps({"MessageId": response["MessageId"], "MD5OfMessageBody": response["MD5OfMessageBody"]}))
    elif command == "receive":
        sqs = client(endpoint, bucket)
        messages = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])
        output = []
        for message in messages:
            attributes = {}
            for name, value in message.get("MessageAttributes", {}).items():
                if "BinaryValue" in value:
                    value = dict(value, BinaryValue=base64.b64encode(value["BinaryValue"]).decode())
                attributes[name] = value
            output.append({"Body": message["Body"], "MessageAttributes": attributes, "ReceiptHandle": message["ReceiptHandle"]})
            if "--delete" in argv:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        print(json.dumps(output))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
