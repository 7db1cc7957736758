"""A TCP relay that makes loopback behave like a network to S3: each connection carries at most
--rate bytes a second each way, and the first byte of each answer waits --delay seconds (S3's time
to first byte, paid by every request). Python asyncio, one thread.

    python shaper.py --listen 8000 --upstream 127.0.0.1:5000 [--rate 40e6] [--delay 0.010]
    python shaper.py --check        # shows that it delivers the cap: one connection, then eight

Imported by large_over_network.py, which starts it in a thread of its own (`Shaper.start`).
"""

import argparse
import asyncio
import socket
import threading
import time

CHUNK = 256 * 1024


class Shaper:
    def __init__(self, upstream, rate=40e6, delay=0.010, host="127.0.0.1", port=0):
        self.upstream = upstream
        self.rate = rate
        self.delay = delay
        self.host = host
        self.port = port
        self.loop = None
        self.connections = 0

    def start(self):
        """Runs the relay on a loop in a thread of its own; returns once it listens."""
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            server = self.loop.run_until_complete(asyncio.start_server(self.serve, self.host, self.port))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait()
        return self

    @property
    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    async def serve(self, client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self.connections += 1
        # Set when the client sent bytes the upstream has not answered yet: the answer's first
        # byte then waits `delay`.
        state = {"awaiting": False}
        await asyncio.gather(
            self.pump(client_reader, upstream_writer, state, request=True),
            self.pump(upstream_reader, client_writer, state, request=False),
            return_exceptions=True,
        )
        for writer in (client_writer, upstream_writer):
            writer.close()

    async def pump(self, reader, writer, state, request):
        """Copies one direction at `rate`: each chunk may leave once the bytes before it would have."""
        allowed_at = time.monotonic()
        try:
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                if request:
                    state["awaiting"] = True
                elif state["awaiting"]:
                    state["awaiting"] = False
                    await asyncio.sleep(self.delay)
                    allowed_at = max(allowed_at, time.monotonic())
                now = time.monotonic()
                # Lateness (a sleep that overslept) is made up within a burst of 20 ms, no more.
                allowed_at = max(allowed_at, now - 0.020) + len(chunk) / self.rate
                writer.write(chunk)
                await writer.drain()
                if allowed_at > now:
                    await asyncio.sleep(allowed_at - time.monotonic())
        finally:
            if writer.can_write_eof():
                try:
                    writer.write_eof()
                except OSError:
                    pass


def measure(shaper_port, connections, megabytes):
    """Reads `megabytes` MB through the shaper on each of `connections` connections at once; MB/s each."""
    results = []

    def one():
        with socket.create_connection(("127.0.0.1", shaper_port)) as sock:
            sock.sendall(b"GO")
            received, started = 0, None
            while received < megabytes * 1_000_000:
                data = sock.recv(1 << 20)
                if not data:
                    break
                started = started or time.monotonic()
                received += len(data)
            results.append(received / (time.monotonic() - started) / 1e6)

    threads = [threading.Thread(target=one) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def check(rate, delay):
    """A source that sends 40 MB to each connection once asked, behind the shaper: the MB/s each
    connection got, one connection and then eight."""
    source = socket.socket()
    source.bind(("127.0.0.1", 0))
    source.listen(64)
    payload = b"x" * (1 << 20)

    def serve():
        while True:
            connection, _ = source.accept()

            def feed(connection=connection):
                with connection:
                    connection.recv(2)
                    for _ in range(40):
                        connection.sendall(payload)

            threading.Thread(target=feed, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    shaper = Shaper(("127.0.0.1", source.getsockname()[1]), rate=rate, delay=delay).start()
    for connections in (1, 8):
        speeds = measure(shaper.port, connections, 40)
        print(
            f"{connections} connection(s): {min(speeds):.1f}-{max(speeds):.1f} MB/s each, "
            f"{sum(speeds):.1f} MB/s in all (cap {rate / 1e6:.0f} MB/s each)"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, default=0)
    parser.add_argument("--upstream", default="127.0.0.1:5000")
    parser.add_argument("--rate", type=float, default=40e6, help="bytes a second, each connection, each way")
    parser.add_argument("--delay", type=float, default=0.010, help="seconds before each answer's first byte")
    parser.add_argument("--check", action="store_true")
    options = parser.parse_args()
    if options.check:
        check(options.rate, options.delay)
        return
    host, port = options.upstream.rsplit(":", 1)
    shaper = Shaper((host, int(port)), rate=options.rate, delay=options.delay, port=options.listen).start()
    print(f"shaping {shaper.endpoint} -> {options.upstream}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
