"""An HTTP relay in front of moto's S3 that records requests and can fail chosen ones."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sigv4_relay import forward

FAILURE = b"<Error><Code>InternalError</Code><Message>injected failure</Message></Error>"


@dataclass
class S3FaultRelay:
    upstream: tuple
    records: list = field(default_factory=list)
    fail_part_number: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

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
