"""The proxy as operators run it: each source of the credential chain, the admin listener
(health, readiness, Prometheus metrics), JSON request logs and graceful shutdown."""

import datetime
import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import (
    BUCKET,
    CLIENT_SECRET,
    PROXY_BIN,
    PROXY_CREDENTIALS,
    REGION,
    ProxyProcess,
    make_client,
)
from sigv4_relay import forward


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metrics(proxy):
    """The proxy's metrics as {(name, frozenset of label pairs): value}."""
    status, text = get(proxy.admin + "/metrics")
    assert status == 200
    values = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if match:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            values[(match.group(1), labels)] = float(match.group(3))
    return values


def metric(values, name, **labels):
    return values.get((name, frozenset(labels.items())), 0)


class CredentialEndpoint:
    """A stand-in for the container credentials endpoint and for EC2 instance metadata (IMDSv2),
    handing out the proxy's test keys (so that the signature relay accepts what they sign)."""

    def __init__(self, lifetime=3600, status=200):
        self.lifetime = lifetime
        self.status = status
        self.requests = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body, content_type="application/json"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                endpoint.requests.append(("PUT", self.path, dict(self.headers)))
                if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                    self.answer(200, "imds-session-token", "text/plain")
                else:
                    self.answer(400, "")

            def do_GET(self):
                endpoint.requests.append(("GET", self.path, dict(self.headers)))
                if self.path.startswith("/latest/") and self.headers.get("x-aws-ec2-metadata-token") != "imds-session-token":
                    return self.answer(401, "")
                if self.path == "/latest/meta-data/iam/security-credentials/":
                    return self.answer(200, "e2e-role", "text/plain")
                if endpoint.status != 200:
                    return self.answer(endpoint.status, '{"message":"unavailable"}')
                expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=endpoint.lifetime)
                self.answer(
                    200,
                    json.dumps(
                        {
                            "Code": "Success",
                            "AccessKeyId": PROXY_CREDENTIALS.access_key,
                            "SecretAccessKey": PROXY_CREDENTIALS.secret_key,
                            "Token": PROXY_CREDENTIALS.token,
                            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        }
                    ),
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def credential_fetches(self):
        return [r for r in self.requests if r[0] == "GET" and not r[1].endswith("/security-credentials/")]


@pytest.fixture
def credential_endpoint():
    endpoints = []

    def make(**options):
        endpoints.append(CredentialEndpoint(**options))
        return endpoints[-1]

    yield make
    for endpoint in endpoints:
        endpoint.server.shutdown()


@pytest.fixture
def launch(relay, moto):
    """Starts proxies without the fixtures' static keys; each is stopped after the test."""
    started = []

    def start(*args, env=None, credentials=False, through_relay=True):
        sqs_endpoint = relay.endpoint if through_relay else f"http://{moto[0]}:{moto[1]}"
        process = ProxyProcess(
            ["--region", REGION, "--sqs-endpoint", sqs_endpoint, "--s3-endpoint", f"http://{moto[0]}:{moto[1]}", *args],
            env=env,
            credentials=credentials,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.stop()


def round_trip(proxy, body="hello"):
    """Creates a queue, sends `body`, receives and deletes it through `proxy`; returns the queue URL."""
    client = make_client(proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody=body)
    messages = client.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"])["Messages"]
    assert messages[0]["Body"] == body
    client.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return url


def signed_by_proxy_key_since(relay, count):
    new = relay.records[count:]
    assert new, "nothing reached the relay"
    assert all(r.signature_valid for r in new), [r.problem for r in new if not r.signature_valid]
    return new


# Credentials


def test_web_identity_only(launch, moto, s3, tmp_path):
    """EKS IRSA: a token file and a role, exchanged at moto's STS; no keys anywhere."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.signature\n")
    proxy = launch(
        "--sts-endpoint", f"http://{moto[0]}:{moto[1]}", "--bucket", BUCKET,
        env={"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/e2e-irsa"},
        through_relay=False,
    )
    round_trip(proxy, "w" * 300_000)
    assert "web identity (arn:aws:iam::123456789012:role/e2e-irsa)" in proxy.stderr()
    assert get(proxy.admin + "/readyz")[0] == 200


def test_profile_role_assumed_from_source_profile(launch, moto, tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
    proxy = launch(
        "--sts-endpoint", f"http://{moto[0]}:{moto[1]}",
        env={"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_PROFILE": "app"},
        through_relay=False,
    )
    round_trip(proxy)
    assert "assumed role arn:aws:iam::123456789012:role/app from profile base" in proxy.stderr()


def test_container_credentials_with_token_and_refresh(launch, relay, credential_endpoint, tmp_path):
    """ECS / EKS Pod Identity: the token file is sent; credentials living 24 s are fetched again
    ahead of expiry, and every request is signed with them (the relay checks)."""
    endpoint = credential_endpoint(lifetime=24)
    token = tmp_path / "pod-token"
    token.write_text("pod-identity-token\n")
    proxy = launch(
        env={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url + "/v1/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token),
        }
    )
    before = len(relay.records)
    round_trip(proxy)
    fetches = endpoint.credential_fetches()
    assert len(fetches) == 1
    assert fetches[0][1] == "/v1/credentials"
    assert {k.lower(): v for k, v in fetches[0][2].items()}["authorization"] == "pod-identity-token"
    time.sleep(5)
    round_trip(proxy)
    assert len(endpoint.credential_fetches()) >= 2
    signed_by_proxy_key_since(relay, before)


def test_instance_metadata_is_the_last_resort(launch, relay, credential_endpoint):
    endpoint = credential_endpoint()
    proxy = launch(env={"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint.url})
    before = len(relay.records)
    round_trip(proxy)
    signed_by_proxy_key_since(relay, before)
    paths = [(method, path) for method, path, _ in endpoint.requests]
    assert paths[:3] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/e2e-role"),
    ]
    assert "instance metadata" in proxy.stderr()


def test_no_credentials_anywhere_is_refused_at_start(relay, moto):
    with pytest.raises(RuntimeError, match="No AWS credentials"):
        ProxyProcess(["--region", REGION, "--sqs-endpoint", relay.endpoint], credentials=False)


def test_credentials_that_cannot_be_fetched(launch, credential_endpoint):
    """A configured source that fails: the proxy runs, is not ready, and answers with an SQS error."""
    endpoint = credential_endpoint(status=500)
    proxy = launch(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url + "/creds"})
    status, text = get(proxy.admin + "/readyz")
    assert status == 503
    assert "not ready" in text
    client = make_client(proxy.endpoint, retries={"max_attempts": 1})
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.list_queues()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "credentials" in caught.value.response["Error"]["Message"]


# Admin listener


def test_admin_health_readiness_and_metrics(start_proxy, s3):
    proxy = start_proxy("--bucket", BUCKET)
    assert get(proxy.admin + "/healthz") == (200, "ok\n")
    status, text = get(proxy.admin + "/readyz")
    assert status == 200, text
    assert "credentials (environment): ready" in text
    assert get(proxy.admin + "/nope")[0] == 404

    client = make_client(proxy.endpoint)
    url = round_trip(proxy, "x" * 300_000)
    client.send_message(QueueUrl=url, MessageBody="small")
    with pytest.raises(client.exceptions.ClientError):
        client.send_message(QueueUrl=url, MessageBody="")
    values = metrics(proxy)
    assert metric(values, "sqs_proxy_requests_total", action="SendMessage", outcome="success") == 2
    assert metric(values, "sqs_proxy_requests_total", action="SendMessage", outcome="client_error") == 1
    assert metric(values, "sqs_proxy_requests_total", action="ReceiveMessage", outcome="success") == 1
    assert metric(values, "sqs_proxy_requests_total", action="DeleteMessage", outcome="success") == 1
    assert metric(values, "sqs_proxy_payloads_offloaded_total") == 1
    assert metric(values, "sqs_proxy_payload_bytes_offloaded_total") == 300_000
    assert metric(values, "sqs_proxy_payloads_restored_total") == 1
    assert metric(values, "sqs_proxy_payload_bytes_restored_total") == 300_000
    assert metric(values, "sqs_proxy_payload_objects_deleted_total") == 1
    assert metric(values, "sqs_proxy_request_duration_seconds_count", action="SendMessage") == 3
    assert metric(values, "sqs_proxy_upstream_duration_seconds_count", service="s3", operation="PutObject") == 1
    assert metric(values, "sqs_proxy_upstream_duration_seconds_count", service="sqs") >= 5
    errors = {dict(labels)["kind"]: v for (name, labels), v in values.items() if name == "sqs_proxy_errors_total"}
    assert errors == {"InvalidParameterValue": 1}, "the empty body is the proxy's own refusal"


def admin_address(proxy):
    host, port = proxy.admin.removeprefix("http://").split(":")
    return host, int(port)


def test_the_admin_listener_closes_trickling_and_idle_clients(start_proxy):
    proxy = start_proxy("--request-head-timeout", "1", "--client-idle-timeout", "1")
    with socket.create_connection(admin_address(proxy), timeout=10) as trickling:
        started = time.time()
        trickling.sendall(b"GET /healthz HTTP/1.1\r\nHost: admin\r\n")
        assert trickling.recv(1024) == b""
        assert 0.9 < time.time() - started < 5
    with socket.create_connection(admin_address(proxy), timeout=10) as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
        assert idle.recv(1024).startswith(b"HTTP/1.1 200")
        started = time.time()
        assert idle.recv(1024) == b""
        assert 0.9 < time.time() - started < 5
    assert get(proxy.admin + "/healthz") == (200, "ok\n")


def test_the_admin_listener_serves_at_most_its_connection_cap(start_proxy):
    proxy = start_proxy("--admin-max-connections", "1")
    holder = socket.create_connection(admin_address(proxy), timeout=10)
    holder.sendall(b"GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n")
    assert holder.recv(1024).startswith(b"HTTP/1.1 200")
    # The one connection is held open: a second waits in the backlog, unanswered.
    with socket.create_connection(admin_address(proxy), timeout=1) as waiting:
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        with pytest.raises(socket.timeout):
            waiting.recv(1024)
        holder.close()
        waiting.settimeout(10)
        assert waiting.recv(1024).startswith(b"HTTP/1.1 200")


def test_readiness_fails_when_sqs_is_unreachable(launch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    proxy = launch("--sqs-endpoint", f"http://127.0.0.1:{port}", credentials=True)
    status, text = get(proxy.admin + "/readyz")
    assert status == 503
    assert "unreachable" in text
    assert get(proxy.admin + "/healthz")[0] == 200


# Logs


def test_json_logs_one_line_per_request_without_secrets(start_proxy, s3):
    proxy = start_proxy("--bucket", BUCKET, "--log-format", "json")
    body = "BODY-MARKER-" + "b" * 300_000
    client = make_client(proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody=body)
    message = client.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]
    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    time.sleep(0.2)
    text = proxy.stderr(whole=True)
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = [line for line in lines if line["message"] == "request"]
    assert [r["action"] for r in requests] == ["CreateQueue", "SendMessage", "ReceiveMessage", "DeleteMessage"]
    queue_name = url.rsplit("/", 1)[1]
    for request in requests:
        assert request["level"] == "info"
        assert request["status"] == "200"
        assert float(request["duration_ms"]) > 0
        assert request["request_id"]
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", request["time"])
    assert all(r["queue"] == queue_name for r in requests[1:])
    for secret in (PROXY_CREDENTIALS.secret_key, PROXY_CREDENTIALS.token, CLIENT_SECRET, "BODY-MARKER", message["ReceiptHandle"]):
        assert secret not in text


# Shutdown


def test_sigterm_lets_a_long_poll_finish_then_exits_0(launch, direct_sqs):
    proxy = launch(credentials=True)
    client = make_client(proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    result = {}
    poll = threading.Thread(target=lambda: result.update(client.receive_message(QueueUrl=url, WaitTimeSeconds=10)))
    poll.start()
    time.sleep(1.5)
    proxy.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert proxy.alive(), "the proxy quit with a long poll in progress"
    status, text = get(proxy.admin + "/readyz")
    assert (status, text.strip()) == (503, "shutting down")
    port = int(proxy.endpoint.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    direct_sqs.send_message(QueueUrl=url, MessageBody="sent while draining")
    poll.join(15)
    assert result["Messages"][0]["Body"] == "sent while draining"
    assert proxy.process.wait(15) == 0
    direct_sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_closes_idle_connections_at_once(launch, stop):
    proxy = launch(credentials=True, env={"SQS_PROXY_SHUTDOWN_GRACE_PERIOD": "20"})
    client = make_client(proxy.endpoint)
    client.list_queues()
    started = time.monotonic()
    proxy.process.send_signal(stop)
    assert proxy.process.wait(10) == 0
    assert time.monotonic() - started < 5
    assert "stopped" in proxy.stderr()


def test_idle_client_connections_are_closed_but_long_polls_are_not(launch):
    proxy = launch("--client-idle-timeout", "1", credentials=True)
    host, port = proxy.endpoint.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as idle:
        time.sleep(2)
        assert idle.recv(1) == b"", "the idle connection is still open"
    client = make_client(proxy.endpoint)
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in client.receive_message(QueueUrl=url, WaitTimeSeconds=3)
    assert time.monotonic() - started >= 2.5
    client.delete_queue(QueueUrl=url)


def test_grace_period_bounds_the_shutdown(launch):
    proxy = launch("--shutdown-grace-period", "1", credentials=True)
    client = make_client(proxy.endpoint, retries={"max_attempts": 1})
    url = client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    poll = threading.Thread(target=lambda: pytest.raises(Exception, client.receive_message, QueueUrl=url, WaitTimeSeconds=20))
    poll.start()
    time.sleep(1)
    started = time.monotonic()
    proxy.process.send_signal(signal.SIGTERM)
    proxy.process.wait(10)
    assert time.monotonic() - started < 5
    poll.join(10)


def test_health_check_command_for_the_container_image(start_proxy):
    proxy = start_proxy()
    admin = proxy.admin.split("//", 1)[1]
    ok = subprocess.run([PROXY_BIN, "--health-check"], env={"SQS_PROXY_ADMIN_LISTEN": admin}, timeout=20)
    assert ok.returncode == 0
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = subprocess.run(
        [PROXY_BIN, "--health-check", "--admin-listen", f"127.0.0.1:{port}"], capture_output=True, timeout=20
    )
    assert down.returncode == 1
    assert b"health check failed" in down.stderr


# TLS upstream


def tls_terminator(upstream, directory):
    """An HTTPS server on 127.0.0.1 that relays to `upstream`, with a certificate for 127.0.0.1 and
    localhost from a new certificate authority; returns it (the server names clients sent are in
    its `sni_names`), its URL and the authority's PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    import ssl

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e test authority")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def relay(self):
            length = int(self.headers.get("content-length", "0"))
            forward(self, upstream, self.rfile.read(length) if length else b"")

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.sni_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda _socket, name, _context: server.sni_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_address[1]}", str(ca_file)


def test_https_upstream_certificates_are_verified(launch, moto, tmp_path):
    server, url, ca_file = tls_terminator(moto, tmp_path)
    try:
        unknown = launch("--sqs-endpoint", url, credentials=True)
        client = make_client(unknown.endpoint, retries={"max_attempts": 1})
        with pytest.raises(client.exceptions.ClientError) as caught:
            client.list_queues()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert "could not be reached" in caught.value.response["Error"]["Message"]

        for trusted in (
            launch("--sqs-endpoint", url, "--ca-bundle", ca_file, credentials=True),
            launch("--sqs-endpoint", url, env={"AWS_CA_BUNDLE": ca_file}, credentials=True),
        ):
            client = make_client(trusted.endpoint)
            name = f"tls-{uuid.uuid4().hex[:8]}"
            url_of_queue = client.create_queue(QueueName=name)["QueueUrl"]
            assert url_of_queue.endswith("/" + name)
            client.delete_queue(QueueUrl=url_of_queue)
        # An IP address is not sent as a server name.
        assert server.sni_names == [] or set(server.sni_names) == {None}
    finally:
        server.shutdown()


def test_https_upstream_gets_the_host_name_as_sni(launch, moto, tmp_path):
    server, url, ca_file = tls_terminator(moto, tmp_path)
    try:
        named = url.replace("127.0.0.1", "localhost")
        proxy = launch("--sqs-endpoint", named, "--ca-bundle", ca_file, credentials=True)
        client = make_client(proxy.endpoint)
        client.list_queues()
        assert "localhost" in server.sni_names
    finally:
        server.shutdown()
