"""A minimal in-memory S3 for the large-message benchmarks: the calls the proxy, the Python extended
client and boto3's transfer manager make (PutObject, multipart uploads, GetObject with a range and
If-Match, HeadObject, DeleteObject), path-style, signatures not checked.

Why not moto: moto copies the whole object to answer any ranged GET (a 1 MiB range of a 500 MiB
object took 381 ms here, against 12.8 ms from a 5 MiB one), which no S3 does; a benchmark of ranged
reads on it would measure moto. This one answers a range from the object's bytes without copying
them (a memoryview slice).

    python bench_s3.py --port 9000
"""

import argparse
import hashlib
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class Store:
    def __init__(self):
        self.objects = {}  # (bucket, key) -> (bytes, etag)
        self.uploads = {}  # upload id -> {part number: (bytes, etag)}
        self.lock = threading.Lock()


def handler(store):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def target(self):
            url = urlsplit(self.path)
            bucket, _, key = unquote(url.path).lstrip("/").partition("/")
            return bucket, key, {name: values[0] for name, values in parse_qs(url.query, keep_blank_values=True).items()}

        def body(self):
            length = int(self.headers.get("content-length", "0"))
            view = bytearray(length)
            received = 0
            while received < length:
                count = self.rfile.readinto(memoryview(view)[received:])
                if not count:
                    break
                received += count
            return bytes(view)

        def answer(self, status, payload=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)

        def missing(self):
            self.answer(404, b"<Error><Code>NoSuchKey</Code><Message>not found</Message></Error>",
                        [("Content-Type", "application/xml")])

        def do_PUT(self):
            bucket, key, query = self.target()
            data = self.body()
            etag = '"' + hashlib.md5(data).hexdigest() + '"'
            with store.lock:
                if "uploadId" in query:
                    store.uploads[query["uploadId"]][int(query["partNumber"])] = (data, etag)
                else:
                    store.objects[(bucket, key)] = (data, etag)
            self.answer(200, headers=[("ETag", etag)])

        def do_POST(self):
            bucket, key, query = self.target()
            request = self.body()
            if "uploads" in query:
                upload = uuid.uuid4().hex
                with store.lock:
                    store.uploads[upload] = {}
                self.answer(200, (
                    "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>"
                    "</InitiateMultipartUploadResult>" % (bucket, key, upload)).encode(),
                    [("Content-Type", "application/xml")])
                return
            numbers = [int(n) for n in re.findall(rb"<PartNumber>(\d+)</PartNumber>", request)]
            with store.lock:
                parts = store.uploads.pop(query["uploadId"])
                data = b"".join(parts[n][0] for n in numbers)
                etag = '"%s-%d"' % (hashlib.md5(b"".join(parts[n][1].encode() for n in numbers)).hexdigest(),
                                    len(numbers))
                store.objects[(bucket, key)] = (data, etag)
            self.answer(200, (
                "<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag>"
                "</CompleteMultipartUploadResult>" % (bucket, key, etag.replace('"', "&quot;"))).encode(),
                [("Content-Type", "application/xml")])

        def do_GET(self):
            bucket, key, _ = self.target()
            with store.lock:
                found = store.objects.get((bucket, key))
            if found is None:
                self.missing()
                return
            data, etag = found
            expected = self.headers.get("if-match")
            if expected is not None and expected != etag:
                self.answer(412, b"<Error><Code>PreconditionFailed</Code></Error>")
                return
            headers = [("ETag", etag), ("Accept-Ranges", "bytes"), ("Content-Type", "binary/octet-stream")]
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("range", ""))
            if match is None:
                self.send_response(200)
                start, end = 0, len(data) - 1
            else:
                start = int(match.group(1))
                end = min(int(match.group(2) or len(data) - 1), len(data) - 1)
                if start >= len(data):
                    self.answer(416, b"<Error><Code>InvalidRange</Code></Error>")
                    return
                self.send_response(206)
                headers.append(("Content-Range", f"bytes {start}-{end}/{len(data)}"))
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(memoryview(data)[start : end + 1])

        do_HEAD = do_GET

        def do_DELETE(self):
            bucket, key, query = self.target()
            with store.lock:
                if "uploadId" in query:
                    store.uploads.pop(query["uploadId"], None)
                else:
                    store.objects.pop((bucket, key), None)
            self.answer(204)

    return Handler


def serve(host="127.0.0.1", port=0):
    """Starts the server in a thread; returns it (its port: `server.server_address[1]`)."""
    server = ThreadingHTTPServer((host, port), handler(Store()))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=9000)
    options = parser.parse_args()
    server = serve(port=options.port)
    print(f"bench S3 on http://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
