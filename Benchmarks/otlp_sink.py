"""An OTLP/HTTP endpoint that takes trace exports and drops them, counting what came: the collector
of the tracing-on rounds of the small-message benchmark (BENCHMARKS.md, "Tracing").

    ../.venv-bench/bin/python otlp_sink.py --port 4318 &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 ../.venv-bench/bin/python small_messages.py ...

On SIGTERM or SIGINT it prints the exports and bytes it took.
"""

import argparse
import asyncio
import signal


async def main(port):
    counts = {"exports": 0, "bytes": 0}

    async def serve(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                counts["exports"] += 1
                counts["bytes"] += length
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    print(f"otlp_sink: {counts['exports']} exports, {counts['bytes']} bytes", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=4318)
    asyncio.run(main(parser.parse_args().port))
