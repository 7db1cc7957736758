"""Requests shaped to cost the proxy many times their bytes once parsed (issue 24, item 1), each shape
alone and all at once, against the default settings (`--memory-budget` 128 MiB, `--max-request-size`
16 MiB), without client authentication: anyone who reaches the port can send them.

The shapes, each sent by --copies clients at once:
  query-bare-streamed   a Query SendMessageBatch of bare parameters (`a&a&a…`), 32 MiB: over the
                        threshold, so it streams, and is parsed before any signature could be checked;
  query-bare-held       a Query ListQueues of bare parameters, just under 16 MiB, held whole (no
                        form content type, so it does not stream);
  json-digits-held      a JSON ListQueues that is an array of single digits, just under 16 MiB;
  json-members-streamed a JSON SendMessage with a message body and 3 million members `"mN":1`, 32 MiB;
  json-entries-streamed a JSON SendMessageBatch whose entries are empty objects (`{}`), 48 MiB.

Meanwhile one boto3 client sends and receives small messages through the proxy, to show that it
serves others. For each phase: the proxy's peak resident memory (VmHWM, reset before the phase),
the status of every hostile answer (or that the proxy closed the connection without one), and the
small calls that succeeded or failed. Writes every figure to --output as JSON and prints a table.
"""

import argparse
import asyncio
import json
import threading
import time

from small_messages import ROOT, Process, free_port, start_moto_with_bucket, start_proxy, stop, write_results

MIB = 1024 * 1024


def repeated(head, item, separator, tail, size):
    """`head`, then `item` joined by `separator` until `size` bytes, then `tail`."""
    unit = item + separator
    count = (size - len(head) - len(tail)) // len(unit)
    return head + unit * (count - 1) + item + tail


def shapes(queue):
    """The hostile requests: name -> (headers, body)."""
    json_headers = {"Content-Type": "application/x-amz-json-1.0"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    quoted = queue.replace(":", "%3A").replace("/", "%2F")
    return {
        "query-bare-streamed": (
            form, repeated(f"Action=SendMessageBatch&QueueUrl={quoted}&".encode(), b"a", b"&", b"", 32 * MIB)),
        "query-bare-held": ({}, repeated(b"Action=ListQueues&", b"a", b"&", b"", 16 * MIB - 1024)),
        "json-digits-held": (
            {**json_headers, "X-Amz-Target": "AmazonSQS.ListQueues"},
            repeated(b"[", b"1", b",", b"]", 16 * MIB - 1024)),
        "json-members-streamed": (
            {**json_headers, "X-Amz-Target": "AmazonSQS.SendMessage"},
            b'{"QueueUrl":"' + queue.encode() + b'","MessageBody":"b",'
            + b",".join(b'"m%d":1' % index for index in range(3_500_000))[: 32 * MIB].rsplit(b",", 1)[0] + b"}"),
        "json-entries-streamed": (
            {**json_headers, "X-Amz-Target": "AmazonSQS.SendMessageBatch"},
            repeated(b'{"QueueUrl":"' + queue.encode() + b'","Entries":[', b"{}", b",", b"]}", 48 * MIB)),
    }


async def send_raw(port, headers, body):
    """Sends one request, its body in 256 KiB writes; the answer's status, or how it ended."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as error:
        return f"connect failed: {error}"
    head = "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"

    async def write():
        writer.write(head.encode())
        view = memoryview(body)
        for start in range(0, len(body), 256 * 1024):
            writer.write(view[start : start + 256 * 1024])
            await writer.drain()

    sending = asyncio.ensure_future(write())
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=120)
    except (OSError, asyncio.TimeoutError) as error:
        status_line = b""
        outcome = f"no answer: {type(error).__name__}"
    else:
        outcome = status_line.split(b" ")[1].decode() if status_line.startswith(b"HTTP/1.1 ") else "closed"
    sending.cancel()
    writer.close()
    return outcome


class SmallCalls:
    """One boto3 client sending and receiving small messages through the proxy, in a thread."""

    def __init__(self, endpoint, queue):
        import boto3
        from botocore.config import Config

        self.client = boto3.client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
            aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}, read_timeout=30),
        )
        self.queue = queue
        self.succeeded = 0
        self.failures = []
        self.running = False
        self.thread = None

    def start(self):
        self.succeeded, self.failures, self.running = 0, [], True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def stop(self):
        self.running = False
        self.thread.join()

    def run(self):
        while self.running:
            try:
                self.client.send_message(QueueUrl=self.queue, MessageBody="small")
                for message in self.client.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
                    "Messages", []
                ):
                    self.client.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
                self.succeeded += 1
            except Exception as error:  # noqa: BLE001: every failure is counted, whatever its kind
                self.failures.append(f"{type(error).__name__}: {error}"[:160])
            time.sleep(0.02)


def phase(name, requests, port, proxy, small):
    """Sends `requests` (name -> (headers, body)) at once; the peak memory, answers and small calls."""
    process = Process(proxy.pid)
    time.sleep(1)
    process.reset_peak()
    small.start()
    started = time.time()

    async def all_at_once():
        return await asyncio.gather(*(send_raw(port, headers, body) for _, (headers, body) in requests))

    answers = asyncio.run(all_at_once())
    elapsed = time.time() - started
    time.sleep(1)
    small.stop()
    outcome = {
        "phase": name, "requests": len(requests), "bytes_sent_mib": sum(len(b) for _, (_, b) in requests) / MIB,
        "answers": sorted(answers), "seconds": round(elapsed, 2), "peak_rss_mib": round(process.peak_mib(), 1),
        "small_calls_succeeded": small.succeeded, "small_calls_failed": len(small.failures),
        "small_call_failures": sorted(set(small.failures))[:5],
        "proxy_alive": proxy.poll() is None,
    }
    print(json.dumps(outcome))
    return outcome


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", default=str(ROOT / ".build" / "release" / "sqs-extended-proxy"))
    parser.add_argument("--copies", type=int, default=4, help="clients sending each shape at once")
    parser.add_argument("--proxy-args", default="", help="extra proxy options, space-separated")
    parser.add_argument("--output", default=str(ROOT / "Benchmarks" / "results" / "hostile-shapes.json"))
    options = parser.parse_args()

    children = []
    try:
        proxy_port = free_port()
        moto_url, sqs = start_moto_with_bucket(children)
        queue = sqs.create_queue(QueueName=f"hostile-{int(time.time())}")["QueueUrl"]
        proxy = start_proxy(options.proxy, proxy_port, moto_url, moto_url, options.proxy_args.split())
        children.append(proxy)
        time.sleep(1)
        idle = Process(proxy.pid).peak_mib()
        small = SmallCalls(f"http://127.0.0.1:{proxy_port}", queue)
        every = shapes(queue)
        phases = [
            phase(name, [(name, request)] * options.copies, proxy_port, proxy, small)
            for name, request in every.items()
        ]
        phases.append(
            phase("all at once", [item for item in every.items() for _ in range(options.copies)], proxy_port, proxy,
                  small))
        result = {"idle_rss_mib": idle, "copies": options.copies, "proxy_args": options.proxy_args, "phases": phases}
        print()
        print(f"{'phase':24} {'requests':>8} {'MiB sent':>9} {'peak RSS MiB':>13} {'small calls ok/failed':>22}  answers")
        for p in phases:
            answers = ", ".join(f"{a} ×{p['answers'].count(a)}" for a in sorted(set(p["answers"])))
            print(
                f"{p['phase']:24} {p['requests']:8} {p['bytes_sent_mib']:9.0f} {p['peak_rss_mib']:13.1f} "
                f"{p['small_calls_succeeded']:>12}/{p['small_calls_failed']:<9}  {answers}"
            )
        write_results(options.output, result)
    finally:
        stop(children)


if __name__ == "__main__":
    main()
