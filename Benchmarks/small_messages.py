"""Small messages: requests per second and latency of SendMessage (1 KiB body) and ReceiveMessage
(one 1 KiB message) at several connection counts, on three paths to the same backend:

  direct  wrk straight to the backend;
  nginx   through nginx as a plain reverse proxy (proxy_pass, upstream keep-alive): the floor of
          any hop;
  proxy   through sqs-extended-proxy (release build, default settings but the request log off,
          as nginx's access log is, and a payload bucket set so that the extended client's path is
          the one measured).

and, on the fixed-answer backend, the floor under the proxy (Benchmarks/StackFloor, the proxy's
server and client stack doing none of the proxy's work):

  server  the proxy's HTTP server (NIOAsyncChannel) answering by itself: no upstream call;
  stack   the same server sending every request on with AsyncHTTPClient (the proxy's S3 client,
          its SQS client until session 7), without decoding, signing, metrics or logging;
  transport  the same server sending every request on with the proxy's SQS transport
          (SQSTransport), as the proxy does, likewise without the proxy's work.

Two backends: a fixed-answer SQS responder (nginx answering every call with one fixed result, fast
enough not to be the bottleneck) and moto server (realistic, and itself the bottleneck). The load
generator is wrk (one thread). Prints a table; writes every figure to --output as JSON. PROXY_ARGS
adds options to the proxy's command line (e.g. "--log-level info" for the request log).
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "bench-payloads"
EXTRA = os.environ.get("PROXY_ARGS", "--log-level warning").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_nginx(template, **ports):
    directory = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    (directory / "tmp").mkdir()
    text = (ROOT / "Benchmarks" / template).read_text()
    for name, value in ports.items():
        text = text.replace(f"__{name.upper()}__", str(value))
    (directory / "nginx.conf").write_text(text)
    subprocess.run(["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf")], check=True)
    wait_for(ports["port"], None)
    return int((directory / "nginx.pid").read_text())


class Process:
    """CPU time and peak resident memory of a process, from /proc."""

    def __init__(self, pid):
        self.pid = pid

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_mib(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0


def wrk(url, queue, action, connections, seconds, timeout):
    environment = {**os.environ, "QUEUE_URL": queue, "ACTION": action}
    command = [
        "wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", f"{timeout}s",
        "-s", str(ROOT / "Benchmarks" / "sqs-call.lua"), url,
    ]
    output = subprocess.run(command, env=environment, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT (.*)", output)
    if not match:
        raise RuntimeError(f"wrk printed no result: {output}")
    result = {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
    result["rps"] = result["requests"] / result["seconds"]
    return result


def write_results(path, results):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1))
    print(f"written: {path}")


def stop(children):
    for child in children:
        if child.poll() is None:
            child.terminate()
            child.wait()


def start_proxy(binary, port, sqs_url, s3_url, extra):
    """The release proxy on `port` with a payload bucket, bench credentials, and `extra` options;
    returns once it listens."""
    proxy = subprocess.Popen(
        [
            binary, "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0", "--region", "us-east-1",
            "--sqs-endpoint", sqs_url, "--s3-endpoint", s3_url, "--bucket", BUCKET, *extra,
        ],
        env={**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
             "AWS_EC2_METADATA_DISABLED": "true"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for(port, proxy)
    return proxy


def start_moto_with_bucket(children):
    """A moto server (added to `children`) with the payload bucket; its URL and a boto3 SQS client."""
    import boto3

    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children.append(moto)
    wait_for(port, moto)
    url = f"http://127.0.0.1:{port}"
    credentials = dict(aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1")
    boto3.client("s3", endpoint_url=url, **credentials).create_bucket(Bucket=BUCKET)
    return url, boto3.client("sqs", endpoint_url=url, **credentials)


def create_queue(moto_port, name):
    import boto3

    sqs = boto3.client(
        "sqs", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
        aws_access_key_id="bench", aws_secret_access_key="bench",
    )
    return sqs.create_queue(QueueName=name)["QueueUrl"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", default="1,16,64")
    parser.add_argument("--seconds", type=int, default=5, help="each measurement (after 1 s of warm-up)")
    parser.add_argument("--backends", default="fixed,moto")
    parser.add_argument("--actions", default="SendMessage,ReceiveMessage")
    parser.add_argument(
        "--queue-urls", choices=["proxy", "upstream"], default="proxy",
        help="fixed backend: the requests' QueueUrl names another host than the upstream, as the URLs the "
        "proxy hands out do (the proxy points it at the upstream, writing the request again), or the upstream's",
    )
    parser.add_argument("--proxy", default=str(ROOT / ".build" / "release" / "sqs-extended-proxy"))
    parser.add_argument(
        "--stack-floor", default=str(ROOT / "Benchmarks" / ".build" / "release" / "StackFloor"),
        help="the StackFloor executable; the server and stack paths are left out if it is missing",
    )
    parser.add_argument("--output", default=str(ROOT / "Benchmarks" / "results" / "small-messages.json"))
    options = parser.parse_args()
    connections = [int(c) for c in options.connections.split(",")]
    actions = options.actions.split(",")

    children, nginx_pids = [], []
    results = {"machine": {"cores": os.cpu_count()}, "runs": []}
    try:
        moto_port = free_port()
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        children.append(moto)
        wait_for(moto_port, moto)
        import boto3

        boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",
        ).create_bucket(Bucket=BUCKET)
        fixed_port = free_port()
        nginx_pids.append(start_nginx("fixed-answer-nginx.conf", port=fixed_port))

        print(f"{os.cpu_count()} cores; wrk 1 thread; {options.seconds} s per measurement; proxy {options.proxy}")
        header = f"{'backend':<7} {'action':<15} {'conns':>5} {'path':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>7} {'hop CPU us/req':>17}"
        print(header)
        for backend in options.backends.split(","):
            upstream_port = fixed_port if backend == "fixed" else moto_port
            # Another host than the upstream's (port 80), as a queue URL the proxy handed out names.
            fixed_queue = "http://127.0.0.1/123456789012/bench"
            hop_port, proxy_port = free_port(), free_port()
            nginx_pids.append(start_nginx("nginx-hop.conf", port=hop_port, upstream_port=upstream_port))
            proxy = start_proxy(
                options.proxy, proxy_port, f"http://127.0.0.1:{upstream_port}", f"http://127.0.0.1:{moto_port}", EXTRA
            )
            children.append(proxy)
            measured = Process(proxy.pid)
            hops = {"proxy": measured}
            paths = [("direct", upstream_port), ("nginx", hop_port)]
            if backend == "fixed" and Path(options.stack_floor).exists():
                upstream_url = f"http://127.0.0.1:{upstream_port}"
                for path, mode, target in (
                    ("server", "answer", []), ("stack", "forward", [upstream_url]),
                    ("transport", "transport", [upstream_url]),
                ):
                    port = free_port()
                    floor = subprocess.Popen([options.stack_floor, mode, str(port), *target], stdout=subprocess.DEVNULL)
                    children.append(floor)
                    wait_for(port, floor)
                    hops[path] = Process(floor.pid)
                    paths.append((path, port))
            paths.append(("proxy", proxy_port))
            measured.reset_peak()
            timeout = 2 if backend == "fixed" else 30
            for action in actions:
                for count in connections:
                    for path, port in paths:
                        url = f"http://127.0.0.1:{port}/"
                        # moto slows down as a queue fills: every moto measurement gets a new queue
                        # (ReceiveMessage on moto therefore answers with no message).
                        queue = (
                            (fixed_queue if options.queue_urls == "proxy" else f"http://127.0.0.1:{upstream_port}/123456789012/bench")
                            if backend == "fixed"
                            else create_queue(moto_port, f"bench-{action}-{count}-{path}-{int(time.time() * 1000)}")
                        )
                        wrk(url, queue, action, count, 1, timeout)
                        hop = hops.get(path)
                        cpu = hop.cpu_seconds() if hop else 0
                        result = wrk(url, queue, action, count, options.seconds, timeout)
                        cpu_per_request = (
                            (hop.cpu_seconds() - cpu) / max(result["requests"], 1) * 1e6 if hop else None
                        )
                        run = {"backend": backend, "action": action, "connections": count, "path": path, **result,
                               "hop_cpu_us_per_request": cpu_per_request}
                        results["runs"].append(run)
                        print(
                            f"{backend:<7} {action:<15} {count:>5} {path:<9} {result['rps']:>9.0f} "
                            f"{result['p50_us'] / 1000:>8.2f} {result['p99_us'] / 1000:>8.2f} {result['p999_us'] / 1000:>9.2f} "
                            f"{int(result['errors'] + result['non2xx']):>7} "
                            + (f"{cpu_per_request:>17.0f}" if cpu_per_request is not None else f"{'':>17}")
                        )
                        sys.stdout.flush()
            results[f"proxy_peak_rss_mib_{backend}"] = measured.peak_mib()
            print(f"proxy peak RSS during the {backend} runs: {measured.peak_mib():.1f} MiB")
            proxy.terminate()
            proxy.wait()
        write_results(options.output, results)
    finally:
        stop(children)
        for pid in nginx_pids:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    main()
