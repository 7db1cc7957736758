"""One client's share of Benchmarks/large_vs_library.py, in its own process (the Python extended
client library patches boto3 when imported):

    python sqs_worker.py proxy|library ENDPOINT QUEUE_URL BUCKET SIZE COUNT

Sends COUNT messages of SIZE bytes with boto3 (through the proxy, or with the library straight to
the backend), then receives and deletes them; checks every body; prints one JSON object with the
seconds each phase took and this process's CPU seconds.
"""

import json
import sys
import time

import boto3
from botocore.config import Config

mode, endpoint, queue, bucket, size, count = sys.argv[1:7]
size, count = int(size), int(count)
if mode == "library":
    import sqs_extended_client  # noqa: F401 - patches boto3.Session

CREDENTIALS = dict(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
CONFIG = Config(connect_timeout=60, read_timeout=300, retries={"max_attempts": 1})
sqs = boto3.Session().client("sqs", endpoint_url=endpoint, config=CONFIG, **CREDENTIALS)
if mode == "library":
    sqs.s3_client = boto3.Session().client("s3", endpoint_url=endpoint, config=CONFIG, **CREDENTIALS)
    sqs.large_payload_support = bucket
    sqs.delete_payload_from_s3 = True

body = "x" * size
cpu = time.process_time()
started = time.perf_counter()
for _ in range(count):
    sqs.send_message(QueueUrl=queue, MessageBody=body)
sent = time.perf_counter()
received = 0
while received < count:
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=5).get("Messages", []):
        if message["Body"] != body:
            raise SystemExit("a received body differs from the one sent")
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        received += 1
done = time.perf_counter()
print(json.dumps({"send_seconds": sent - started, "receive_seconds": done - sent, "cpu_seconds": time.process_time() - cpu}))
