"""Egress proxies: HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured for SQS, S3 and STS as the AWS
SDKs honour them; credential endpoints never go through a proxy. A forward proxy on loopback counts
what passes through it."""

import base64

import pytest

from conftest import BUCKET
from forward_proxy import ForwardProxy
from test_operations import credential_endpoint, launch, round_trip, tls_terminator  # noqa: F401 - fixtures


@pytest.fixture
def forward_proxy():
    proxies = []

    def make(**options):
        proxies.append(ForwardProxy(**options))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.stop()


def port_of(url):
    return url.rsplit(":", 1)[1].rstrip("/")


def test_plain_upstreams_go_through_the_http_proxy_with_its_credentials(launch, forward_proxy, moto, relay, s3):
    egress = forward_proxy(credentials="e2e:p@ss word")
    proxy = launch(
        "--bucket", BUCKET, "--sts-endpoint", f"http://{moto[0]}:{moto[1]}",
        env={"http_proxy": egress.url("e2e:p%40ss%20word"), "HTTP_PROXY": "http://127.0.0.1:1"},
        credentials=True,
    )
    round_trip(proxy, "p" * 300_000)
    relay_target, moto_target = f"127.0.0.1:{port_of(relay.endpoint)}", f"127.0.0.1:{moto[1]}"
    # SQS (the proxy's own transport): absolute-URI requests. S3 (AsyncHTTPClient): a CONNECT tunnel.
    assert relay_target in egress.seen("POST")
    assert moto_target in egress.seen("CONNECT")
    assert relay_target not in egress.seen("CONNECT")
    expected = "Basic " + base64.b64encode(b"e2e:p@ss word").decode()
    assert {authorization for _, _, authorization in egress.records} == {expected}


def test_no_proxy_hosts_are_reached_directly(launch, forward_proxy, moto, relay, s3):
    egress = forward_proxy()
    proxy = launch("--bucket", BUCKET, env={"HTTP_PROXY": egress.url(), "NO_PROXY": f"example.com, 127.0.0.1:{moto[1]}"}, credentials=True)
    round_trip(proxy, "n" * 300_000)
    assert egress.seen("POST") and f"127.0.0.1:{moto[1]}" not in egress.seen()

    everything_direct = forward_proxy()
    proxy = launch("--bucket", BUCKET, env={"http_proxy": everything_direct.url(), "no_proxy": "localhost,127.0.0.0/8"}, credentials=True)
    round_trip(proxy, "d" * 300_000)
    assert everything_direct.records == []


def test_a_tls_upstream_is_reached_in_a_connect_tunnel(launch, forward_proxy, moto, tmp_path):
    server, url, ca_file = tls_terminator(moto, tmp_path)
    egress = forward_proxy()
    try:
        proxy = launch("--sqs-endpoint", url.replace("127.0.0.1", "localhost"), "--ca-bundle", ca_file, env={"HTTPS_PROXY": egress.url()}, credentials=True)
        round_trip(proxy)
        assert f"localhost:{port_of(url)}" in egress.seen("CONNECT")
        # The TLS handshake inside the tunnel named the upstream, not the proxy.
        assert "localhost" in server.sni_names
        # S3 is http:// here and HTTP_PROXY is unset: straight to moto.
        assert not [target for target in egress.seen() if target.endswith(f":{moto[1]}")]
    finally:
        server.shutdown()


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_proxy_that_refuses_is_an_sqs_error(launch, forward_proxy, moto, tmp_path, scheme):
    server, url, ca_file = tls_terminator(moto, tmp_path)
    egress = forward_proxy(credentials="needed:yes")
    try:
        if scheme == "https":
            proxy = launch("--sqs-endpoint", url, "--ca-bundle", ca_file, env={"HTTPS_PROXY": egress.url()}, credentials=True)
        else:
            proxy = launch(env={"HTTP_PROXY": egress.url()}, credentials=True)
        from conftest import make_client

        client = make_client(proxy.endpoint, retries={"total_max_attempts": 1})
        with pytest.raises(client.exceptions.ClientError) as caught:
            client.list_queues()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert egress.seen("CONNECT" if scheme == "https" else "POST")
    finally:
        server.shutdown()


@pytest.mark.parametrize("source", ["container", "instance metadata"])
def test_credential_endpoints_are_never_proxied(launch, forward_proxy, credential_endpoint, relay, source):
    egress = forward_proxy()
    endpoint = credential_endpoint()
    variables = (
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url + "/creds"}
        if source == "container"
        else {"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint.url}
    )
    proxy = launch(env={"HTTP_PROXY": egress.url(), "HTTPS_PROXY": egress.url(), **variables})
    round_trip(proxy)
    assert endpoint.credential_fetches()
    endpoint_target = endpoint.url.removeprefix("http://")
    assert endpoint_target not in egress.seen()
    assert f"127.0.0.1:{port_of(relay.endpoint)}" in egress.seen("POST")


def test_a_proxy_url_that_is_not_http_is_refused_at_start(relay, moto):
    from conftest import REGION, ProxyProcess

    with pytest.raises(RuntimeError, match="only http:// proxies"):
        ProxyProcess(["--region", REGION, "--sqs-endpoint", relay.endpoint], env={"HTTPS_PROXY": "https://proxy.example:3128"})
