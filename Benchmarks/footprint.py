"""Idle footprint: the resident memory of proxy builds just started and left idle, side by side.

Each build is started --starts times, the builds in turns, with unreachable upstreams and no
bucket (nothing is sent anywhere), left idle for --idle seconds, then read from /proc: resident
memory and its anonymous part (smaps_rollup), threads, and the resident memory of each mapping
(smaps), grouped by file. Prints the range over the starts and, for each build, its mappings.

How much of a binary's code is resident depends on the page cache: the kernel maps the cached
pages around each page fault (up to 64 KiB), and reads ahead those not cached. So the binary is
read whole into the page cache before each start (--cache warm, the default: a restart, or a
second pod of the same image on a node; the most that can be mapped), or dropped from it
(--cache cold: a first start on a node).

    python3 footprint.py before=/path/to/old/sqs-extended-proxy after=/path/to/new/sqs-extended-proxy

With --link-map (lld's -Map output for the last build named), the resident pages of that build's
own mapping are attributed to the module or library archive whose input section holds them.
"""

import argparse
import bisect
import collections
import os
import re
import struct
import subprocess
import time

MIB = 1024


def rollup(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup_file:
        for line in rollup_file:
            name, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                values[name] = int(rest.split()[0])
    return values


def mappings(pid):
    """Resident kB of each mapped file (anonymous mappings as [anon]), largest first."""
    resident = collections.Counter()
    name = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                name = fields[5] if len(fields) > 5 else "[anon]"
            elif fields[0] == "Rss:":
                resident[name] += int(fields[1])
    return resident.most_common()


def prepare_cache(binary, cache):
    with open(binary, "rb") as file:
        if cache == "warm":
            while file.read(1 << 20):
                pass
        else:
            os.fsync(file.fileno())
            os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def resident_pages(pid, binary):
    """Offsets from the load address of the binary's resident pages (/proc/PID/pagemap)."""
    areas = []
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == os.path.realpath(binary):
                start, end = (int(value, 16) for value in fields[0].split("-"))
                areas.append((start, end, int(fields[2], 16)))
    bias = min(start - offset for start, _, offset in areas if offset == 0)
    pages = []
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for start, end, _ in areas:
            pagemap.seek(start // 4096 * 8)
            entries = pagemap.read((end - start) // 4096 * 8)
            for index in range(0, len(entries), 8):
                if struct.unpack_from("<Q", entries, index)[0] >> 63:
                    pages.append(start + index // 8 * 4096 - bias)
    return pages


def input_sections(link_map):
    """(address, size, module or archive) of every input section in an lld link map."""
    sections = []
    with open(link_map) as lines:
        for line in lines:
            match = re.match(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ {9}(\S.*)$", line)
            if not match or int(match.group(2), 16) == 0:
                continue
            origin = match.group(3).split(":(")[0]
            archive = re.match(r".*/([^/(]+\.a)\(", origin)
            module = re.match(r".*/([^/]+)\.build/", origin)
            name = archive.group(1) if archive else module.group(1) if module else origin.rsplit("/", 1)[-1]
            sections.append((int(match.group(1), 16), int(match.group(2), 16), name))
    return sorted(sections)


def attribute(pages, sections):
    """Resident kB by the module or archive of the input section that overlaps each page most."""
    starts = [start for start, _, _ in sections]
    resident = collections.Counter()
    for page in pages:
        owner, most = "(between sections)", 0
        index = bisect.bisect_right(starts, page + 4095) - 1
        while index >= 0 and starts[index] + (1 << 24) > page:
            start, size, name = sections[index]
            overlap = min(page + 4096, start + size) - max(page, start)
            if overlap > most:
                owner, most = name, overlap
            if start <= page:
                break
            index -= 1
        resident[owner] += 4
    return resident.most_common()


def measure(binary, idle, cache, link_map=None):
    prepare_cache(binary, cache)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="footprint", AWS_SECRET_ACCESS_KEY="footprint", AWS_REGION="us-east-1")
    for name in list(env):
        if name.startswith(("OTEL_", "SQS_PROXY_")):
            del env[name]
    proxy = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--sqs-endpoint", "http://127.0.0.1:9", "--s3-endpoint", "http://127.0.0.1:9"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(idle)
        if proxy.poll() is not None:
            raise SystemExit(f"{binary} exited with {proxy.returncode}")
        values = rollup(proxy.pid)
        threads = len(os.listdir(f"/proc/{proxy.pid}/task"))
        modules = attribute(resident_pages(proxy.pid, binary), input_sections(link_map)) if link_map else []
        return values["Rss"], values["Anonymous"], threads, mappings(proxy.pid), modules
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+", metavar="LABEL=BINARY")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before reading")
    parser.add_argument("--mappings", type=int, default=8, help="largest mappings shown per build")
    parser.add_argument("--cache", choices=["warm", "cold"], default="warm", help="the binary's pages before a start")
    parser.add_argument("--link-map", help="lld's -Map output for the last build named")
    arguments = parser.parse_args()
    builds = [build.split("=", 1) for build in arguments.builds]
    results = collections.defaultdict(list)
    for _ in range(arguments.starts):
        for label, binary in builds:
            link_map = arguments.link_map if label == builds[-1][0] else None
            results[label].append(measure(binary, arguments.idle, arguments.cache, link_map))
    print(f"{'build':<24} {'RSS MiB':>15} {'anonymous MiB':>15} {'threads':>8}")
    for label, _ in builds:
        rss = [r[0] / MIB for r in results[label]]
        anonymous = [r[1] / MIB for r in results[label]]
        threads = sorted({r[2] for r in results[label]})
        print(f"{label:<24} {min(rss):6.1f} - {max(rss):6.1f} {min(anonymous):6.2f} - {max(anonymous):6.2f}"
              f" {','.join(map(str, threads)):>8}")
    for label, _ in builds:
        print(f"\n{label}, last start: resident MiB by mapping")
        for name, kilobytes in results[label][-1][3][: arguments.mappings]:
            print(f"  {kilobytes / MIB:6.1f}  {name}")
    if arguments.link_map:
        label = builds[-1][0]
        print(f"\n{label}, last start: its own mapping's resident MiB by module or archive")
        for name, kilobytes in results[label][-1][4][:25]:
            print(f"  {kilobytes / MIB:6.2f}  {name}")


if __name__ == "__main__":
    main()
