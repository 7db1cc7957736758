-- wrk script: one SQS call in the JSON protocol, repeated. ACTION is SendMessage (a 1 KiB body)
-- or ReceiveMessage (one message, no wait); QUEUE_URL names the queue.
local queue = os.getenv("QUEUE_URL")
local action = os.getenv("ACTION") or "SendMessage"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AmazonSQS." .. action
-- moto routes on the credential scope and checks no signature; the proxy replaces this header.
wrk.headers["Authorization"] =
    "AWS4-HMAC-SHA256 Credential=bench/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
if action == "ReceiveMessage" then
    wrk.body = '{"QueueUrl":"' .. queue .. '","MaxNumberOfMessages":1,"WaitTimeSeconds":0}'
else
    wrk.body = '{"QueueUrl":"' .. queue .. '","MessageBody":"' .. string.rep("x", 1024) .. '"}'
end

function done(summary, latency, requests)
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d p999_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration / 1e6,
        latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.errors.status))
end
