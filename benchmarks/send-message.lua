-- wrk script: SendMessage of a ~1 KiB body in the JSON protocol. QUEUE_URL names the queue.
local queue = os.getenv("QUEUE_URL")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
-- moto routes on the credential scope and checks no signature; the proxy replaces this header.
wrk.headers["Authorization"] =
    "AWS4-HMAC-SHA256 Credential=bench/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
wrk.body = '{"QueueUrl":"' .. queue .. '","MessageBody":"' .. string.rep("x", 1024) .. '"}'

function done(summary, latency, requests)
    io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.errors.status))
end
