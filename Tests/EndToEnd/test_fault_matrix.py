"""The fault matrix (issue 17): a fault injected at one step of a rewritten action, and exactly what
the client sees, what SQS holds and what S3 holds afterwards. The README's table "Faults" is this
matrix; a test checks that they agree.

Every cell also checks the invariants that hold whatever the fault:
  - no message in SQS points at a missing object;
  - a send the client saw succeed is in SQS;
  - a payload is deleted only after its message's delete was confirmed (a message still in SQS
    still has its payload).
Objects no message points at are orphans: counted, and allowed only where the table says.
"""

import json
import re
import uuid

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from conftest import BUCKET, ROOT, make_client
from s3_faults import S3FaultRelay
from test_extended import THRESHOLD, objects, payload
from test_multipart import PART

# (action, where, fault) -> (what the client sees, messages SQS holds, what S3 holds: payload objects,
# and "+ 1 upload" where an incomplete multipart upload is left for the lifecycle rule to abort).
# "where" is "S3 <call>" or "SQS"; the client sees "ok" or the error code its SDK raises. Held sends
# carry bodies over the threshold; streamed ones a body over one part (a multipart upload fed while
# the request arrives); a streamed receive, a payload over 1 MiB (streamed into the response).
S3_FAULTS = ("500", "503", "reset", "slow")
SQS_ERRORS = {"500": "InternalError", "throttle": "RequestThrottled", "reset": "ServiceUnavailable",
              "timeout": "ServiceUnavailable"}
MATRIX = {}
for send, stored in (
    ("SendMessage", 1), ("SendMessageBatch", 2), ("SendMessage streamed", 1), ("SendMessageBatch streamed", 2)
):
    calls = ("initiate", "part", "complete") if send.endswith("streamed") else ("put",)
    for call in calls:
        for fault in S3_FAULTS:
            # An upload S3 began after the proxy gave up waiting for it is not known to the proxy.
            left = " + 1 upload" if (call, fault) == ("initiate", "slow") else ""
            MATRIX[(send, f"S3 {call}", fault)] = ("InternalFailure", 0, "0" + left)
    for fault, seen in SQS_ERRORS.items():
        # A 4xx says SQS did not take the message: its payload goes. After a 5xx, a reset or a
        # timeout SQS may have taken it: the payload stays (an orphan if SQS did not).
        MATRIX[(send, "SQS", fault)] = (seen, 0, "0" if fault == "throttle" else str(stored))
# A payload that cannot be had costs its message alone: it is left in the queue, not returned (this
# receive, of that message alone, is empty).
for receive in ("ReceiveMessage", "ReceiveMessage streamed"):
    for fault in S3_FAULTS:
        MATRIX[(receive, "S3 get", fault)] = ("empty receive", 1, "1")
MATRIX[("ReceiveMessage", "S3 get", "cut")] = ("empty receive", 1, "1")
# A payload cut while it streams into the answer (every range after the first, read when the payload
# was opened, is cut, each tried three times): the answer began, so the client sees its connection
# close before the answer ended (its SDK raises no error code, a connection error).
MATRIX[("ReceiveMessage streamed", "S3 get", "cut")] = ("connection closed", 1, "1")
for fault, seen in SQS_ERRORS.items():
    for action in ("ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                   "ChangeMessageVisibilityBatch"):
        MATRIX[(action, "SQS", fault)] = (seen, 1, "1")
# A part fails and so does the abort that follows: the incomplete upload is left for the lifecycle rule.
MATRIX[("SendMessage streamed", "S3 abort", "500")] = ("InternalFailure", 0, "0 + 1 upload")
for delete in ("DeleteMessage", "DeleteMessageBatch"):
    for fault in S3_FAULTS:
        # SQS deleted the message; the payload's delete failed (logged), except a slow answer to a
        # delete S3 carried out.
        MATRIX[(delete, "S3 delete", fault)] = ("ok", 0, "0" if fault == "slow" else "1")

# The client and the proxy itself: the client closes its connection once its request is sent, or
# half-way through a streamed body; the proxy is killed (SIGKILL) half-way through one and started again.
GONE = {
    ("SendMessage", "client", "gone mid-body"): ("nothing", 0, "0"),
    ("SendMessage", "client", "gone before the answer"): ("nothing", 1, "1"),
    ("ReceiveMessage", "client", "gone before the answer"): ("nothing", 1, "1"),
    ("ReceiveMessage streamed", "client", "gone mid-answer"): ("nothing", 1, "1"),
    ("SendMessage streamed", "client", "gone mid-body"): ("nothing", 0, "0"),
    ("SendMessage streamed", "proxy", "SIGKILL mid-body"): ("nothing", 0, "0 + 1 upload"),
    # Killed once the payload was stored, before SQS took its message: an orphan for the lifecycle rule.
    ("SendMessage", "proxy", "SIGKILL before SQS"): ("nothing", 0, "1"),
}

# Long enough for moto under the load of parallel workers; each slow fault waits it out.
READ_TIMEOUT = 5


@pytest.fixture(scope="module")
def s3_relay(moto):
    relay = S3FaultRelay(upstream=moto, slow_seconds=READ_TIMEOUT + 2)
    server = relay.serve()
    yield relay
    server.shutdown()


@pytest.mark.parametrize("action, where, fault", sorted(MATRIX), ids=lambda part: str(part).replace(" ", "-"))
def test_fault(action, where, fault, start_proxy, s3_relay, relay, s3, direct_sqs, queue):
    prefix = f"cell-{uuid.uuid4().hex[:12]}/"
    proxy = start_proxy(
        "--bucket", BUCKET, "--s3-endpoint", s3_relay.endpoint, "--s3-key-prefix", prefix, "--part-size", str(PART),
        "--upstream-read-timeout", str(READ_TIMEOUT), "--upstream-max-attempts", "2",
    )
    # One attempt: botocore's max_attempts counts retries, total_max_attempts every attempt.
    client = make_client(proxy.endpoint, retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=30)
    streamed = action.endswith("streamed")
    size = PART + 1000 if streamed else THRESHOLD + 1
    bodies = [payload(size, "one"), payload(THRESHOLD + 2, "two")]
    handles = []
    if not action.startswith("Send"):
        client.send_message(QueueUrl=queue, MessageBody=bodies[0])
        if not action.startswith("Receive"):
            handles = [m["ReceiptHandle"] for m in client.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]]

    def act():
        if action.startswith("SendMessageBatch"):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
            result = client.send_message_batch(QueueUrl=queue, Entries=entries)
            assert not result.get("Failed"), result
        elif action.startswith("SendMessage"):
            client.send_message(QueueUrl=queue, MessageBody=bodies[0])
        elif action.startswith("ReceiveMessage"):
            if "Messages" not in client.receive_message(QueueUrl=queue, VisibilityTimeout=0):
                return "empty receive"
        elif action == "DeleteMessage":
            client.delete_message(QueueUrl=queue, ReceiptHandle=handles[0])
        elif action == "DeleteMessageBatch":
            result = client.delete_message_batch(QueueUrl=queue, Entries=[{"Id": "0", "ReceiptHandle": handles[0]}])
            assert not result.get("Failed"), result
        elif action == "ChangeMessageVisibility":
            client.change_message_visibility(QueueUrl=queue, ReceiptHandle=handles[0], VisibilityTimeout=0)
        else:
            entries = [{"Id": "0", "ReceiptHandle": handles[0], "VisibilityTimeout": 0}]
            result = client.change_message_visibility_batch(QueueUrl=queue, Entries=entries)
            assert not result.get("Failed"), result

    on_s3 = where.startswith("S3")
    faults = s3_relay.faults if on_s3 else relay.faults
    faulted = where.split()[1] if on_s3 else action.split()[0]
    relay.timeout_seconds = READ_TIMEOUT + 2
    uploads_before = pending_uploads(s3, prefix)
    # An abort follows a part that failed: both fail.
    faulted_too = ["part"] if faulted == "abort" else []
    for call in [faulted, *faulted_too]:
        faults[call] = fault
    if streamed and fault == "cut":
        # Cut while it streams: the first range, read before the answer begins, passes.
        s3_relay.fault_after["get"], s3_relay.seen["get"] = 1, 0
    try:
        seen = act() or "ok"
    except ClientError as error:
        seen = error.response["Error"]["Code"]
    except (BotoCoreError, ConnectionError):
        seen = "connection closed"
    finally:
        for call in [faulted, *faulted_too]:
            faults.pop(call, None)
        s3_relay.fault_after.pop("get", None)
    served = (s3_relay if on_s3 else relay).served_faults
    assert served.get(faulted), f"the fault at {where} was never reached"
    served.clear()

    held, stored = holdings(direct_sqs, queue, s3, prefix)
    uploads = pending_uploads(s3, prefix) - uploads_before
    s3_holds = str(len(stored)) + (f" + {len(uploads)} upload" if uploads else "")
    assert (seen, len(held), s3_holds) == MATRIX[(action, where, fault)]
    pointed = {json.loads(body)[1]["s3Key"] for body in held if body.startswith("[")}
    assert pointed <= set(stored), "a message in SQS points at a missing object"
    for key, upload_id in uploads:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert proxy.alive(), proxy.stderr()


def pending_uploads(s3, prefix):
    """The multipart uploads begun and not completed or aborted under `prefix`."""
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])
    return {(upload["Key"], upload["UploadId"]) for upload in uploads}


def holdings(direct_sqs, queue, s3, prefix):
    """The bodies of the messages in the queue (as SQS holds them) and the payload objects of the test.
    A message received just before (visibility timeout 1 s) is waited for."""
    import time

    deadline = time.time() + 6
    while True:
        attributes = direct_sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        count = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
        messages = direct_sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)
        bodies = [m["Body"] for m in messages.get("Messages", [])]
        if count == len(bodies) or time.time() > deadline:
            break
        time.sleep(0.3)
    assert count == len(bodies), f"SQS holds {count} messages, {len(bodies)} received"
    return bodies, objects(s3, prefix)


def test_the_readme_table_is_this_matrix():
    """Each row of the README's fault table is a cell here with the same outcome, and each cell a row."""
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- fault matrix -->")[1].split("<!-- end of fault matrix -->")[0]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not re.match(r"^\d+$", cells[4]):
            continue
        action, where, fault, seen, messages, stored = cells
        rows[(action, where, fault)] = (seen, int(messages), stored)
    assert rows == MATRIX | GONE


@pytest.mark.parametrize("action, where, fault", sorted(GONE), ids=lambda part: str(part).replace(" ", "-"))
def test_gone(action, where, fault, start_proxy, s3_relay, relay, s3, direct_sqs, queue):
    import socket
    import time
    from urllib.parse import urlsplit

    from conftest import REGION, ProxyProcess
    from test_multipart import send_three_parts

    prefix = f"cell-{uuid.uuid4().hex[:12]}/"
    args = ["--region", REGION, "--sqs-endpoint", relay.endpoint, "--bucket", BUCKET,
            "--s3-endpoint", s3_relay.endpoint, "--s3-key-prefix", prefix, "--part-size", str(PART)]
    killed = where == "proxy"
    proxy = ProxyProcess(args) if killed else start_proxy(*args[4:])
    endpoint = urlsplit(proxy.endpoint)
    uploads_before = pending_uploads(s3, prefix)
    if action.startswith("ReceiveMessage"):
        size = PART + 1000 if action.endswith("streamed") else THRESHOLD + 1
        make_client(proxy.endpoint).send_message(QueueUrl=queue, MessageBody=payload(size))
    target = "SendMessage" if action.startswith("Send") else "ReceiveMessage"
    head = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonSQS.{target}\r\n"
    )
    if fault == "gone mid-answer":
        body = json.dumps({"QueueUrl": queue, "VisibilityTimeout": 1}).encode()
        connection = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
        connection.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        # The answer's head and the start of the payload, then the client leaves.
        assert b"200 OK" in connection.recv(65536)
        connection.close()
    elif fault == "gone mid-body" and action == "SendMessage":
        opening = f'{head}Content-Length: 600000\r\n\r\n{{"QueueUrl":"{queue}","MessageBody":"' + "x" * 300_000
        connection = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
        connection.sendall(opening.encode())
        connection.close()
    elif fault == "SIGKILL before SQS":
        # SQS holds the send (it never reaches moto) while the proxy is killed.
        relay.timeout_seconds = 10
        relay.faults["SendMessage"] = "timeout"
        try:
            body = json.dumps({"QueueUrl": queue, "MessageBody": payload(THRESHOLD + 1)}).encode()
            connection = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
            connection.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            deadline = time.time() + 10
            while time.time() < deadline and not relay.served_faults.get("SendMessage"):
                time.sleep(0.05)
            assert relay.served_faults.get("SendMessage"), "the send never reached SQS"
            proxy.process.kill()
            proxy.process.wait(10)
            connection.close()
        finally:
            relay.faults.pop("SendMessage", None)
            relay.served_faults.clear()
    elif fault == "gone before the answer":
        document = {"QueueUrl": queue}
        if target == "SendMessage":
            document["MessageBody"] = payload(THRESHOLD + 1)
        else:
            document["VisibilityTimeout"] = 1
        body = json.dumps(document).encode()
        connection = socket.create_connection((endpoint.hostname, endpoint.port), timeout=10)
        connection.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        connection.close()
    else:
        opening = f'{head}Content-Length: 40000000\r\n\r\n{{"QueueUrl":"{queue}","MessageBody":"'
        seen_before = len(s3_relay.records)
        with send_three_parts(endpoint, opening):
            deadline = time.time() + 10
            while time.time() < deadline and not any(
                "partNumber=" in path for _, path in s3_relay.records[seen_before:]
            ):
                time.sleep(0.05)
            if killed:
                proxy.process.kill()
                proxy.process.wait(10)
    # What the proxy still does after the client left has a few seconds to finish.
    expected = GONE[(action, where, fault)]
    deadline = time.time() + 10
    while True:
        held, stored = holdings(direct_sqs, queue, s3, prefix)
        uploads = pending_uploads(s3, prefix) - uploads_before
        s3_holds = str(len(stored)) + (f" + {len(uploads)} upload" if uploads else "")
        if ("nothing", len(held), s3_holds) == expected or time.time() > deadline:
            break
        time.sleep(0.2)
    assert ("nothing", len(held), s3_holds) == expected
    pointed = {json.loads(body)[1]["s3Key"] for body in held if body.startswith("[")}
    assert pointed <= set(stored), "a message in SQS points at a missing object"
    for key, upload_id in uploads:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    if killed:
        # Started again, the proxy serves as before.
        restarted = start_proxy(*args[4:])
        make_client(restarted.endpoint).send_message(QueueUrl=queue, MessageBody=payload(THRESHOLD + 1))
        assert len(holdings(direct_sqs, queue, s3, prefix)[0]) == 1
