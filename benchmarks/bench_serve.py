"""Benchmark: ``lowcost-capture serve`` with many phones uploading 12-megapixel photos at once.

For each number of clients (default 10 and 30), a fresh server (2 worker processes) is started
on 127.0.0.1 with an empty dataset, and every client uploads one distinct 4000x3000 phone-like
JPEG (Foldscope-like synthetic photos, ~3 MB each) at the same moment, as the student page does
(raw body). Measured:

* time to verdict of each photo: from the start of its upload until the verdict is available
  (the phone polls for it), p50 and p95;
* throughput: photos per second from the first upload to the last verdict;
* peak memory (RSS) of the server and its worker processes together, sampled every 50 ms,
  and the same at rest before the uploads;
* CPU seconds per photo (server and workers), which depends little on other load: on a shared
  machine the times to verdict grow with the load average printed first, the CPU time does not;
* for comparison, the wall time of ``lowcost_capture.ingest`` on the same photos in a single
  process (no server, no network), and the ratio of the last verdict to it: the overhead of
  serving under the same machine load.

Targets: p95 time to verdict <= 5 s for 30 clients on 2 cores, and memory flat in the number of
clients (uploads stream to disk; the worker pool has a fixed size).

Usage::

    python3 benchmarks/bench_serve.py                    # 10 and 30 clients
    python3 benchmarks/bench_serve.py --clients 5 30 60
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from lowcost_capture.synthetic import LABELS, render_photo, save_photo

PHOTO_SIZE = (4000, 3000)
REPO_ROOT = Path(__file__).resolve().parents[1]


def make_photos(folder: Path, count: int, seed: int) -> list[Path]:
    """Write ``count`` distinct 12-megapixel phone-like JPEGs (EXIF orientation and GPS)."""
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        label = LABELS[index % len(LABELS)]
        image = render_photo(label, np.random.default_rng(rng.integers(0, 2**63)), PHOTO_SIZE)
        paths.append(
            save_photo(image, folder / f"IMG_{index:04d}.jpg", (1, 6, 3, 8)[index % 4], True)
        )
    return paths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU time (user + system) used so far by a process and its descendants."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def tree_rss_mb(process: psutil.Process) -> float:
    """RSS of a process and all its descendants, in MB."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total / 1e6


class MemorySampler(threading.Thread):
    """Samples the RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0.0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.process))
            time.sleep(0.05)


def start_server(dataset: Path, labels: list[str]) -> tuple[subprocess.Popen, str]:
    """Start ``lowcost-capture serve`` and return the process and the student URL."""
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "lowcost_capture", "serve", str(dataset)]
    command += ["--labels", ",".join(labels), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "2", "--uploads-per-minute", "1000"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        tokens = dataset / ".capture" / "tokens.json"
        if tokens.is_file():
            url = f"http://127.0.0.1:{port}/c/{json.loads(tokens.read_text())['student']}/"
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the server did not start")


def run(clients: int, photos: list[Path], dataset: Path) -> dict:
    """One measurement: ``clients`` phones upload one photo each at the same moment."""
    labels = list(LABELS)
    process, url = start_server(dataset, labels)
    try:
        time.sleep(1.0)
        idle_mb = tree_rss_mb(psutil.Process(process.pid))
        cpu_before = tree_cpu_seconds(psutil.Process(process.pid))
        sampler = MemorySampler(process.pid)
        sampler.start()
        payloads = [path.read_bytes() for path in photos[:clients]]
        barrier = threading.Barrier(clients)
        started: dict[str, float] = {}
        done: dict[str, float] = {}
        upload_seconds: list[float] = []
        lock = threading.Lock()

        def client(index: int) -> None:
            params = {"student": f"student {index}", "label": labels[index % len(labels)]}
            with httpx.Client(timeout=300) as session:
                barrier.wait()
                begin = time.perf_counter()
                answer = session.post(url + "upload", params=params, content=payloads[index])
                answer.raise_for_status()
                with lock:
                    started[answer.json()["id"]] = begin
                    upload_seconds.append(time.perf_counter() - begin)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        first = time.perf_counter()
        for thread in threads:
            thread.start()
        with httpx.Client(timeout=60) as poller:
            while len(done) < clients:
                with lock:
                    waiting = [i for i in started if i not in done]
                if waiting:
                    answer = poller.get(url + "status", params={"ids": ",".join(waiting)})
                    now = time.perf_counter()
                    for record in answer.json()["uploads"]:
                        if record["state"] == "done":
                            done[record["id"]] = now
                time.sleep(0.05)
        last = max(done.values())
        for thread in threads:
            thread.join()
        sampler.halt.set()
        sampler.join()
        cpu_used = tree_cpu_seconds(psutil.Process(process.pid)) - cpu_before
        verdict_seconds = sorted(done[i] - started[i] for i in done)
        return {
            "clients": clients,
            "photos_per_s": clients / (last - first),
            "upload_p50": statistics.median(upload_seconds),
            "verdict_p50": statistics.median(verdict_seconds),
            "verdict_p95": float(np.percentile(verdict_seconds, 95)),
            "verdict_max": verdict_seconds[-1],
            "cpu_per_photo": cpu_used / clients,
            "idle_mb": idle_mb,
            "peak_mb": sampler.peak,
        }
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


_CLI_CHILD = """
import sys, time
from pathlib import Path
from lowcost_capture import ingest
photos = sorted(Path(sys.argv[1]).glob("*.jpg"))[: int(sys.argv[3])]
start = time.perf_counter()
for photo in photos:  # one call per photo, as the server does (one upload at a time)
    ingest(photo, sys.argv[2], label="pollen", progress=False)
print(time.perf_counter() - start)
"""


def cli_seconds(photos_dir: Path, dataset: Path, count: int) -> float:
    """Wall time of ``lowcost_capture.ingest`` on the same photos in one process, no server."""
    result = subprocess.run(
        [sys.executable, "-c", _CLI_CHILD, str(photos_dir), str(dataset), str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 30])
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="bench_serve_") as tmp:
        tmp = Path(tmp)
        begin = time.perf_counter()
        photos = make_photos(tmp / "photos", max(args.clients), seed=3)
        size_mb = statistics.mean(p.stat().st_size for p in photos) / 1e6
        print(
            f"generated {len(photos)} distinct {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEGs "
            f"({size_mb:.1f} MB each) in {time.perf_counter() - begin:.0f} s"
        )
        results = [run(n, photos, tmp / f"dataset_{n}") for n in args.clients]
        for result in results:
            n = result["clients"]
            result["cli_s"] = cli_seconds(tmp / "photos", tmp / f"cli_{n}", n)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    header = (
        f"{'clients':>7} {'photos/s':>9} {'upload p50':>11} {'verdict p50':>12} "
        f"{'verdict p95':>12} {'max':>6} {'CPU/photo':>10} {'RSS idle':>9} {'RSS peak':>9} "
        f"{'CLI ingest':>11} {'max/CLI':>8}"
    )
    print(header)
    for r in results:
        print(
            f"{r['clients']:>7} {r['photos_per_s']:>9.2f} {r['upload_p50']:>10.2f}s "
            f"{r['verdict_p50']:>11.2f}s {r['verdict_p95']:>11.2f}s {r['verdict_max']:>5.1f}s "
            f"{r['cpu_per_photo']:>9.2f}s "
            f"{r['idle_mb']:>7.0f}MB {r['peak_mb']:>7.0f}MB {r['cli_s']:>10.1f}s "
            f"{r['verdict_max'] / r['cli_s']:>8.2f}"
        )
    if len(results) > 1:
        low, high = results[0], results[-1]
        print(
            f"ratio {high['clients']} vs {low['clients']} clients: "
            f"peak RSS x{high['peak_mb'] / low['peak_mb']:.2f}, "
            f"verdict p95 x{high['verdict_p95'] / low['verdict_p95']:.2f}, "
            f"throughput x{high['photos_per_s'] / low['photos_per_s']:.2f}"
        )
        target = "met" if high["verdict_p95"] <= 5.0 else "NOT met"
        print(f"target p95 verdict <= 5 s with {high['clients']} clients: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
