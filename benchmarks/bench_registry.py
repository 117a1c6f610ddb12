"""Benchmark the data registry: download overhead and loader memory.

1. fetch + verify + unpack of the BBBC039 twin (three zips) from a local HTTP server through the
   real download path, against a plain file copy of the same bytes (and copy + unzip).
2. Memory of loading each dataset's twin through its loader, in a fresh process each (the twin
   is built beforehand in another process): process peak RSS, RSS after the imports, and the
   tracemalloc peak of the load call itself (numpy arrays included).

Run: ``python3 benchmarks/bench_registry.py [--repeats 5]``. Prints tables; needs no network.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOADS = {
    "bbbc039": "load_segmentation('bbbc039', split='all', source='twin')",
    "dsb2018": "load_segmentation('dsb2018', split='test', source='twin')",
    "bloodmnist": "load_classification('bloodmnist', source='twin')",
    "bloodmnist_64": "load_classification('bloodmnist_64', source='twin')",
    "jurkat_mini": "load_classification('jurkat_mini', source='twin')",
    "bsccmnist_tiny": "load_classification('bsccmnist_tiny', source='twin')",
    "human_mitosis": "load_sample('human_mitosis', source='twin')",
    "cells3d": "load_sample('cells3d', source='twin')",
    "kidney": "load_sample('kidney', source='twin')",
    "cell": "load_sample('cell', source='twin')",
    "skin": "load_sample('skin', source='twin')",
    "protein_transport": "load_sample('protein_transport', source='twin')",
    "nucleusnet_10k": "load_nuclei_crops('nucleusnet_10k', source='twin')",
    "bccd": "load_bccd(source='twin')",
}

BUILD_SNIPPET = "from data_registry import get_files; get_files({name!r}, 'twin', quiet=True)"

MEMORY_SNIPPET = """
import json, resource, time, tracemalloc
from data_registry.loaders import *  # noqa
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t = time.perf_counter()
result = {call}
elapsed = time.perf_counter() - t
traced_peak = tracemalloc.get_traced_memory()[1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"base_mb": base / 1024, "peak_mb": peak / 1024,
                  "traced_mb": traced_peak / 2**20, "seconds": elapsed}}))
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        return


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def bench_fetch(repeats: int) -> list[tuple[str, float]]:
    from data_registry import cache, fetch, registry
    from data_registry.twins import make_twin

    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    try:
        mirror = work / "mirror"
        twin = make_twin("bbbc039", mirror / "bbbc039_bench")
        real = registry.get_dataset("bbbc039")
        files = tuple(
            dataclasses.replace(
                remote,
                known_hash="sha256:" + hashlib.sha256(twin[remote.name].read_bytes()).hexdigest(),
                size=twin[remote.name].stat().st_size,
            )
            for remote in real.files
        )
        registry.DATASETS["bbbc039_bench"] = dataclasses.replace(
            real, name="bbbc039_bench", files=files
        )
        server, url = serve(mirror)
        os.environ["COURSE_DATA_MIRROR"] = url
        total = sum(p.stat().st_size for p in twin.values())
        fetch_times, copy_times, copy_unzip_times = [], [], []
        for i in range(repeats):
            os.environ["COURSE_DATA_DIR"] = str(work / f"cache{i}")
            start = time.perf_counter()
            fetch.fetch_dataset("bbbc039_bench", progressbar=False)
            fetch_times.append(time.perf_counter() - start)
            assert cache.extracted_dir("bbbc039_bench", "images.zip").is_dir()

            target = work / f"copy{i}"
            target.mkdir()
            start = time.perf_counter()
            for path in twin.values():
                shutil.copyfile(path, target / path.name)
            copy_times.append(time.perf_counter() - start)

            target = work / f"copyunzip{i}"
            target.mkdir()
            start = time.perf_counter()
            for path in twin.values():
                shutil.copyfile(path, target / path.name)
                with zipfile.ZipFile(target / path.name) as archive:
                    archive.extractall(target / (path.name + "_x"))
            copy_unzip_times.append(time.perf_counter() - start)
        server.shutdown()
        fetch_s = statistics.median(fetch_times)
        copy_s = statistics.median(copy_times)
        copy_unzip_s = statistics.median(copy_unzip_times)
        return [
            ("bytes (3 zips)", total),
            ("fetch+verify+unpack via HTTP (s)", fetch_s),
            ("plain copy (s)", copy_s),
            ("plain copy + unzip (s)", copy_unzip_s),
            ("ratio fetch / copy", fetch_s / copy_s),
            ("ratio fetch / (copy + unzip)", fetch_s / copy_unzip_s),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_memory(names: list[str]) -> list[tuple[str, str]]:
    rows = []
    cache_dir = tempfile.mkdtemp(prefix="bench-registry-mem-")
    env = {**os.environ, "COURSE_DATA_DIR": cache_dir}
    env.pop("COURSE_DATA_MIRROR", None)
    try:
        for name in names:
            # build the twin in its own process first, so only the loading is measured
            done = subprocess.run(
                [sys.executable, "-c", BUILD_SNIPPET.format(name=name)],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
            if done.returncode == 0:
                code = MEMORY_SNIPPET.format(call=LOADS[name])
                done = subprocess.run(
                    [sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=600,
                )
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["?"])[-1]
                rows.append((name, f"n/a ({last[:70]})"))
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(
                (
                    name,
                    f"peak RSS {figures['peak_mb']:7.1f} MB | imports {figures['base_mb']:6.1f} MB"
                    f" | load peak (tracemalloc) {figures['traced_mb']:6.1f} MB"
                    f" | load {figures['seconds']:5.2f} s",
                )
            )
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only-fetch", action="store_true")
    parser.add_argument("--datasets", nargs="*", default=list(LOADS))
    args = parser.parse_args(argv)

    print("== fetch + verify + unpack of the BBBC039 twin (median of", args.repeats, "runs)")
    for label, value in bench_fetch(args.repeats):
        text = f"{value:,}" if isinstance(value, int) else f"{value:.3f}"
        print(f"  {label:36s} {text}")
    if args.only_fetch:
        return 0
    print("\n== memory of loading each twin through its loader (fresh process each)")
    for name, text in bench_memory(args.datasets):
        print(f"  {name:18s} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
