#!/usr/bin/env bash
# Quick measurement: small SendMessage calls (1 KiB body, JSON protocol) with wrk, straight to an
# upstream and through the proxy to the same upstream, one after the other in one run. Two upstreams:
# a fixed-answer responder (nginx returning one SendMessage result: the proxy's own cost shows) and
# moto server (realistic, but itself the bottleneck).
#   CONNECTIONS (16)  DURATION (10s)  THREADS (1)
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
command -v wrk > /dev/null && command -v nginx > /dev/null || {
    apt-get update -qq && apt-get install -y -qq wrk nginx-light
}
scripts/e2e-venvs backend
swift build -c release --product sqs-extended-proxy

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(port)
PROXY_PORT=$(port)
FIXED_PORT=$(port)
FIXED_PROXY_PORT=$(port)
NGINX_DIR=$(mktemp -d)
mkdir -p "$NGINX_DIR/tmp"
sed "s/__PORT__/$FIXED_PORT/" benchmarks/fixed-answer-nginx.conf > "$NGINX_DIR/nginx.conf"
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
.venv-e2e/bin/python -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" > /dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID ${PROXY_PID:-} ${FIXED_PROXY_PID:-} $(cat "$NGINX_DIR/nginx.pid") 2>/dev/null || true' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
new_queue() {
    .venv-e2e/bin/python - "$MOTO_PORT" "$1" <<'PY'
import sys, time, boto3
sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
for _ in range(100):
    try:
        print(sqs.create_queue(QueueName=sys.argv[2])["QueueUrl"]); break
    except Exception:
        time.sleep(0.2)
PY
}
.build/release/sqs-extended-proxy --listen "127.0.0.1:$PROXY_PORT" --sqs-endpoint "http://127.0.0.1:$MOTO_PORT" \
    --log-level warning > /dev/null &
PROXY_PID=$!
.build/release/sqs-extended-proxy --listen "127.0.0.1:$FIXED_PROXY_PORT" --sqs-endpoint "http://127.0.0.1:$FIXED_PORT" \
    --log-level warning > /dev/null &
FIXED_PROXY_PID=$!
sleep 1

run() {
    local label=$1 url=$2 queue=${3:-}
    QUEUE_URL=${queue:-$(new_queue "bench-$label-$RANDOM")}
    export QUEUE_URL
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 3s -s benchmarks/send-message.lua "$url" > /dev/null
    printf '%-20s ' "$label"
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s benchmarks/send-message.lua "$url" | grep '^RESULT'
}
echo "SendMessage, 1 KiB body, $CONNECTIONS connections, $DURATION, on $(nproc) cores"
FIXED_QUEUE=http://127.0.0.1/123456789012/bench
run fixed-answer-direct "http://127.0.0.1:$FIXED_PORT/" "$FIXED_QUEUE"
before=$(awk '{print $14+$15}' "/proc/$FIXED_PROXY_PID/stat")
run fixed-answer-proxy "http://127.0.0.1:$FIXED_PROXY_PORT/" "$FIXED_QUEUE"
after=$(awk '{print $14+$15}' "/proc/$FIXED_PROXY_PID/stat")
echo "proxy CPU during the fixed-answer runs (warm-up included): $(( (after - before) * 10 )) ms"
run moto-direct "http://127.0.0.1:$MOTO_PORT/"
run moto-proxy "http://127.0.0.1:$PROXY_PORT/"
