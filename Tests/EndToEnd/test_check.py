"""`sqs-extended-proxy check`: the resolved settings with their sources, then credentials, STS, the
bucket and SQS tried once; exit 0 only if every check passed; never a secret on the output."""

import subprocess
import uuid

from conftest import BUCKET, PROXY_BIN, PROXY_CREDENTIALS, REGION, proxy_environment
from sigv4_relay import SigV4Relay
from test_extended import objects


def run_check(relay, moto, *args, credentials=PROXY_CREDENTIALS, env=None):
    """Runs `check` against the relay (SQS) and moto (S3, STS); returns (exit status, output lines)."""
    environment = proxy_environment(env, credentials)
    moto_url = f"http://{moto[0]}:{moto[1]}"
    command = [PROXY_BIN, "check", "--sqs-endpoint", relay.endpoint, "--s3-endpoint", moto_url, "--sts-endpoint", moto_url, *args]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.splitlines()


def checks(lines):
    """The check lines (not the settings), by what they check."""
    return {line.split()[1].rstrip(":"): line for line in lines if line.startswith(("ok ", "FAIL "))}


def test_a_healthy_setup_passes_and_tells_each_settings_source(relay, moto, s3, tmp_path):
    config = tmp_path / "proxy.yaml"
    config.write_text("log-level: debug\nthreshold: 1000\n")
    status, lines = run_check(
        relay, moto, "--region", REGION, "--bucket", BUCKET, "--s3-key-prefix", "check/", "--config", str(config),
        env={"SQS_PROXY_THRESHOLD": "2000"},
    )
    assert status == 0, lines
    assert "setting region = us-east-1 (flag)" in lines
    assert "setting threshold = 2000 (env)" in lines
    assert "setting log-level = debug (file)" in lines
    assert "setting part-size = 8388608 (default)" in lines
    assert "setting sse = none (default)" in lines
    assert "egress https-proxy = none" in lines
    found = checks(lines)
    assert set(found) == {"credentials", "sts", "bucket", "sqs"}
    assert all(line.startswith("ok ") for line in found.values()), found
    assert found["credentials"].endswith("access key ID …" + PROXY_CREDENTIALS.access_key[-4:])
    assert "arn:aws:" in found["sts"]
    assert f"bucket {BUCKET} at " in found["bucket"] and "check/sqs-extended-proxy-check-" in found["bucket"]
    assert not [key for key in objects(s3, "check/")]
    output = "\n".join(lines)
    assert PROXY_CREDENTIALS.secret_key not in output and PROXY_CREDENTIALS.token not in output
    assert PROXY_CREDENTIALS.access_key not in output


def test_a_queue_is_looked_up_by_name(relay, moto, direct_sqs):
    name = f"q-{uuid.uuid4().hex[:12]}"
    url = direct_sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        status, lines = run_check(relay, moto, "--region", REGION, "--queue", name)
        assert status == 0, lines
        assert checks(lines)["sqs"].endswith("/" + name)
        assert checks(lines)["bucket"] == "ok   bucket: none set, nothing is offloaded"
        status, lines = run_check(relay, moto, "--region", REGION, "--queue", name + "-missing")
        assert status == 1
        assert "QueueDoesNotExist" in checks(lines)["sqs"] and relay.endpoint in checks(lines)["sqs"]
    finally:
        direct_sqs.delete_queue(QueueUrl=url)


def test_a_missing_bucket_fails_naming_the_bucket_endpoint_and_code(relay, moto):
    status, lines = run_check(relay, moto, "--region", REGION, "--bucket", "no-such-bucket-for-check")
    assert status == 1
    failure = checks(lines)["bucket"]
    assert failure.startswith("FAIL bucket no-such-bucket-for-check at http://")
    assert "NoSuchBucket" in failure
    assert checks(lines)["sqs"].startswith("ok ")


def test_egress_proxies_are_shown_without_their_credentials(relay, moto):
    status, lines = run_check(
        relay, moto, "--region", REGION,
        env={"HTTPS_PROXY": "http://user:proxy-password@proxy.invalid:3128", "NO_PROXY": "127.0.0.1,localhost"},
    )
    assert "egress https-proxy = proxy.invalid:3128 (HTTPS_PROXY)" in lines
    assert "egress http-proxy = none" in lines
    assert "egress no-proxy = 127.0.0.1,localhost" in lines
    assert "proxy-password" not in "\n".join(lines)
    # Every upstream here is 127.0.0.1: reached directly.
    assert status == 0, lines


def test_bad_credentials_fail_without_printing_them(moto):
    from botocore.credentials import Credentials

    # A relay of its own: the session's must only ever see the proxies' valid signatures.
    relay = SigV4Relay(upstream=moto, credentials=PROXY_CREDENTIALS, region=REGION)
    server = relay.serve()
    relay.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    wrong = Credentials("AKIAWRONGKEY9876", "wrong-secret-value", "wrong-session-token")
    try:
        status, lines = run_check(relay, moto, "--region", REGION, credentials=wrong)
    finally:
        server.shutdown()
    assert status == 1
    assert checks(lines)["sqs"].startswith("FAIL sqs: ListQueues at " + relay.endpoint)
    assert "SignatureDoesNotMatch" in checks(lines)["sqs"]
    output = "\n".join(lines)
    assert "wrong-secret-value" not in output and "wrong-session-token" not in output


def test_no_credentials_fail(relay, moto):
    status, lines = run_check(relay, moto, "--region", REGION, credentials=None)
    assert status == 1
    assert checks(lines)["credentials"].startswith("FAIL credentials: No AWS credentials")


def test_settings_that_do_not_resolve_fail(relay, moto):
    status, lines = run_check(relay, moto, "--region", REGION, "--threshold", "lots")
    assert status == 1
    assert lines == ["FAIL settings: threshold must be a whole number from 0 to 1048576, or auto: lots"]
