#!/usr/bin/env bash
# What the proxy costs, side by side with the direct path and with peers, in one run:
#   1. small messages (SendMessage / ReceiveMessage of 1 KiB) at 1, 16 and 64 connections, straight
#      to the backend, through an nginx hop and through the proxy, on a fixed-answer backend and on
#      moto, with the floor under the proxy (its server and client stack alone, Benchmarks/StackFloor)
#      on the fixed backend (Benchmarks/small_messages.py);
#   2. large messages (300 KiB, 5 MiB, 50 MiB) through the proxy next to the Python extended client
#      library doing the same work (Benchmarks/large_vs_library.py);
#   3. the plot of part 1 (Benchmarks/results/small-messages.png).
# Installs wrk and nginx from Debian's packages if missing, the Python side into .venv-bench, builds
# the release proxy and StackFloor. SMALL_ARGS and LARGE_ARGS pass options to the two parts (see their --help).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk > /dev/null && command -v nginx > /dev/null || {
    apt-get update -qq && apt-get install -y -qq wrk nginx-light
}
scripts/e2e-venvs bench
swift build -c release --product sqs-extended-proxy
(cd Benchmarks && swift build -c release --product StackFloor)
cd Benchmarks
../.venv-bench/bin/python small_messages.py ${SMALL_ARGS:-}
../.venv-bench/bin/python large_vs_library.py ${LARGE_ARGS:-}
../.venv-bench/bin/python plot.py
