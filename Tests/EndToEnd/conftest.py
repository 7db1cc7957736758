"""Fixtures: a moto server, the signature-checking relay in front of it, and the proxy under test.

Environment:
  PROXY_BIN        the sqs-extended-proxy binary (default .build/debug/sqs-extended-proxy)
  E2E_MOTO_PYTHON  the Python that runs moto (default: this one)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from sigv4_relay import SigV4Relay

ROOT = Path(__file__).resolve().parents[2]
PROXY_BIN = os.environ.get("PROXY_BIN", str(ROOT / ".build" / "debug" / "sqs-extended-proxy"))
REGION = "us-east-1"
PROXY_CREDENTIALS = Credentials("AKIAPROXYTESTKEY", "proxy-secret-key", "proxy-session-token")
CLIENT_KEY, CLIENT_SECRET, CLIENT_TOKEN = "AKIACLIENTKEY", "client-secret-key", "client-session-token"

# botocore switched SQS to the JSON protocol in 1.34.90.
BOTOCORE_VERSION = tuple(int(part) for part in botocore.__version__.split(".")[:3])
EXPECTED_PROTOCOL = "json" if BOTOCORE_VERSION >= (1, 34, 90) else "query"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serves_moto(port, process, timeout=30):
    """Whether moto itself answers on `port`: the port a free port was may be taken by another
    worker's listener before moto binds it (moto then exits, and something else answers there)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2) as answer:
                return answer.status == 200 and process.poll() is None
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def moto():
    python = os.environ.get("E2E_MOTO_PYTHON", sys.executable)
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if serves_moto(port, process):
            break
        process.kill()
        process.wait(10)
    else:
        raise RuntimeError("moto server did not start on a free port in five tries")
    try:
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def relay(moto):
    relay = SigV4Relay(upstream=moto, credentials=PROXY_CREDENTIALS, region=REGION)
    server = relay.serve()
    relay.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    yield relay
    server.shutdown()


def proxy_environment(env=None, credentials=PROXY_CREDENTIALS):
    """The environment of a proxy process: none of this process's AWS_ and SQS_PROXY_ variables, no
    shared files, instance metadata off, the static keys of `credentials` (none when None), then `env`."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SQS_PROXY_"))}
    environment.update(
        AWS_CONFIG_FILE="/nonexistent",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
    )
    if credentials:
        environment.update(
            AWS_ACCESS_KEY_ID=credentials.access_key,
            AWS_SECRET_ACCESS_KEY=credentials.secret_key,
            AWS_SESSION_TOKEN=credentials.token,
        )
    environment.update(env or {})
    return environment


class ProxyProcess:
    def __init__(self, args, env=None, credentials=True):
        """Starts the proxy on free ports with `args`, in `proxy_environment(env)`: with the proxy's
        static keys unless `credentials` is false."""
        environment = proxy_environment(env, PROXY_CREDENTIALS if credentials else None)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [PROXY_BIN, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", *args],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.endpoint = self.admin = None
        while self.endpoint is None or self.admin is None:
            line = self.process.stdout.readline()
            if "sqs-extended-proxy listening on" in line:
                self.endpoint = line.split("listening on ")[1].split()[0]
            elif "admin listening on" in line:
                self.admin = line.split("listening on ")[1].split()[0]
            else:
                self.process.kill()
                raise RuntimeError(f"proxy did not start: {line!r} {self.stderr()}")

    def stderr(self, whole=False):
        """The end of what the proxy wrote to standard error (all of it with `whole`)."""
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        return text if whole else text[-4000:]

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


BUCKET = "e2e-payloads"


def moto_client(moto, service):
    return boto3.client(
        service,
        endpoint_url=f"http://{moto[0]}:{moto[1]}",
        region_name=REGION,
        aws_access_key_id="AKIADIRECT",
        aws_secret_access_key="direct",
    )


@pytest.fixture(scope="session")
def s3(moto):
    """S3 straight to moto, with the payload bucket created."""
    client = moto_client(moto, "s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="session")
def direct_sqs(moto):
    """SQS straight to moto, bypassing the proxy: to see what SQS really holds."""
    return moto_client(moto, "sqs")


@pytest.fixture
def start_proxy(relay, moto):
    """Starts a proxy in front of the relay and moto with extra arguments; stopped after the test."""
    started = []

    def start(*args, env=None):
        process = ProxyProcess(
            ["--region", REGION, "--sqs-endpoint", relay.endpoint, "--s3-endpoint", f"http://{moto[0]}:{moto[1]}", *args],
            env=env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        assert process.alive(), f"a proxy died during the test: {process.stderr()}"
        process.stop()


@pytest.fixture(scope="session")
def extended_proxy(relay, moto, s3):
    process = ProxyProcess(
        ["--region", REGION, "--sqs-endpoint", relay.endpoint, "--s3-endpoint", f"http://{moto[0]}:{moto[1]}", "--bucket", BUCKET]
    )
    yield process
    assert process.alive(), f"the extended proxy died during the tests: {process.stderr()}"
    process.stop()


@pytest.fixture
def esqs(extended_proxy):
    """An SQS client through the proxy with a payload bucket."""
    return make_client(extended_proxy.endpoint)


@pytest.fixture
def queue(esqs, direct_sqs):
    """A new standard queue, created through the extended proxy, deleted straight in moto."""
    url = esqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    yield url
    direct_sqs.delete_queue(QueueUrl=url)


@pytest.fixture(scope="session")
def proxy(relay, moto):
    process = ProxyProcess(
        ["--region", REGION, "--sqs-endpoint", relay.endpoint, "--s3-endpoint", f"http://{moto[0]}:{moto[1]}"]
    )
    yield process
    assert process.alive(), f"the proxy died during the tests: {process.stderr()}"
    process.stop()


def make_client(endpoint, **config):
    settings = dict(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=40, connect_timeout=5)
    settings.update(config)
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CLIENT_KEY,
        aws_secret_access_key=CLIENT_SECRET,
        aws_session_token=CLIENT_TOKEN,
        config=Config(**settings),
    )


def patient_client(endpoint, **config):
    """A client for large bodies: while it sends, urllib3 applies the connect timeout to each write,
    and the proxy, reading only as fast as S3 takes the parts, may hold a write for seconds."""
    return make_client(endpoint, **{"connect_timeout": 60, "read_timeout": 300, **config})


@pytest.fixture
def sqs(proxy):
    return make_client(proxy.endpoint)


@pytest.fixture
def queue_url(sqs):
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    yield url
    try:
        sqs.delete_queue(QueueUrl=url)
    except sqs.exceptions.QueueDoesNotExist:
        pass


def pytest_assertrepr_compare(op, left, right):
    """Explains unequal long strings briefly: pytest's own diff of two large bodies takes minutes."""
    if op == "==" and isinstance(left, str) and isinstance(right, str) and max(len(left), len(right)) > 2000:
        index = next((i for i, (a, b) in enumerate(zip(left, right)) if a != b), min(len(left), len(right)))
        return [
            f"long strings differ: lengths {len(left)} and {len(right)}, first difference at {index}",
            f"left:  {left[max(0, index - 20):index + 20]!r}",
            f"right: {right[max(0, index - 20):index + 20]!r}",
        ]
    return None
