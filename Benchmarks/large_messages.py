"""Large messages through the proxy next to the same bytes written straight to S3, in one run.

Starts moto server (local SQS and S3) and the release proxy, then for each size sends one message
through the proxy and receives it back, and writes and reads the same bytes straight to moto's S3,
with the same minimal streaming HTTP client (Python's http.client: the body is generated as it is
sent, so the client holds nothing and costs the same on both paths). The direct path is measured
twice: one PUT, and a multipart upload with the proxy's part size and parallelism (what S3 clients
do with large objects, and what the proxy does). Each size is measured in rounds, every path once
a round and each path first in turn (3 to 15 rounds: small sizes get more, their times are short
and noisy). Prints the median MiB/s of each path, the proxy's send throughput as a share of the
direct multipart upload's (and of the single PUT's), paired round by round (the median and the
range), the proxy's peak resident memory (VmHWM, reset before each size) and CPU time per round,
then the same with several messages of the largest size in flight at once.

    python Benchmarks/large_messages.py [--sizes 1,10,100,1024] [--concurrent 4] [--repeat N] [--proxy PATH]
"""

import argparse
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

MIB = 1024 * 1024
BUCKET = "bench-payloads"
# One block of printable ASCII (no quote or backslash: the client need not escape it).
BLOCK = (bytes(range(0x30, 0x5B)) * (MIB // 43 + 1))[:MIB]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process):
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"{process.args[0]} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def body_chunks(size):
    remaining = size
    while remaining:
        piece = BLOCK[: min(len(BLOCK), remaining)]
        remaining -= len(piece)
        yield piece


def expected_md5(size):
    digest = hashlib.md5()
    for chunk in body_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()


# moto reads the SigV4 scope to route a request: any well-formed Authorization header will do.
def auth(service):
    day = time.strftime("%Y%m%d", time.gmtime())
    return (
        f"AWS4-HMAC-SHA256 Credential=bench/{day}/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64
    )


def request(port, method, path, headers, body=None, length=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    if length is not None:
        headers = {**headers, "Content-Length": str(length)}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = bytearray()
    while chunk := response.read(MIB):
        data += chunk
    connection.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {bytes(data[:300])!r}")
    return bytes(data)


def send_through_proxy(port, queue_url, size):
    head = json.dumps({"QueueUrl": queue_url})[:-1].encode() + b', "MessageBody": "'
    tail = b'"}'

    def body():
        yield head
        yield from body_chunks(size)
        yield tail

    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.SendMessage",
        "Authorization": auth("sqs"),
    }
    result = json.loads(request(port, "POST", "/", headers, body(), len(head) + size + len(tail)))
    return result["MD5OfMessageBody"]


def receive_through_proxy(port, queue_url):
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.ReceiveMessage",
        "Authorization": auth("sqs"),
    }
    response = request(port, "POST", "/", headers, json.dumps({"QueueUrl": queue_url, "WaitTimeSeconds": 5}).encode())
    start = response.index(b'"Body":"') + len(b'"Body":"')
    body = memoryview(response)[start : response.index(b'"', start)]
    message = json.loads(response[: start - len(b'"Body":"')] + b'"Body":""' + response[start + len(body) + 1 :])
    message = message["Messages"][0]
    if hashlib.md5(body).hexdigest() != message["MD5OfBody"]:
        raise RuntimeError("received body does not match its MD5OfBody")
    return len(body), message["MD5OfBody"], message["ReceiptHandle"]


def delete_through_proxy(port, queue_url, receipt_handle):
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.DeleteMessage",
        "Authorization": auth("sqs"),
    }
    request(port, "POST", "/", headers, json.dumps({"QueueUrl": queue_url, "ReceiptHandle": receipt_handle}).encode())


def put_direct(port, key, size):
    path = f"/{BUCKET}/{quote(key)}"
    request(port, "PUT", path, {"Authorization": auth("s3")}, body_chunks(size), size)


def put_direct_multipart(port, key, size, part_size=8 * MIB, in_flight=4):
    """The same bytes as a multipart upload with the proxy's part size and parallelism, as S3
    clients upload large objects (the AWS CLI and SDK transfer managers from 8 MiB)."""
    path = f"/{BUCKET}/{quote(key)}"
    headers = {"Authorization": auth("s3")}
    created = request(port, "POST", f"{path}?uploads", headers, b"")
    upload_id = created.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    count = (size + part_size - 1) // part_size
    etags = [None] * count

    def upload(number):
        length = min(part_size, size - number * part_size)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        connection.request(
            "PUT",
            f"{path}?partNumber={number + 1}&uploadId={quote(upload_id)}",
            body=body_chunks(length),
            headers={**headers, "Content-Length": str(length)},
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        etags[number] = response.getheader("ETag")

    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(upload, range(count)))
    parts = "".join(f"<Part><PartNumber>{n + 1}</PartNumber><ETag>{e}</ETag></Part>" for n, e in enumerate(etags))
    complete = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
    request(port, "POST", f"{path}?uploadId={quote(upload_id)}", headers, complete)


def get_direct(port, key):
    data = request(port, "GET", f"/{BUCKET}/{quote(key)}", {"Authorization": auth("s3")})
    return len(data), hashlib.md5(data).hexdigest()


def delete_direct(port, key):
    request(port, "DELETE", f"/{BUCKET}/{quote(key)}", {"Authorization": auth("s3")})


def create_queue(moto_port):
    name = f"bench-{uuid.uuid4().hex[:8]}"
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.CreateQueue", "Authorization": auth("sqs")}
    return json.loads(request(moto_port, "POST", "/", headers, json.dumps({"QueueName": name}).encode()))["QueueUrl"]


class PeakMemory:
    """The proxy's peak resident set size, reset on demand (Linux: clear_refs 5 resets VmHWM)."""

    def __init__(self, pid):
        self.pid = pid

    def reset(self):
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")

    def peak_mib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_concurrently(count, function):
    results = [None] * count
    errors = []

    def work(index):
        try:
            results[index] = function(index)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100,1024", help="message sizes in MiB")
    parser.add_argument("--concurrent", type=int, default=4, help="messages of the largest size in flight at once")
    parser.add_argument(
        "--repeat", type=int, default=None,
        help="rounds of each size (default: enough for 512 MiB, 3 to 15); medians are shown",
    )
    parser.add_argument("--proxy", default=".build/release/sqs-extended-proxy")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs moto")
    options = parser.parse_args()
    sizes = [int(s) * MIB for s in options.sizes.split(",")]

    moto_port, proxy_port = free_port(), free_port()
    moto = subprocess.Popen(
        [options.python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    proxy = None
    try:
        wait_for(moto_port, moto)
        request(moto_port, "PUT", f"/{BUCKET}", {"Authorization": auth("s3")}, b"")
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
        proxy = subprocess.Popen(
            [
                options.proxy, "--listen", f"127.0.0.1:{proxy_port}", "--region", "us-east-1",
                "--sqs-endpoint", f"http://127.0.0.1:{moto_port}", "--s3-endpoint", f"http://127.0.0.1:{moto_port}",
                "--bucket", BUCKET, "--log-level", "warning",
                # moto completes a multipart upload by rewriting the object: seconds a GiB, and four at
                # once queue behind each other. The client waits up to 600 s on every path; so does the proxy.
                "--upstream-read-timeout", "600",
            ],
            env=environment,
        )
        wait_for(proxy_port, proxy)
        memory = PeakMemory(proxy.pid)
        print(
            f"{os.cpu_count()} cores; proxy {options.proxy}; moto server as SQS and S3; part size 8 MiB, 4 in flight; "
            f"medians of paired rounds (range in brackets); proxy idle RSS {memory.peak_mib():.1f} MiB"
        )
        print(
            f"{'size':>9} {'path':<17} {'send MiB/s':>10} {'receive MiB/s':>13} {'send vs multipart':>19} "
            f"{'vs one PUT':>15} {'peak RSS MiB':>13} {'proxy CPU s':>12}"
        )

        def row(label, path, send, receive, extra=""):
            print(f"{label:>9} {path:<17} {send:>10.1f} {receive:>13.1f}{extra}")
            sys.stdout.flush()

        def median(values):
            return sorted(values)[len(values) // 2]

        def direct(count, size, md5, put):
            keys = [f"direct-{uuid.uuid4()}" for _ in range(count)]
            put_seconds, _ = run_concurrently(count, lambda i: put(moto_port, keys[i], size))
            get_seconds, got = run_concurrently(count, lambda i: get_direct(moto_port, keys[i]))
            assert all(g == (size, md5) for g in got), "direct read back wrong"
            run_concurrently(count, lambda i: delete_direct(moto_port, keys[i]))
            return put_seconds, get_seconds

        def proxied(count, size, md5):
            queues = [create_queue(moto_port) for _ in range(count)]
            send_seconds, sent = run_concurrently(count, lambda i: send_through_proxy(proxy_port, queues[i], size))
            receive_seconds, received = run_concurrently(count, lambda i: receive_through_proxy(proxy_port, queues[i]))
            assert all(m == md5 for m in sent) and all(r[:2] == (size, md5) for r in received), "proxy round trip wrong"
            run_concurrently(count, lambda i: delete_through_proxy(proxy_port, queues[i], received[i][2]))
            return send_seconds, receive_seconds

        paths = {
            "one PUT": lambda count, size, md5: direct(count, size, md5, put_direct),
            "multipart": lambda count, size, md5: direct(count, size, md5, put_direct_multipart),
            "proxy": proxied,
        }

        def rounds_for(total_bytes):
            return options.repeat or max(3, min(15, -(-512 * MIB // total_bytes)))

        def share(proxy_times, baseline_times):
            """The proxy's send throughput as a share of a baseline's, paired round by round: the
            median and the range over the rounds."""
            ratios = sorted(b / p for p, b in zip(proxy_times, baseline_times))
            return f"{100 * median(ratios):.0f}% ({100 * ratios[0]:.0f}-{100 * ratios[-1]:.0f})"

        def measure(label, count, size):
            md5 = expected_md5(size)
            total = count * size / MIB
            rounds = rounds_for(count * size)
            runs = {name: [] for name in paths}
            order = list(paths)
            memory.reset()
            cpu = memory.cpu_seconds()
            for index in range(rounds):
                # Each path goes first, second and third in turn: moto slows down after heavy work.
                for name in order[index % 3 :] + order[: index % 3]:
                    runs[name].append(paths[name](count, size, md5))
            cpu = (memory.cpu_seconds() - cpu) / rounds
            sends = {name: [s for s, _ in times] for name, times in runs.items()}
            for name, path in (("one PUT", "direct, one PUT"), ("multipart", "direct, multipart")):
                row(label, path, total / median(sends[name]), total / median([r for _, r in runs[name]]))
                label = ""
            row(
                f"{rounds} rounds", "proxy", total / median(sends["proxy"]),
                total / median([r for _, r in runs["proxy"]]),
                f" {share(sends['proxy'], sends['multipart']):>19} {share(sends['proxy'], sends['one PUT']):>15}"
                f" {memory.peak_mib():>13.1f} {cpu:>12.1f}",
            )

        # One untimed round of every path first: moto and the proxy load what they need on first use.
        for path in paths.values():
            path(1, MIB, expected_md5(MIB))

        for size in sizes:
            measure(f"{size // MIB} MiB", 1, size)
        if options.concurrent > 1:
            measure(f"{options.concurrent}x{sizes[-1] // MIB}MiB", options.concurrent, sizes[-1])
    finally:
        for process in (proxy, moto):
            if process:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
