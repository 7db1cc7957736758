"""Queue URLs: answers point at the proxy, requests at SQS, whatever host a client's queue URL names.

Some SDKs (Ruby, older Java and .NET) send each call to its queue URL's host, not to their endpoint.
The routing client below does the same. SQS sits behind a relay on 127.0.0.2 while the proxy answers
on 127.0.0.1: a queue URL left pointing at SQS sends the client past the proxy, where the relay
refuses its signature. Every relay refuses a queue URL whose host is not its own, as SQS does.
"""

import http.client
import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, EXPECTED_PROTOCOL, PROXY_CREDENTIALS, REGION, make_client
from sigv4_relay import SigV4Relay
from test_extended import objects, payload


@pytest.fixture(scope="module")
def far_relay(moto):
    """A relay in front of moto on another loopback address than the proxy's."""
    relay = SigV4Relay(upstream=moto, credentials=PROXY_CREDENTIALS, region=REGION)
    server = relay.serve(host="127.0.0.2")
    relay.endpoint = f"http://127.0.0.2:{server.server_address[1]}"
    yield relay
    server.shutdown()


def routing_client(endpoint):
    """A client that sends each call naming a queue to its queue URL (the whole URL in the Query
    protocol, as Java v1 posts to the queue's path; its host in JSON, as Ruby's plugin does)."""
    client = make_client(endpoint)

    def remember(params, context, **kwargs):
        context["queue_url"] = params.get("QueueUrl")

    def route(request, **kwargs):
        url = request.context.get("queue_url")
        if not url:
            return
        queue, current = urlsplit(url), urlsplit(request.url)
        path = queue.path if EXPECTED_PROTOCOL == "query" else current.path
        request.url = urlunsplit((queue.scheme, queue.netloc, path, current.query, ""))

    client.meta.events.register("before-parameter-build.sqs", remember)
    client.meta.events.register("before-sign.sqs", route)
    return client


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def far_proxy(start_proxy, far_relay, s3):
    return start_proxy("--sqs-endpoint", far_relay.endpoint, "--bucket", BUCKET)


def test_every_answer_points_at_the_proxy(far_proxy, far_relay, direct_sqs):
    client = routing_client(far_proxy.endpoint)
    name = f"q-{uuid.uuid4().hex[:12]}"
    dead = client.create_queue(QueueName=name + "-dlq")["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "3"})
    url = client.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    try:
        assert origin(url) == far_proxy.endpoint
        assert urlsplit(url).path.endswith("/" + name)
        assert client.get_queue_url(QueueName=name)["QueueUrl"] == url
        listed = client.list_queues(QueueNamePrefix=name)["QueueUrls"]
        assert sorted(listed) == sorted([url, dead])
        assert client.list_dead_letter_source_queues(QueueUrl=dead)["queueUrls"] == [url]
        # Every call naming a queue went to the proxy, which sent SQS its own host.
        assert all(record.signature_valid for record in far_relay.records)
    finally:
        direct_sqs.delete_queue(QueueUrl=url)
        direct_sqs.delete_queue(QueueUrl=dead)


def test_routing_client_gets_the_extended_behaviour(far_proxy, far_relay, direct_sqs, s3):
    client = routing_client(far_proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    try:
        before = set(objects(s3))
        body = payload(300_000, "routed")
        client.send_message(QueueUrl=url, MessageBody=body)
        (key,) = set(objects(s3)) - before
        sends = [r for r in far_relay.records if b"SendMessage" in r.body or "SendMessage" in r.headers.get("x-amz-target", "")]
        assert sends and key.encode() in sends[-1].body
        message = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
        assert message["Body"] == body
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=5)
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert key not in objects(s3)
        small = client.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "small"}])
        assert [entry["Id"] for entry in small["Successful"]] == ["a"]
        assert client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        client.tag_queue(QueueUrl=url, Tags={"team": "proxy"})
        assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "proxy"}
        client.purge_queue(QueueUrl=url)
    finally:
        direct_sqs.delete_queue(QueueUrl=url)


def test_queue_urls_naming_sqs_or_any_host_reach_sqs(far_proxy, direct_sqs):
    client = make_client(far_proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    path = urlsplit(url).path
    try:
        for host in ("http://sqs.us-east-1.amazonaws.com", "https://elsewhere.example:8443", origin(direct_sqs.meta.endpoint_url)):
            client.send_message(QueueUrl=host + path, MessageBody=host)
        bodies = set()
        for _ in range(10):
            bodies |= {m["Body"] for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])}
            if len(bodies) == 3:
                break
        assert len(bodies) == 3
    finally:
        direct_sqs.delete_queue(QueueUrl=url)


def test_advertised_url_names_the_origin(start_proxy, direct_sqs):
    proxy = start_proxy("--advertised-url", "http://sqs-proxy.invalid:1234/")
    client = make_client(proxy.endpoint)
    name = f"q-{uuid.uuid4().hex[:12]}"
    url = client.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert url.startswith("http://sqs-proxy.invalid:1234/") and url.endswith("/" + name)
        client.send_message(QueueUrl=url, MessageBody="advertised")
        assert client.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "advertised"
    finally:
        direct_sqs.delete_queue(QueueUrl=url)


def test_upstream_queue_urls_turns_the_rewriting_off(start_proxy, relay, direct_sqs):
    proxy = start_proxy("--upstream-queue-urls")
    client = make_client(proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    try:
        assert origin(url) == relay.endpoint
        assert origin(client.list_queues()["QueueUrls"][0]) == relay.endpoint
    finally:
        direct_sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("host", ["", "exa mple", "host/path", "user@host"])
def test_a_host_header_that_names_no_host_is_refused(proxy, host):
    connection = http.client.HTTPConnection(*urlsplit(proxy.endpoint).netloc.split(":"), timeout=10)
    connection.putrequest("POST", "/", skip_host=True)
    connection.putheader("Host", host)
    body = json.dumps({"QueueName": "never-created"}).encode()
    connection.putheader("Content-Type", "application/x-amz-json-1.0")
    connection.putheader("X-Amz-Target", "AmazonSQS.CreateQueue")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 400
    assert answer["__type"].endswith("InvalidParameterValue")
    with pytest.raises(ClientError) as error:
        make_client(proxy.endpoint).get_queue_url(QueueName="never-created")
    assert error.value.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
