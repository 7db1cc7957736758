"""One client's share of Benchmarks/large_vs_library.py and large_over_network.py, in its own
process (the Python extended client library patches boto3 when imported):

    python sqs_worker.py proxy|library|transfer ENDPOINT QUEUE_URL BUCKET SIZE COUNT [S3_ENDPOINT]

Sends COUNT messages of SIZE bytes with boto3 (through the proxy, or with the library straight to
the backend), then receives and deletes them; checks every body. `transfer` does the same with
objects instead of messages, through boto3's S3 transfer manager (parallel parts and ranges, its
defaults): upload, download, delete. Prints one JSON object with the seconds each phase took, this
process's CPU seconds and its peak resident memory.
"""

import io
import json
import resource
import sys
import time

import boto3
from botocore.config import Config

mode, endpoint, queue, bucket, size, count = sys.argv[1:7]
size, count = int(size), int(count)
# S3 at ENDPOINT unless given apart.
s3_endpoint = sys.argv[7] if len(sys.argv) > 7 else endpoint
if mode == "library":
    import sqs_extended_client  # noqa: F401 - patches boto3.Session

CREDENTIALS = dict(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
CONFIG = Config(connect_timeout=60, read_timeout=300, retries={"max_attempts": 1})
# Bodies sent as they are (no aws-chunked trailers), as every S3 stand-in takes them.
S3_CONFIG = CONFIG.merge(Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"))
sqs = boto3.Session().client("sqs", endpoint_url=endpoint, config=CONFIG, **CREDENTIALS)
if mode == "library":
    sqs.s3_client = boto3.Session().client("s3", endpoint_url=s3_endpoint, config=S3_CONFIG, **CREDENTIALS)
    sqs.large_payload_support = bucket
    sqs.delete_payload_from_s3 = True

body = "x" * size
cpu = time.process_time()
started = time.perf_counter()


def report(sent, done):
    print(json.dumps({
        "send_seconds": sent - started, "receive_seconds": done - sent, "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if mode == "transfer":
    s3 = boto3.Session().client("s3", endpoint_url=s3_endpoint, config=S3_CONFIG, **CREDENTIALS)
    data = body.encode()
    keys = [f"transfer-{time.time_ns()}-{index}" for index in range(count)]
    for key in keys:
        s3.upload_fileobj(io.BytesIO(data), bucket, key)
    sent = time.perf_counter()
    for key in keys:
        target = io.BytesIO()
        s3.download_fileobj(bucket, key, target)
        if target.getbuffer().nbytes != size:
            raise SystemExit("a downloaded object differs from the one uploaded")
        s3.delete_object(Bucket=bucket, Key=key)
    report(sent, time.perf_counter())
    raise SystemExit(0)

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
report(sent, time.perf_counter())
