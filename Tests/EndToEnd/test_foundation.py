"""The proxy foundation end to end: real SDKs through the proxy to moto, in whichever protocol
this virtualenv's botocore speaks (JSON for current boto3, Query for boto3 1.26)."""

import base64
import hashlib
import http.client
import json
import socket
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions
import pytest
from botocore.exceptions import ClientError

from conftest import (
    CLIENT_KEY,
    CLIENT_TOKEN,
    EXPECTED_PROTOCOL,
    PROXY_CREDENTIALS,
    ProxyProcess,
    make_client,
)
from sigv4_relay import action_of


def unique(prefix="q"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_client_speaks_the_expected_protocol(sqs, relay):
    before = len(relay.records)
    sqs.list_queues()
    record = relay.records[before]
    content_type = record.headers.get("content-type", "")
    if EXPECTED_PROTOCOL == "json":
        assert content_type.startswith("application/x-amz-json-1.0")
        assert record.headers["x-amz-target"] == "AmazonSQS.ListQueues"
    else:
        assert content_type.startswith("application/x-www-form-urlencoded")
        assert b"Action=ListQueues" in record.body


def test_queue_lifecycle(sqs):
    name = unique("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"})["QueueUrl"]
    assert url.endswith("/" + name)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
    assert attributes == {"DelaySeconds": "2"}

    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "owner": "me"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "test", "owner": "me"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["owner"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "test"}

    sqs.send_message(QueueUrl=url, MessageBody="to be purged")
    sqs.purge_queue(QueueUrl=url)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"

    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_send_receive_delete_with_attributes(sqs, queue_url):
    body = "héllo <wörld> & \"friends\" 😀"
    attributes = {
        "text": {"DataType": "String", "StringValue": "value with spaces & ünïcode"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
        "custom": {"DataType": "String.custom", "StringValue": "x"},
    }
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert "MD5OfMessageAttributes" in sent

    received = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert len(received) == 1
    message = received[0]
    assert message["Body"] == body
    assert message["MD5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert message["MessageAttributes"]["text"]["StringValue"] == "value with spaces & ünïcode"
    assert message["MessageAttributes"]["count"] == {"DataType": "Number", "StringValue": "42"}
    assert message["MessageAttributes"]["blob"]["BinaryValue"] == bytes(range(256))
    assert message["MessageAttributes"]["custom"]["DataType"] == "String.custom"
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert int(message["Attributes"]["ApproximateReceiveCount"]) == 1

    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)


def test_change_message_visibility(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="visible again")
    first = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=60)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    assert again["MessageId"] == first["MessageId"]


def test_batches(sqs, queue_url):
    entries = [
        {
            "Id": f"m{i}",
            "MessageBody": f"batch body {i} €",
            "MessageAttributes": {"index": {"DataType": "Number", "StringValue": str(i)}},
        }
        for i in range(10)
    ]
    result = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert sorted(entry["Id"] for entry in result["Successful"]) == sorted(e["Id"] for e in entries)
    assert not result.get("Failed")
    for entry in result["Successful"]:
        index = int(entry["Id"][1:])
        assert entry["MD5OfMessageBody"] == hashlib.md5(f"batch body {index} €".encode()).hexdigest()

    messages = []
    for _ in range(20):
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages.extend(response.get("Messages", []))
        if len(messages) >= 10:
            break
    assert sorted(m["Body"] for m in messages) == sorted(e["MessageBody"] for e in entries)

    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": f"c{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 30} for i, m in enumerate(messages)],
    )
    assert len(changed["Successful"]) == 10
    deleted = sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
    )
    assert len(deleted["Successful"]) == 10
    assert not deleted.get("Failed")


def test_batch_entry_errors_are_typed(sqs, queue_url):
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": "same", "MessageBody": "a"}, {"Id": "same", "MessageBody": "b"}]
        )


def test_queue_does_not_exist_is_typed(sqs, queue_url):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
        sqs.get_queue_url(QueueName=unique("missing"))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    missing_url = queue_url.rsplit("/", 1)[0] + "/" + unique("missing")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=missing_url, MessageBody="x")


def test_request_the_proxy_cannot_parse_gets_a_typed_error(proxy):
    unvalidated = make_client(proxy.endpoint, parameter_validation=False)
    with pytest.raises(ClientError) as raised:
        unvalidated.delete_queue()
    error = raised.value.response["Error"]
    assert error["Code"] == "MissingParameter"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "QueueUrl" in error["Message"]


def raw_request(endpoint, body, headers, method="POST", path="/"):
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "target, body, shape, code",
    [
        ("AmazonSQS.SendMessage", b'{"QueueUrl": ', "InvalidParameterValue", "InvalidParameterValue"),
        ("Explode.Now", b"{}", "InvalidAction", "InvalidAction"),
        ("AmazonSQS.Ex-plode", b"{}", "InvalidAction", "InvalidAction"),
        ("AmazonSQS.ReceiveMessage", b"{}", "MissingParameter", "MissingParameter"),
        ("AmazonSQS.ListQueues", b"\xff\xfe", "InvalidParameterValue", "InvalidParameterValue"),
        # Read two ways (the proxy reads one value, SQS may read another): refused.
        ("AmazonSQS.PurgeQueue", b'{"QueueUrl":"a","QueueUrl":"b"}', "InvalidParameterValue", "InvalidParameterValue"),
        ("AmazonSQS.SendMessageBatch", b'{"QueueUrl":"u","Entries":[{"Id":"a","Id":"b","MessageBody":"x"}]}',
         "InvalidParameterValue", "InvalidParameterValue"),
    ],
)
def test_json_protocol_errors(proxy, target, body, shape, code):
    response, payload = raw_request(proxy.endpoint, body, {**JSON_HEADERS, "X-Amz-Target": target})
    assert response.status == 400
    assert json.loads(payload)["__type"] == f"com.amazonaws.sqs#{shape}"
    assert response.getheader("x-amzn-query-error") == f"{code};Sender"
    assert response.getheader("x-amzn-RequestId")


@pytest.mark.parametrize(
    "body, code",
    [
        (b"Action=Ex%20plode&Version=2012-11-05", "InvalidAction"),
        (b"Version=2012-11-05", "InvalidAction"),
        (b"Action=ListQueues&QueueNamePrefix=%zz", "InvalidParameterValue"),
        (b"Action=DeleteQueue&Version=2012-11-05", "MissingParameter"),
        # Read two ways: a name given twice, an index written other than as a plain decimal.
        (b"Action=PurgeQueue&QueueUrl=a&QueueUrl=b", "InvalidParameterValue"),
        (b"Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.01.Id=a"
         b"&SendMessageBatchRequestEntry.01.MessageBody=b", "InvalidParameterValue"),
    ],
)
def test_query_protocol_errors(proxy, body, code):
    response, payload = raw_request(proxy.endpoint, body, FORM_HEADERS)
    assert response.status == 400
    text = payload.decode()
    assert text.startswith("<?xml") and "<ErrorResponse" in text
    assert f"<Code>{code}</Code>" in text and "<Type>Sender</Type>" in text


def made_up_action_request(protocol, queue_url):
    """A request of an action SQS does not have, naming `queue_url` when given."""
    if protocol == "json":
        body = json.dumps({"QueueUrl": queue_url, "Detail": "x"} if queue_url else {"Detail": "x"}).encode()
        return body, {**JSON_HEADERS, "X-Amz-Target": "AmazonSQS.MadeUpAction"}
    fields = {"Action": "MadeUpAction", "Version": "2012-11-05", "Detail": "x", **({"QueueUrl": queue_url} if queue_url else {})}
    return urllib.parse.urlencode(fields).encode(), FORM_HEADERS


CANNED = {
    "json": (200, "application/x-amz-json-1.0", b'{"Made":"up"}'),
    "query": (200, "text/xml", b"<MadeUpActionResponse><MadeUpActionResult/></MadeUpActionResponse>"),
}


@pytest.mark.parametrize("protocol", ["json", "query"])
@pytest.mark.parametrize("with_queue_url", [True, False], ids=["with QueueUrl", "without QueueUrl"])
def test_an_action_the_proxy_does_not_know_is_forwarded(proxy, relay, queue_url, protocol, with_queue_url):
    """SQS may add actions: the proxy re-signs and forwards them, a QueueUrl pointed at SQS (the
    relay refuses one that names another host, as SQS does), and passes SQS's answer back."""
    # The client holds the queue URL the proxy hands out; SQS gets its own.
    client_url = urllib.parse.urlsplit(queue_url)._replace(netloc=proxy.endpoint.removeprefix("http://")).geturl()
    body, headers = made_up_action_request(protocol, client_url if with_queue_url else None)
    before = len(relay.records)
    relay.canned["MadeUpAction"] = CANNED[protocol]
    try:
        response, payload = raw_request(proxy.endpoint, body, headers)
    finally:
        del relay.canned["MadeUpAction"]
    forwarded = [r for r in relay.records[before:] if action_of(r.headers, r.body) == "MadeUpAction"]
    assert len(forwarded) == 1 and forwarded[0].signature_valid
    assert b"Detail" in forwarded[0].body
    if with_queue_url:
        assert urllib.parse.quote(client_url, safe="") not in forwarded[0].body.decode()
        assert client_url not in forwarded[0].body.decode()
    assert (response.status, payload) == (CANNED[protocol][0], CANNED[protocol][2])
    with urllib.request.urlopen(proxy.admin + "/metrics", timeout=5) as answer:
        assert 'sqs_proxy_requests_total{action="other",outcome="success"}' in answer.read().decode()


def test_keep_alive_connection_serves_many_requests(proxy):
    host, port = proxy.endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(5):
        connection.request("POST", "/", body=b"{}", headers={**JSON_HEADERS, "X-Amz-Target": "AmazonSQS.ListQueues"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert not response.will_close
    connection.close()


GARBAGE = [
    b"\x00\x01\x02 not http\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    b"GET",
    # A body that stops half-way.
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"Queue",
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSQS.SendMessage\r\nContent-Length: 9000000\r\n\r\n"
    + b'{"QueueUrl":"u","MessageBody":"abc',
]


def send_garbage(endpoint, rounds=10):
    host, port = endpoint.removeprefix("http://").split(":")
    for round_number in range(rounds):
        for garbage in GARBAGE:
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.settimeout(0.3)
                s.sendall(garbage)
                if round_number % 2:
                    s.shutdown(socket.SHUT_WR)
                try:
                    s.recv(65536)
                except OSError:
                    pass


def test_garbage_does_not_hurt_the_proxy(proxy, sqs):
    send_garbage(proxy.endpoint)
    sqs.list_queues()
    assert proxy.alive(), proxy.stderr()


def test_a_request_head_over_the_limit_gets_a_431_and_the_proxy_serves_on(proxy, sqs):
    client = make_client(proxy.endpoint, retries={"max_attempts": 1})
    client.meta.events.register(
        "before-send.sqs.*", lambda request, **_: request.headers.__setitem__("X-Padding", "p" * 70000)
    )
    with pytest.raises(ClientError) as refused:
        client.list_queues()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 431
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "65536" in refused.value.response["Error"]["Message"]
    sqs.list_queues()
    assert proxy.alive(), proxy.stderr()


def test_a_request_that_is_not_http_gets_an_sqs_error_and_a_close(proxy):
    host, port = proxy.endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"connection: close" in head.lower()
    assert b"x-amzn-query-error: invalidparametervalue;sender" in head.lower()
    assert b"<Code>InvalidParameterValue</Code>" in body
    assert proxy.alive(), proxy.stderr()


def test_a_client_trickling_its_head_is_closed(relay, moto):
    trickled = ProxyProcess(["--region", "us-east-1", "--sqs-endpoint", relay.endpoint, "--request-head-timeout", "1"])
    try:
        host, port = trickled.endpoint.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            started = time.time()
            s.sendall(b"POST / HTTP/1.1\r\nHost: proxy\r\n")
            time.sleep(0.6)
            s.sendall(b"X-Slow: 1\r\n")
            assert s.recv(1024) == b""
            assert 0.9 < time.time() - started < 5
        # A client that sends its head in time is served.
        make_client(trickled.endpoint).list_queues()
        assert trickled.alive(), trickled.stderr()
    finally:
        trickled.stop()


def test_oversized_request_is_refused_and_the_connection_kept(relay, moto, queue_url):
    small = ProxyProcess(["--region", "us-east-1", "--sqs-endpoint", relay.endpoint, "--max-request-size", "2048"])
    try:
        client = make_client(small.endpoint)
        with pytest.raises(ClientError) as refused:
            client.send_message(QueueUrl=queue_url, MessageBody="x" * 4096)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "2048" in refused.value.response["Error"]["Message"]

        host, port = small.endpoint.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {**JSON_HEADERS, "X-Amz-Target": "AmazonSQS.SendMessage"}
        connection.request("POST", "/", body=b"x" * 4096, headers=headers)
        response = connection.getresponse()
        assert response.status == 400 and response.getheader("Connection") != "close"
        response.read()
        # The body was read and dropped: the same connection serves the next request.
        connection.request("POST", "/", body=b"{}", headers={**JSON_HEADERS, "X-Amz-Target": "AmazonSQS.ListQueues"})
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()

        # A chunked body has no declared length: refused once it passes the limit, then closed.
        connection.request("POST", "/", body=iter([b"x" * 1024] * 4), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 400 and response.getheader("Connection") == "close"
        assert json.loads(response.read())["__type"] == "com.amazonaws.sqs#InvalidParameterValue"
        connection.close()
        assert small.alive()
    finally:
        small.stop()


def test_clients_that_hang_up_abandon_their_long_polls(start_proxy, relay, direct_sqs):
    """A long poll whose client left is given up upstream: no message is taken for nobody."""
    proxy = start_proxy("--max-connections", "64")
    queue = direct_sqs.create_queue(QueueName=unique("abandoned"))["QueueUrl"]
    impatient = make_client(proxy.endpoint, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"})

    def poll_and_hang_up(_):
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            impatient.receive_message(QueueUrl=queue, WaitTimeSeconds=20)

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(poll_and_hang_up, range(40)))
    # The long polls SQS holds end once the proxy gave them up (they would run for 20 s).
    deadline = time.time() + 15
    while relay.long_polls and time.time() < deadline:
        time.sleep(0.2)
    assert relay.long_polls == 0, f"{relay.long_polls} long polls still held for clients that left"
    direct_sqs.send_message(QueueUrl=queue, MessageBody="for the next client")
    received = make_client(proxy.endpoint).receive_message(QueueUrl=queue, WaitTimeSeconds=5)
    assert [m["Body"] for m in received["Messages"]] == ["for the next client"]
    assert proxy.alive(), proxy.stderr()
    direct_sqs.delete_queue(QueueUrl=queue)


def test_long_poll_waits_twelve_seconds(sqs, queue_url):
    started = time.monotonic()
    response = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=12)
    elapsed = time.monotonic() - started
    assert "Messages" not in response
    assert elapsed >= 11.5


def test_long_poll_returns_a_message_sent_meanwhile(sqs, proxy):
    url = sqs.create_queue(QueueName=unique("poll"), Attributes={"ReceiveMessageWaitTimeSeconds": "12"})["QueueUrl"]
    sender = make_client(proxy.endpoint)
    timer = threading.Timer(2.0, lambda: sender.send_message(QueueUrl=url, MessageBody="arrived during the poll"))
    timer.start()
    started = time.monotonic()
    messages = []
    while not messages and time.monotonic() - started < 15:
        messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
    timer.join()
    assert [m["Body"] for m in messages] == ["arrived during the poll"]
    sqs.delete_queue(QueueUrl=url)


def test_many_concurrent_clients(proxy, sqs, queue_url):
    def send_many(worker):
        client = make_client(proxy.endpoint)
        for i in range(15):
            client.send_message(QueueUrl=queue_url, MessageBody=f"{worker}-{i}")
        return worker

    with ThreadPoolExecutor(max_workers=24) as pool:
        assert sorted(pool.map(send_many, range(24))) == list(range(24))
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == str(24 * 15)


def test_upstream_sees_only_the_proxys_valid_signatures(sqs, queue_url, relay):
    before = len(relay.records)
    sqs.send_message(QueueUrl=queue_url, MessageBody="signed by the proxy")
    sqs.receive_message(QueueUrl=queue_url)
    records = relay.records[before:]
    assert len(records) == 2
    for record in relay.records:
        assert record.signature_valid, record.problem
        assert record.access_key == PROXY_CREDENTIALS.access_key
        assert record.headers["x-amz-security-token"] == PROXY_CREDENTIALS.token
        assert CLIENT_TOKEN not in str(record.headers)
        assert CLIENT_KEY not in record.headers["authorization"]
        assert "x-amz-content-sha256" not in record.headers


def test_relay_rejects_a_bad_signature(relay):
    """The relay's check can fail: a request signed with another key is refused."""
    response, _ = raw_request(
        relay.endpoint,
        b"{}",
        {
            **JSON_HEADERS,
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "X-Amz-Date": "20250101T000000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAOTHER/20250101/us-east-1/sqs/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00",
        },
    )
    assert response.status == 403
    assert not relay.records[-1].signature_valid
    relay.records.pop()


def test_unreachable_upstream_is_a_retryable_server_error(moto):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    broken = ProxyProcess(
        ["--region", "us-east-1", "--sqs-endpoint", f"http://127.0.0.1:{closed_port}", "--upstream-connect-timeout", "2"]
    )
    try:
        client = make_client(broken.endpoint, retries={"max_attempts": 1, "mode": "standard"})
        with pytest.raises(ClientError) as raised:
            client.list_queues()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert broken.alive()
    finally:
        broken.stop()


def test_expect_100_continue_is_answered_before_the_body(proxy):
    host, port = proxy.endpoint.removeprefix("http://").split(":")
    body = b"Action=ListQueues&Version=2012-11-05"
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        interim = s.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(body)
        answer = b""
        while b"</ListQueuesResponse>" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 OK")
