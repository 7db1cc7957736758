"""Large messages over a network like S3's (issue 25): every path to SQS (moto) and S3 (bench_s3.py,
an in-memory S3 that answers ranges without copying the object, which moto does not) goes through
a shaping relay (shaper.py, a process of its own for each: each connection capped at --rate each
way, --delay before each answer's first byte); the client reaches the proxy over loopback, as a
sidecar's would. Side by side, interleaved, one
message at a time, sent, received and deleted:

  library   the Python amazon-sqs-extended-client with boto3, straight to SQS and S3 (its defaults:
            one PUT, one GET);
  proxy     boto3's SQS client through sqs-extended-proxy (release build, its defaults);
  transfer  the ceiling: boto3's S3 transfer manager uploading and downloading the same bytes
            (parallel parts and ranges, its defaults), and deleting them; no SQS call.

Prints, for each size, the median of the rounds: send, receive (with the delete) and send plus
receive in MB/s, and the peak resident memory of the process that did the work (the proxy's for the
proxy path, the client's for the others). Writes every round to --output as JSON, with the client's
CPU seconds and, for the proxy path, the proxy's.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from small_messages import (
    BUCKET, ROOT, Process, free_port, start_moto_with_bucket, start_proxy, stop, wait_for, write_results)

MIB = 1024 * 1024
PATHS = ("library", "proxy", "transfer")


def plot(rounds, output):
    """Bars of the median send-plus-receive MB/s of each path at each size, with each path's peak memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["size"] for r in rounds})
    figure, axis = plt.subplots(figsize=(8, 4.5))
    width = 0.27
    for offset, path in enumerate(PATHS):
        medians = [statistics.median(r["total_mb_per_second"] for r in rounds if r["size"] == s and r["path"] == path)
                   for s in sizes]
        peaks = [statistics.median(r["peak_rss_mib"] for r in rounds if r["size"] == s and r["path"] == path)
                 for s in sizes]
        bars = axis.bar([i + (offset - 1) * width for i in range(len(sizes))], medians, width, label=path)
        for bar, peak in zip(bars, peaks):
            axis.annotate(f"{peak:.0f} MiB", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                          va="bottom", fontsize=7)
    axis.set_xticks(range(len(sizes)), [f"{s // MIB} MiB" for s in sizes])
    axis.set_ylabel("send + receive, MB/s (median)")
    axis.set_title("One message at a time over a shaped network (40 MB/s a connection, 10 ms);\n"
                   "labels: peak resident memory of the process doing the work")
    axis.legend()
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    print(f"written: {output}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5,50,500", help="message sizes in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=40e6, help="bytes a second, each connection, each way")
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each answer's first byte")
    parser.add_argument("--proxy", default=str(ROOT / ".build" / "release" / "sqs-extended-proxy"))
    parser.add_argument("--proxy-args", default="", help="extra proxy options, space-separated")
    parser.add_argument("--output", default=str(ROOT / "Benchmarks" / "results" / "large-over-network.json"))
    parser.add_argument("--plot-only", action="store_true", help="plot --output's rounds again, run nothing")
    options = parser.parse_args()
    if options.plot_only:
        plot(json.loads(open(options.output).read())["rounds"], options.output.replace(".json", ".png"))
        return

    children = []
    rounds = []
    try:
        moto_url, sqs = start_moto_with_bucket(children)
        s3_port = free_port()
        children.append(subprocess.Popen([sys.executable, str(ROOT / "Benchmarks" / "bench_s3.py"), "--port", str(s3_port)],
                                         stdout=subprocess.DEVNULL))
        wait_for(s3_port, children[-1])
        shaped = {}
        for name, upstream in (("sqs", moto_url.removeprefix("http://")), ("s3", f"127.0.0.1:{s3_port}")):
            port = free_port()
            children.append(subprocess.Popen(
                [sys.executable, str(ROOT / "Benchmarks" / "shaper.py"), "--listen", str(port), "--upstream", upstream,
                 "--rate", str(options.rate), "--delay", str(options.delay)], stdout=subprocess.DEVNULL))
            wait_for(port, children[-1])
            shaped[name] = f"http://127.0.0.1:{port}"
        proxy_port = free_port()
        proxy = start_proxy(
            options.proxy, proxy_port, shaped["sqs"], shaped["s3"], ["--log-level", "warning", *options.proxy_args.split()])
        children.append(proxy)
        measured = Process(proxy.pid)
        print(
            f"shapers: {options.rate / 1e6:.0f} MB/s each connection each way, {options.delay * 1000:.0f} ms to "
            f"each answer's first byte; proxy {options.proxy} {options.proxy_args}"
        )
        sizes = [int(size) * MIB for size in options.sizes.split(",")]
        for round_number in range(options.rounds):
            for size in sizes:
                # Each round starts with another path, so that none always runs first.
                order = PATHS[round_number % 3:] + PATHS[: round_number % 3]
                for path in order:
                    queue = sqs.create_queue(QueueName=f"net-{path}-{time.time_ns()}")["QueueUrl"]
                    endpoint = f"http://127.0.0.1:{proxy_port}" if path == "proxy" else shaped["sqs"]
                    measured.reset_peak()
                    proxy_cpu = measured.cpu_seconds()
                    worker = json.loads(
                        subprocess.run(
                            [sys.executable, str(ROOT / "Benchmarks" / "sqs_worker.py"), path, endpoint, queue, BUCKET,
                             str(size), "1", shaped["s3"]],
                            capture_output=True, text=True, check=True,
                        ).stdout
                    )
                    sqs.delete_queue(QueueUrl=queue)
                    row = {
                        "round": round_number + 1, "size": size, "path": path, **worker,
                        "send_mb_per_second": size / worker["send_seconds"] / 1e6,
                        "receive_mb_per_second": size / worker["receive_seconds"] / 1e6,
                        "total_mb_per_second": 2 * size / (worker["send_seconds"] + worker["receive_seconds"]) / 1e6,
                        "worker_peak_rss_mib": worker["peak_rss_mib"],
                        "peak_rss_mib": measured.peak_mib() if path == "proxy" else worker["peak_rss_mib"],
                        "proxy_cpu_seconds": measured.cpu_seconds() - proxy_cpu if path == "proxy" else None,
                    }
                    rounds.append(row)
                    print(
                        f"round {round_number + 1} {size // MIB:>4} MiB {path:<9} send {row['send_mb_per_second']:7.1f} "
                        f"receive {row['receive_mb_per_second']:7.1f} MB/s, peak {row['peak_rss_mib']:7.1f} MiB",
                        flush=True,
                    )
        print()
        print(f"{'size':>8} {'path':<9} {'send MB/s':>10} {'receive MB/s':>13} {'both MB/s':>10} "
              f"{'x library':>10} {'peak RSS MiB':>13}   (medians of {options.rounds} rounds)")
        for size in sizes:
            library = statistics.median(
                r["total_mb_per_second"] for r in rounds if r["size"] == size and r["path"] == "library")
            for path in PATHS:
                mine = [r for r in rounds if r["size"] == size and r["path"] == path]
                total = statistics.median(r["total_mb_per_second"] for r in mine)
                print(
                    f"{size // MIB:>4} MiB {path:<9} {statistics.median(r['send_mb_per_second'] for r in mine):10.1f} "
                    f"{statistics.median(r['receive_mb_per_second'] for r in mine):13.1f} {total:10.1f} "
                    f"{total / library:10.2f} {statistics.median(r['peak_rss_mib'] for r in mine):13.1f}"
                )
        write_results(options.output, {
            "rate": options.rate, "delay": options.delay, "proxy_args": options.proxy_args, "rounds": rounds})
        plot(rounds, options.output.replace(".json", ".png"))
    finally:
        stop(children)


if __name__ == "__main__":
    main()
