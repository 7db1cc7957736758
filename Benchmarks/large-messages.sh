#!/usr/bin/env bash
# Large messages through the proxy next to the same bytes written straight to S3 (moto server),
# with the proxy's peak resident memory and CPU time. Arguments go to Benchmarks/large_messages.py
# (--sizes 1,10,100,1024 in MiB, --concurrent 4, --repeat 3).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/e2e-venvs backend
swift build -c release --product sqs-extended-proxy
exec .venv-e2e/bin/python Benchmarks/large_messages.py "$@"
