#!/usr/bin/env bash
# Quick measurement: small SendMessage calls (1 KiB body, JSON protocol) with wrk, straight to a
# moto server and through the proxy to the same moto server, one after the other in one run.
#   CONNECTIONS (16)  DURATION (10s)  THREADS (1)
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
scripts/e2e-venvs backend
swift build -c release --product sqs-extended-proxy

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(port)
PROXY_PORT=$(port)
.venv-e2e/bin/python -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" > /dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID ${PROXY_PID:-} 2>/dev/null || true' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
QUEUE_URL=$(.venv-e2e/bin/python - "$MOTO_PORT" <<'PY'
import sys, time, boto3
sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
for _ in range(100):
    try:
        print(sqs.create_queue(QueueName="bench")["QueueUrl"]); break
    except Exception:
        time.sleep(0.2)
PY
)
export QUEUE_URL
.build/release/sqs-extended-proxy --listen "127.0.0.1:$PROXY_PORT" --sqs-endpoint "http://127.0.0.1:$MOTO_PORT" \
    --log-level warning > /dev/null &
PROXY_PID=$!
sleep 1

run() {
    local label=$1 url=$2
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 3s -s benchmarks/send-message.lua "$url" > /dev/null
    printf '%-8s ' "$label"
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s benchmarks/send-message.lua "$url" | grep '^RESULT'
}
echo "SendMessage, 1 KiB body, $CONNECTIONS connections, $DURATION, on $(nproc) cores"
run direct "http://127.0.0.1:$MOTO_PORT/"
run proxy "http://127.0.0.1:$PROXY_PORT/"
echo "proxy CPU time (user+sys, clock ticks): $(awk '{print $14+$15}' /proc/$PROXY_PID/stat)"
