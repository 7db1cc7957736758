"""The proxy's resident memory under hostile and heavy load at once (issue 17): 1,000 connections
that hold the proxy without finishing a request, and 64 boto3 clients each sending 5 MiB messages.

The hostile connections, reconnecting whenever the proxy closes them:
  - idle: connect and send nothing;
  - head tricklers: a request head, one byte a second;
  - body tricklers: a 12.5 MiB ListQueues, its body 1 KiB every 200 ms;
  - body holders: 12 MiB of a 12.5 MiB ListQueues at once, then nothing (the case that took the
    proxy to 1.3 GB before the memory budget).
The senders use boto3's standard retry mode (10 attempts), so a 503 from the memory budget is
retried with backoff as in any application. The proxy's resident memory is sampled every 50 ms;
the peak (VmHWM) is reported with the senders' results, and every message sent is checked in SQS.
"""

import argparse
import asyncio
import json
import threading
import time
from pathlib import Path

from small_messages import ROOT, Process, free_port, start_moto_with_bucket, start_proxy, stop, write_results

MIB = 1024 * 1024


class HostileClients:
    """The connections that hold the proxy, on an asyncio loop of their own thread."""

    def __init__(self, port, counts):
        self.port = port
        self.counts = counts
        self.connections = 0
        self.reconnects = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self):
        self.thread.start()
        for kind, count in self.counts.items():
            for _ in range(count):
                asyncio.run_coroutine_threadsafe(self.keep(getattr(self, kind)), self.loop)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def keep(self, behaviour):
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            self.connections += 1
            try:
                await behaviour(reader, writer)
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self.connections -= 1
                self.reconnects += 1
                writer.close()

    @staticmethod
    async def until_closed(reader):
        while await reader.read(65536):
            pass

    async def idle(self, reader, writer):
        await self.until_closed(reader)

    async def head_trickler(self, reader, writer):
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")
        closed = asyncio.ensure_future(self.until_closed(reader))
        while not closed.done():
            writer.write(b"X")
            await writer.drain()
            await asyncio.sleep(1)

    HEAD = (
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: 13107200\r\n\r\n"
    ).encode()

    async def body_trickler(self, reader, writer):
        writer.write(self.HEAD + b'{"QueueNamePrefix":"')
        closed = asyncio.ensure_future(self.until_closed(reader))
        while not closed.done():
            writer.write(b"x" * 1024)
            await writer.drain()
            await asyncio.sleep(0.2)

    async def body_holder(self, reader, writer):
        writer.write(self.HEAD + b'{"QueueNamePrefix":"')
        chunk = b"x" * MIB
        for _ in range(12):
            writer.write(chunk)
            await writer.drain()
        await self.until_closed(reader)


class MemorySampler:
    """The process's resident memory every 50 ms, in a thread."""

    def __init__(self, pid):
        self.path = Path(f"/proc/{pid}/status")
        self.samples = []
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)

    def rss_mib(self):
        for line in self.path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def run(self):
        while self.running:
            self.samples.append((time.time(), self.rss_mib()))
            time.sleep(0.05)


def send_all(endpoint, queue, senders, messages, size):
    """Each sender thread sends `messages` messages of `size` bytes; the outcome of every send."""
    import boto3
    from botocore.config import Config

    outcomes = []
    lock = threading.Lock()

    def sender(index):
        client = boto3.client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(
                retries={"max_attempts": 10, "mode": "standard"}, connect_timeout=60, read_timeout=300,
                max_pool_connections=1,
            ),
        )
        body = (f"{index:04d}" * (size // 4 + 1))[:size]
        for _ in range(messages):
            started = time.time()
            try:
                response = client.send_message(QueueUrl=queue, MessageBody=body)
                outcome = ("sent", response["ResponseMetadata"].get("RetryAttempts", 0), time.time() - started)
            except Exception as error:  # noqa: BLE001: every failure is counted, whatever its kind
                outcome = (f"failed: {type(error).__name__}: {error}"[:200], 0, time.time() - started)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=sender, args=(index,)) for index in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", default=str(ROOT / ".build" / "release" / "sqs-extended-proxy"))
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--head-tricklers", type=int, default=300)
    parser.add_argument("--body-tricklers", type=int, default=300)
    parser.add_argument("--body-holders", type=int, default=100)
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--messages", type=int, default=2, help="messages each sender sends")
    parser.add_argument("--size", type=int, default=5 * MIB)
    parser.add_argument("--settle", type=float, default=8, help="seconds the hostile connections run first")
    parser.add_argument("--proxy-args", default="", help="extra proxy options, space-separated")
    parser.add_argument("--output", default=str(ROOT / "Benchmarks" / "results" / "memory-under-load.json"))
    options = parser.parse_args()

    children = []
    try:
        proxy_port = free_port()
        moto_url, sqs = start_moto_with_bucket(children)
        queue = sqs.create_queue(QueueName=f"memory-{int(time.time())}")["QueueUrl"]
        hostile_total = options.idle + options.head_tricklers + options.body_tricklers + options.body_holders
        # Room for every connection at once: the listener's own limit is not what is measured here.
        extra = ["--max-connections", str(hostile_total + options.senders + 64), *options.proxy_args.split()]
        proxy = start_proxy(options.proxy, proxy_port, moto_url, moto_url, extra)
        children.append(proxy)
        sampler = MemorySampler(proxy.pid)
        baseline = sampler.rss_mib()
        sampler.thread.start()

        hostile = HostileClients(
            proxy_port,
            {
                "idle": options.idle, "head_trickler": options.head_tricklers,
                "body_trickler": options.body_tricklers, "body_holder": options.body_holders,
            },
        )
        hostile.start()
        time.sleep(options.settle)
        open_before_senders = hostile.connections
        rss_before_senders = sampler.rss_mib()

        started = time.time()
        outcomes = send_all(f"http://127.0.0.1:{proxy_port}", queue, options.senders, options.messages, options.size)
        elapsed = time.time() - started
        open_after_senders = hostile.connections
        sampler.running = False
        sampler.thread.join()
        hostile.stop()
        peak = Process(proxy.pid).peak_mib()
        alive = proxy.poll() is None

        sent = [o for o in outcomes if o[0] == "sent"]
        failures = sorted({o[0] for o in outcomes if o[0] != "sent"})
        in_queue = int(
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        result = {
            "hostile_connections": hostile_total, "open_before_senders": open_before_senders,
            "open_after_senders": open_after_senders, "hostile_reconnects": hostile.reconnects,
            "senders": options.senders, "messages": len(outcomes), "size": options.size,
            "sent": len(sent), "failed": len(outcomes) - len(sent), "failures": failures,
            "retried_attempts": sum(o[1] for o in sent), "messages_in_sqs": in_queue,
            "seconds": elapsed, "send_mb_per_second": len(sent) * options.size / elapsed / 1e6,
            "rss_baseline_mib": baseline, "rss_before_senders_mib": rss_before_senders,
            "rss_max_sampled_mib": max(s[1] for s in sampler.samples), "peak_rss_mib": peak,
            "proxy_alive": alive, "proxy_args": extra,
        }
        print(json.dumps(result, indent=1))
        write_results(options.output, result)
    finally:
        stop(children)


if __name__ == "__main__":
    main()
