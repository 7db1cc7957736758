"""A small HTTP forward proxy on loopback that counts what passes through it: CONNECT tunnels (to
any host:port) and absolute-URI requests (to http:// hosts), each recorded with the
Proxy-Authorization it carried. A proxy made with `credentials` answers 407 to requests without them."""

import base64
import http.client
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade"}


class ForwardProxy:
    def __init__(self, credentials=None):
        self.records = []  # (method, target, proxy authorization or None)
        self.lock = threading.Lock()
        expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def authorized(self, target):
                authorization = self.headers.get("proxy-authorization")
                with proxy.lock:
                    proxy.records.append((self.command, target, authorization))
                if expected and authorization != expected:
                    self.send_response(407)
                    self.send_header("Proxy-Authenticate", 'Basic realm="e2e"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return False
                return True

            def do_CONNECT(self):
                if not self.authorized(self.path):
                    return
                host, port = self.path.rsplit(":", 1)
                try:
                    upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
                except OSError:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                sockets = [self.connection, upstream]
                try:
                    while True:
                        readable, _, _ = select.select(sockets, [], [], 60)
                        if not readable:
                            break
                        for source in readable:
                            data = source.recv(65536)
                            if not data:
                                return
                            (upstream if source is self.connection else self.connection).sendall(data)
                except OSError:
                    pass
                finally:
                    upstream.close()
                    self.close_connection = True

            def relay(self):
                parts = urlsplit(self.path)
                if parts.scheme != "http" or not parts.netloc:
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length) if length else b""
                if not self.authorized(parts.netloc):
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}}
                connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                connection.request(self.command, target or "/", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                connection.close()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length", "transfer-encoding", "server", "date"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, credentials=None):
        return f"http://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}"

    def seen(self, method=None):
        """The targets of the requests recorded, with `method` alone (CONNECT, or one relayed)."""
        with self.lock:
            return [target for m, target, _ in self.records if method is None or m == method]

    def stop(self):
        self.server.shutdown()
