"""Large messages, the proxy next to the library it replaces: boto3 sending, receiving and deleting
messages of 300 KiB, 5 MiB and 50 MiB through sqs-extended-proxy, and the same work done by boto3
with the Python amazon-sqs-extended-client library straight to the same moto server. Prints
messages per second and MB/s, the client's CPU per message, the proxy's CPU per message and its
peak resident memory; writes every figure to --output as JSON.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from small_messages import BUCKET, ROOT, Process, free_port, start_moto_with_bucket, start_proxy, stop, write_results

MIB = 1024 * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="300K:20,5M:8,50M:2", help="SIZE:COUNT pairs (K and M are KiB and MiB)")
    parser.add_argument("--proxy", default=str(ROOT / ".build" / "release" / "sqs-extended-proxy"))
    parser.add_argument("--output", default=str(ROOT / "Benchmarks" / "results" / "large-vs-library.json"))
    options = parser.parse_args()

    def parse(text):
        size, count = text.split(":")
        factor = {"K": 1024, "M": MIB}.get(size[-1], 1)
        return int(size.rstrip("KM")) * factor, int(count)

    children = []
    results = []
    try:
        proxy_port = free_port()
        moto_url, sqs = start_moto_with_bucket(children)
        proxy = start_proxy(options.proxy, proxy_port, moto_url, moto_url, [])
        children.append(proxy)
        measured = Process(proxy.pid)
        print(f"{os.cpu_count()} cores; moto server as SQS and S3; boto3 on both paths; proxy {options.proxy}")
        print(
            f"{'size':>8} {'path':<8} {'msgs':>5} {'round trips/s':>13} {'send MB/s':>10} {'receive MB/s':>12} "
            f"{'client CPU ms/msg':>17} {'proxy CPU ms/msg':>16} {'proxy peak MiB':>14}"
        )
        for text in options.sizes.split(","):
            size, count = parse(text)
            for path in ("proxy", "library"):
                queue = sqs.create_queue(QueueName=f"bench-{path}-{size}-{int(time.time() * 1000)}")["QueueUrl"]
                endpoint = f"http://127.0.0.1:{proxy_port}" if path == "proxy" else moto_url
                measured.reset_peak()
                cpu = measured.cpu_seconds()
                output = subprocess.run(
                    [sys.executable, str(ROOT / "Benchmarks" / "sqs_worker.py"), path, endpoint, queue, BUCKET,
                     str(size), str(count)],
                    capture_output=True, text=True, check=True,
                ).stdout
                worker = json.loads(output)
                proxy_cpu = measured.cpu_seconds() - cpu
                total = worker["send_seconds"] + worker["receive_seconds"]
                row = {
                    "size": size, "path": path, "messages": count, **worker,
                    "round_trips_per_second": count / total,
                    "send_mb_per_second": size * count / worker["send_seconds"] / 1e6,
                    "receive_mb_per_second": size * count / worker["receive_seconds"] / 1e6,
                    "client_cpu_ms_per_message": worker["cpu_seconds"] / count * 1000,
                    "proxy_cpu_ms_per_message": proxy_cpu / count * 1000 if path == "proxy" else None,
                    "proxy_peak_rss_mib": measured.peak_mib() if path == "proxy" else None,
                }
                results.append(row)
                label = f"{size // MIB} MiB" if size >= MIB else f"{size // 1024} KiB"
                print(
                    f"{label:>8} {path:<8} {count:>5} {row['round_trips_per_second']:>13.2f} "
                    f"{row['send_mb_per_second']:>10.1f} {row['receive_mb_per_second']:>12.1f} "
                    f"{row['client_cpu_ms_per_message']:>17.1f} "
                    + (f"{row['proxy_cpu_ms_per_message']:>16.1f} {row['proxy_peak_rss_mib']:>14.1f}" if path == "proxy" else "")
                )
                sys.stdout.flush()
                sqs.delete_queue(QueueUrl=queue)
        write_results(options.output, results)
    finally:
        stop(children)


if __name__ == "__main__":
    main()
