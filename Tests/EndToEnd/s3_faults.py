"""An HTTP relay in front of moto's S3 that records requests and can fail chosen ones."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sigv4_relay import copy_answer, deliver, forward, reset

FAILURE = b"<Error><Code>InternalError</Code><Message>injected failure</Message></Error>"


SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"

# Faults of an S3 call: an internal error and throttling (moto never sees the request), the connection
# reset once the request was read, an answer too slow, sent after moto carried the request out, and
# an answer cut half-way through its body by a reset.
FAULTS = ("500", "503", "reset", "slow", "cut")


def operation_of(method, path):
    """The S3 call a request makes: put, part, initiate, complete, abort, get or delete."""
    if method == "PUT":
        return "part" if "partNumber=" in path else "put"
    if method == "POST":
        return "initiate" if "uploads" in path.split("?", 1)[-1] else "complete"
    if method == "DELETE":
        return "abort" if "uploadId=" in path else "delete"
    return method.lower()


@dataclass
class S3FaultRelay:
    upstream: tuple
    records: list = field(default_factory=list)
    fail_part_number: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Operation (see operation_of) to fault (see FAULTS), and how often each was served.
    faults: dict = field(default_factory=dict)
    served_faults: dict = field(default_factory=dict)
    slow_seconds: float = 5.0
    # How many requests of an operation pass before its fault is served, and how often it is served
    # then (absent: from the first, every time).
    fault_after: dict = field(default_factory=dict)
    fault_times: dict = field(default_factory=dict)
    # The Range header of each GET, in order, and the User-Agent of every request.
    ranges: list = field(default_factory=list)
    user_agents: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)

    def serve(self):
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                # Recorded when the request begins: a streamed part is seen while its body arrives.
                with relay.lock:
                    relay.records.append((self.command, self.path))
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    self.close_connection = True
                    return
                operation = operation_of(self.command, self.path)
                with relay.lock:
                    if self.command == "GET":
                        relay.ranges.append(self.headers.get("range"))
                    relay.user_agents.append(self.headers.get("user-agent"))
                    relay.seen[operation] = relay.seen.get(operation, 0) + 1
                    fault = relay.faults.get(operation)
                    if relay.seen[operation] <= relay.fault_after.get(operation, 0):
                        fault = None
                    if fault and relay.served_faults.get(operation, 0) >= relay.fault_times.get(operation, 1 << 30):
                        fault = None
                    if fault:
                        relay.served_faults[operation] = relay.served_faults.get(operation, 0) + 1
                if fault in ("500", "503"):
                    document = FAILURE if fault == "500" else SLOW_DOWN
                    self.send_response(int(fault))
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(document)))
                    self.end_headers()
                    self.wfile.write(document)
                    return
                if fault == "reset":
                    reset(self)
                    return
                if fault == "cut":
                    # The answer's head and half its body, then a reset.
                    response, payload = deliver(self, relay.upstream, body)
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in ("server", "date", "connection", "transfer-encoding"):
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    reset(self)
                    return
                if fault == "slow":
                    response = deliver(self, relay.upstream, body)
                    time.sleep(relay.slow_seconds)
                    copy_answer(self, *response)
                    return
                if relay.fail_part_number and f"partNumber={relay.fail_part_number}&" in self.path:
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(FAILURE)))
                    self.end_headers()
                    self.wfile.write(FAILURE)
                    return
                forward(self, relay.upstream, body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        return server
