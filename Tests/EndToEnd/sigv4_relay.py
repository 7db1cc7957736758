"""A recording HTTP relay between the proxy and moto that checks every SigV4 signature.

moto accepts any signature, so the tests put this relay in front of it: each request the proxy
sends upstream is verified with botocore's own signer against the proxy's credentials, recorded,
and only then forwarded to moto. A request with a bad signature gets a 403 and never reaches moto.
A long poll is held here as SQS holds one (moto's own would go on taking messages for a client that
left): short polls to moto until messages come, the time is up or the client goes away.
"""

import http.client
import json
import select
import socket
import struct
import threading
import time
from urllib.parse import parse_qs, urlsplit
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


def deliver(handler, upstream, body):
    """Sends the request `handler` is serving to `upstream`; returns the answer, read whole."""
    connection = http.client.HTTPConnection(*upstream, timeout=60)
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
    connection.request(handler.command, handler.path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


def forward(handler, upstream, body):
    """Sends the request `handler` is serving to `upstream` and copies the answer back."""
    copy_answer(handler, *deliver(handler, upstream, body))


def long_poll_seconds(headers, body):
    """The WaitTimeSeconds of a ReceiveMessage in either protocol (0 when absent)."""
    try:
        if "x-amz-target" in headers:
            return int(json.loads(body or b"{}").get("WaitTimeSeconds") or 0)
        return int(parse_qs(body.decode("utf-8", "replace")).get("WaitTimeSeconds", ["0"])[0])
    except ValueError:
        return 0


def without_wait(headers, body):
    """The ReceiveMessage body with WaitTimeSeconds 0: one short poll."""
    if "x-amz-target" in headers:
        document = json.loads(body)
        document["WaitTimeSeconds"] = 0
        return json.dumps(document).encode()
    pairs = [p for p in body.split(b"&") if not p.startswith(b"WaitTimeSeconds=")]
    return b"&".join(pairs + [b"WaitTimeSeconds=0"])


def client_gone(connection):
    """Whether the relay's client closed its connection (nothing else is sent on it while it waits)."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def long_poll(handler, relay, headers, body, seconds):
    """A long poll as SQS holds one, on moto's short polls: it ends with the first messages, when its
    time is up, or when its client goes away (nothing is taken for a client that left)."""
    deadline = time.time() + seconds
    short = without_wait(headers, body)
    with relay.lock:
        relay.long_polls += 1
    try:
        while True:
            if client_gone(handler.connection):
                handler.close_connection = True
                return
            response, payload = deliver(handler, relay.upstream, short)
            has_messages = b'"Messages"' in payload or b"<Message>" in payload
            if response.status != 200 or has_messages or time.time() >= deadline:
                copy_answer(handler, response, payload)
                return
            time.sleep(0.1)
    finally:
        with relay.lock:
            relay.long_polls -= 1


def copy_answer(handler, response, payload):
    """Writes an answer `deliver` got to the client of `handler`."""
    handler.send_response(response.status)
    for name, value in response.getheaders():
        if name.lower() not in HOP_BY_HOP and name.lower() not in ("server", "date"):
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(payload)


# Faults served instead of an SQS answer, moto never seeing the request: an internal error, throttling
# (a definite refusal), the connection reset once the request was read, no answer until the caller
# gives up.
FAULTS = ("500", "throttle", "reset", "timeout")


def serve_fault(handler, fault, json_protocol, relay):
    if fault in ("500", "throttle"):
        status, code, sender = (500, "InternalError", "Receiver") if fault == "500" else (400, "RequestThrottled", "Sender")
        if json_protocol:
            payload = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": "injected"}).encode()
            content_type = "application/x-amz-json-1.0"
        else:
            payload = (
                f"<ErrorResponse><Error><Type>{sender}</Type><Code>{code}</Code><Message>injected</Message>"
                "</Error><RequestId>r</RequestId></ErrorResponse>"
            ).encode()
            content_type = "text/xml"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("x-amzn-query-error", f"{code};{sender}")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        return
    if fault == "timeout":
        time.sleep(relay.timeout_seconds)
    reset(handler)


def reset(handler):
    """Closes the connection with a reset, no answer written."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True


def queue_url_of(path, headers, body):
    """The QueueUrl parameter of a request in either protocol, or None."""
    if "x-amz-target" in headers:
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return None
        return document.get("QueueUrl") if isinstance(document, dict) else None
    query = path.split("?", 1)[1] if "?" in path else ""
    values = parse_qs(query).get("QueueUrl") or parse_qs(body.decode("utf-8", "replace")).get("QueueUrl")
    return values[0] if values else None


def refuse_address(handler, url, json_protocol):
    """SQS's answer to a queue URL whose host is not the endpoint's."""
    message = f"The address {url} is not valid for this endpoint."
    if json_protocol:
        payload = json.dumps({"__type": "com.amazonaws.sqs#InvalidAddress", "message": message}).encode()
        content_type = "application/x-amz-json-1.0"
    else:
        payload = (
            '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>'
            f"<Type>Sender</Type><Code>InvalidAddress</Code><Message>{message}</Message><Detail/></Error>"
            "<RequestId>relay</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    handler.send_response(404)
    handler.send_header("Content-Type", content_type)
    handler.send_header("x-amzn-query-error", "InvalidAddress;Sender")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def action_of(headers, body):
    """The SQS action of a request in either protocol."""
    target = headers.get("x-amz-target", "")
    if target:
        return target.removeprefix("AmazonSQS.")
    return parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: bytes
    access_key: str
    signature_valid: bool
    problem: str = ""


@dataclass
class SigV4Relay:
    """Verifies, records and forwards requests to `upstream` (host, port)."""

    upstream: tuple
    credentials: Credentials
    region: str
    records: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # SQS actions whose requests are answered by closing the connection, moto never seeing them.
    dropped_actions: set = field(default_factory=set)
    # SQS actions that moto carries out, after which the relay answers "500" or "break"s the connection.
    failed_after_taking: dict = field(default_factory=dict)
    # SQS actions that fail before moto sees them (see FAULTS); how often each fault was served.
    faults: dict = field(default_factory=dict)
    served_faults: dict = field(default_factory=dict)
    # How long a "timeout" fault holds its request before closing the connection.
    timeout_seconds: float = 5.0
    # Long polls in progress (see long_poll).
    long_polls: int = 0
    # SQS actions the relay answers itself, once the request passed SQS's checks: action -> (status,
    # content type, body). For actions moto does not have (an action SQS added later, say).
    canned: dict = field(default_factory=dict)

    def verify(self, method, path, headers, body):
        authorization = headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return "", False, "no SigV4 Authorization header"
        fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","))
        access_key, day, region, service, _ = fields["Credential"].split("/")
        if access_key != self.credentials.access_key:
            return access_key, False, f"signed with {access_key}, not the proxy's key"
        if region != self.region or service != "sqs":
            return access_key, False, f"scope {region}/{service}"
        signed = fields["SignedHeaders"].split(";")
        for required in ("host", "x-amz-date"):
            if required not in signed:
                return access_key, False, f"{required} not signed"
        if self.credentials.token and "x-amz-security-token" not in signed:
            return access_key, False, "session token not signed"
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{path}",
            headers={name: headers[name] for name in signed},
            data=body,
        )
        request.context["timestamp"] = headers["x-amz-date"]
        auth = SigV4Auth(self.credentials, "sqs", self.region)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != fields["Signature"]:
            return access_key, False, "signature mismatch"
        return access_key, True, ""

    def serve(self, host="127.0.0.1"):
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                access_key, valid, problem = relay.verify(self.command, self.path, headers, body)
                with relay.lock:
                    relay.records.append(
                        RecordedRequest(self.command, self.path, headers, body, access_key, valid, problem)
                    )
                action = action_of(headers, body)
                if action in relay.dropped_actions:
                    self.close_connection = True
                    return
                if valid and action in relay.faults:
                    with relay.lock:
                        relay.served_faults[action] = relay.served_faults.get(action, 0) + 1
                    serve_fault(self, relay.faults[action], json_protocol="x-amz-target" in headers, relay=relay)
                    return
                if valid and action in relay.failed_after_taking:
                    deliver(self, relay.upstream, body)
                    if relay.failed_after_taking[action] == "break":
                        self.close_connection = True
                        return
                    self.send_response(500)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "21")
                    self.end_headers()
                    self.wfile.write(b"<h1>Bad gateway</h1>\n")
                    return
                queue_url = queue_url_of(self.path, headers, body) if valid else None
                if queue_url is not None and urlsplit(queue_url).netloc != headers.get("host"):
                    # As SQS does: a queue URL must name the host the request was sent to.
                    refuse_address(self, queue_url, json_protocol="x-amz-target" in headers)
                    return
                if not valid:
                    payload = b'{"__type":"com.amazonaws.sqs#SignatureDoesNotMatch","message":"' + problem.encode() + b'"}'
                    self.send_response(403)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("x-amzn-query-error", "SignatureDoesNotMatch;Sender")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if action in relay.canned:
                    status, content_type, payload = relay.canned[action]
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                seconds = long_poll_seconds(headers, body) if action == "ReceiveMessage" else 0
                if seconds > 0:
                    long_poll(self, relay, headers, body, seconds)
                    return
                forward(self, relay.upstream, body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
