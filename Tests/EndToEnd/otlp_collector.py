"""A stand-in OpenTelemetry collector: takes OTLP/HTTP trace exports (protobuf) and keeps their spans.

The protobuf is read with a wire-format reader of a few lines, so that the tests need no
OpenTelemetry package: only the fields of opentelemetry/proto/trace/v1 the tests look at are named.
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fields(data):
    """The fields of a protobuf message as (number, value) pairs: ints for varints and fixed64,
    bytes for length-delimited values (strings and messages alike)."""
    position = 0
    while position < len(data):
        key, position = varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = varint(data, position)
        elif wire_type == 1:
            value, position = int.from_bytes(data[position:position + 8], "little"), position + 8
        elif wire_type == 2:
            length, position = varint(data, position)
            value, position = data[position:position + length], position + length
        elif wire_type == 5:
            value, position = int.from_bytes(data[position:position + 4], "little"), position + 4
        else:
            raise ValueError(f"wire type {wire_type}")
        yield number, value


def varint(data, position):
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, position


def attributes(pairs):
    """KeyValue messages as a dict: strings, ints (signed) and booleans."""
    result = {}
    for encoded in pairs:
        entry = dict(fields(encoded))
        key = entry[1].decode()
        value = dict(fields(entry.get(2, b"")))
        if 1 in value:
            result[key] = value[1].decode()
        elif 2 in value:
            result[key] = bool(value[2])
        elif 3 in value:
            result[key] = value[3] - (1 << 64) if value[3] >= 1 << 63 else value[3]
    return result


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    trace_state: str
    name: str
    kind: int  # 2 server, 3 client
    start: int
    end: int
    attributes: dict
    status_code: int  # 0 unset, 1 ok, 2 error
    resource: dict


def spans_of(export):
    """The spans of an ExportTraceServiceRequest."""
    for number, resource_spans in fields(export):
        if number != 1:
            continue
        resource, scope_spans = {}, []
        for inner, value in fields(resource_spans):
            if inner == 1:
                resource = attributes(v for n, v in fields(value) if n == 1)
            elif inner == 2:
                scope_spans.append(value)
        for scope in scope_spans:
            for inner, encoded in fields(scope):
                if inner != 2:
                    continue
                span = {}
                pairs = []
                for n, v in fields(encoded):
                    if n == 9:
                        pairs.append(v)
                    else:
                        span[n] = v
                status = dict(fields(span.get(15, b"")))
                yield Span(
                    trace_id=span.get(1, b"").hex(),
                    span_id=span.get(2, b"").hex(),
                    parent_span_id=span.get(4, b"").hex(),
                    trace_state=span.get(3, b"").decode(),
                    name=span.get(5, b"").decode(),
                    kind=span.get(6, 0),
                    start=span.get(7, 0),
                    end=span.get(8, 0),
                    attributes=attributes(pairs),
                    status_code=status.get(3, 0),
                    resource=resource,
                )


@dataclass
class Collector:
    spans: list = field(default_factory=list)
    content_types: list = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def serve(self):
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with collector.lock:
                    collector.content_types.append((self.path, self.headers.get("Content-Type")))
                    collector.spans.extend(spans_of(body))
                    collector.lock.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        return server

    def wait_for(self, predicate, timeout=20):
        """The spans once `predicate(spans)` holds; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate(self.spans):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"spans never came: {[s.name for s in self.spans]}"
                self.lock.wait(remaining)
            return list(self.spans)
