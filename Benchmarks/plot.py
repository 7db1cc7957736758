"""Draws Benchmarks/results/small-messages.png from small-messages.json: requests per second and
p99 latency against connections, for each path (the stack floor's two forwarding paths too, dashed),
each action, on the fixed-answer backend."""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "Benchmarks" / "results" / "small-messages.json"
target = source.with_suffix(".png")
runs = [r for r in json.loads(source.read_text())["runs"] if r["backend"] == "fixed"]
actions = sorted({r["action"] for r in runs}, reverse=True)
figure, axes = plt.subplots(len(actions), 2, figsize=(11, 4 * len(actions)), squeeze=False)
for row, action in enumerate(actions):
    for path, style in (
        ("direct", "o-"), ("nginx", "s-"), ("stack", "x--"), ("transport", "d--"), ("proxy", "^-"),
    ):
        points = sorted((r["connections"], r["rps"], r["p99_us"] / 1000) for r in runs if r["action"] == action and r["path"] == path)
        if not points:
            continue
        connections = [p[0] for p in points]
        axes[row][0].plot(connections, [p[1] for p in points], style, label=path)
        axes[row][1].plot(connections, [p[2] for p in points], style, label=path)
    axes[row][0].set_title(f"{action}, fixed-answer backend: throughput")
    axes[row][0].set_ylabel("requests per second")
    axes[row][1].set_title(f"{action}, fixed-answer backend: p99 latency")
    axes[row][1].set_ylabel("p99 ms")
    for axis in axes[row]:
        axis.set_xscale("log", base=2)
        axis.set_xlabel("concurrent connections")
        axis.grid(True, alpha=0.3)
        axis.legend()
figure.tight_layout()
figure.savefig(target, dpi=100)
print(f"written: {target}")
