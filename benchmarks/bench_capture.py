"""Benchmark: ``lowcost_capture.ingest`` against a naive pipeline on 12-megapixel phone photos.

Generates ``2N`` phone-like 4000x3000 JPEGs (Foldscope-like, some with EXIF orientation) once,
then, in the same run and on the same photos:

* throughput (photos per second) of ``ingest`` and of a naive pipeline (open at full size,
  ``exif_transpose``, resize to the same output size, save PNG) on N photos;
* peak memory (RSS, measured inside a fresh subprocess) of ``ingest`` for N and for 2N photos,
  to show that memory does not grow with the number of photos;
* peak memory of ``ingest`` on one photo of an odd shape (a 20000x1 line, an 11.5:1 strip) next
  to a square photo of the same pixel count, to show that memory depends on the pixel count only
  (before issue 10 the 20000x1 line asked for a 10-million-pixel-wide resize and grew to 23 GB).

With ``--against REF`` it instead times this working tree's ``ingest`` beside the
``lowcost_capture`` of an earlier commit (e.g. before a refactoring) on the same photos, in
alternating fresh processes, and prints CPU seconds per photo of both and their ratio.

Usage::

    python3 benchmarks/bench_capture.py            # N = 24
    python3 benchmarks/bench_capture.py --n 8      # quicker
    python3 benchmarks/bench_capture.py --shapes-only   # only the odd-shape memory table
    python3 benchmarks/bench_capture.py --n 8 --against HEAD~3 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lowcost_capture.synthetic import LABELS, render_photo, save_photo

PHOTO_SIZE = (4000, 3000)
OUTPUT_SIZE = 512

# Peak-memory reader shared by both child processes (each measures only itself).
_RSS_HELPER = """
def rss_mb(field="VmHWM:"):
    # VmHWM is this process's own peak (ru_maxrss would include the parent's peak across exec).
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_INGEST_CHILD = (
    """
import json, sys, time
import sklearn.model_selection  # imported by large batches only; load it in every run alike
"""
    + _RSS_HELPER
    + """from lowcost_capture import ingest
baseline = rss_mb("VmRSS:")
start, cpu = time.perf_counter(), time.process_time()
summary = ingest(sys.argv[1], sys.argv[2], size=int(sys.argv[3]), progress=False)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": elapsed, "cpu": cpu, "photos": summary.added_photos,
                  "rejected": summary.rejected,
                  "baseline_rss_mb": baseline, "peak_rss_mb": rss_mb()}))
"""
)

_SHAPE_CHILD = (
    """
import json, sys
"""
    + _RSS_HELPER
    + """from lowcost_capture import ingest
summary = ingest(sys.argv[1], sys.argv[2], size=int(sys.argv[3]), progress=False,
                 reject_blank=False)
print(json.dumps({"photos": summary.added_photos, "peak_rss_mb": rss_mb()}))
"""
)

_NAIVE_CHILD = (
    """
import json, sys, time
"""
    + _RSS_HELPER
    + """from pathlib import Path
from PIL import Image, ImageOps
source, out, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
photos = sorted(p for p in source.rglob("*.jpg"))
baseline = rss_mb("VmRSS:")
start, cpu = time.perf_counter(), time.process_time()
for index, path in enumerate(photos):
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    factor = size / max(upright.size)
    small = upright.resize((round(upright.size[0] * factor), round(upright.size[1] * factor)))
    target = out / path.parent.name / f"{index:04d}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    small.save(target)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": elapsed, "cpu": cpu, "photos": len(photos),
                  "baseline_rss_mb": baseline, "peak_rss_mb": rss_mb()}))
"""
)


def make_photos(folder: Path, count: int, seed: int = 0) -> None:
    """Write ``count`` 12-megapixel phone-like JPEGs into ``folder/<label>/``."""
    rng = np.random.default_rng(seed)
    orientations = [1, 1, 6, 3, 8, 1]
    for index in range(count):
        label = LABELS[index % len(LABELS)]
        image = render_photo(label, np.random.default_rng(rng.integers(0, 2**63)), PHOTO_SIZE)
        save_photo(image, folder / label / f"IMG_{index:04d}.jpg", orientations[index % 6])


REPO_ROOT = Path(__file__).resolve().parents[1]


def run_child(code: str, *args: str, package_root: Path | None = None) -> dict:
    """Run a measurement in a fresh Python process and return its JSON result.

    ``package_root``: a folder holding another ``lowcost_capture`` to import first.
    """
    env = dict(os.environ)
    if package_root is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(package_root), str(REPO_ROOT)])
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def against_table(tmp: Path, ref: str, n: int, rounds: int) -> None:
    """Print CPU s/photo of this tree's ingest beside REF's, alternating fresh processes."""
    old = tmp / "old"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref, "lowcost_capture"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    make_photos(tmp / "photos", n, seed=1)
    size = str(OUTPUT_SIZE)
    times: dict[str, list[float]] = {"this tree": [], ref: []}
    outcome: dict[str, tuple[int, int]] = {}
    for index in range(rounds):
        order = [("this tree", REPO_ROOT), (ref, old)]
        for name, root in order if index % 2 == 0 else order[::-1]:
            out = tmp / f"ds_{index}_{len(times[name])}_{name.replace('~', '_')}"
            result = run_child(
                _INGEST_CHILD, str(tmp / "photos"), str(out), size, package_root=root
            )
            times[name].append(result["cpu"] / n)
            outcome[name] = (result["photos"], result["rejected"])
    print(
        f"{'lowcost_capture':<20} {'photos':>6} {'added':>6} {'rejected':>9} "
        f"{'CPU s/photo (median)':>21} {'runs':>5}"
    )
    for name, values in times.items():
        added, rejected = outcome[name]
        print(
            f"{name:<20} {n:>6} {added:>6} {rejected:>9} "
            f"{statistics.median(values):>21.3f} {len(values):>5}"
        )
    ratio = statistics.median(times["this tree"]) / statistics.median(times[ref])
    print(f"CPU time ratio this tree / {ref}: {ratio:.2f}  (1.0 = same speed, below 1 = faster)")


#: (name, odd size, square size of the same pixel count) for the shape table.
SHAPE_PAIRS = [
    ("20000x1 line (refused: too small)", (20000, 1), (141, 141)),
    ("60000x3 sliver (refused: too small)", (60000, 3), (424, 424)),
    ("4600x400 strip (ingested)", (4600, 400), (1356, 1356)),
    ("384x32 strip (ingested)", (384, 32), (111, 111)),
]


def _noise_png(path: Path, size: tuple[int, int], seed: int = 0) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)


def shape_table(tmp: Path) -> None:
    """Print peak RSS of ingest for odd shapes beside squares of the same pixel count."""
    print()
    print(f"{'photo shape':<38} {'peak RSS MB':>12} {'square, same pixels MB':>23} {'ratio':>6}")
    for index, (name, odd, square) in enumerate(SHAPE_PAIRS):
        peaks = []
        for kind, size in (("odd", odd), ("square", square)):
            folder = tmp / f"shape{index}_{kind}"
            _noise_png(folder / "photos" / "x" / "photo.png", size, seed=index)
            result = run_child(
                _SHAPE_CHILD, str(folder / "photos"), str(folder / "ds"), str(OUTPUT_SIZE)
            )
            peaks.append(result["peak_rss_mb"])
        print(f"{name:<38} {peaks[0]:>12.0f} {peaks[1]:>23.0f} {peaks[0] / peaks[1]:>6.2f}")
    print("ratio 1.0 = memory independent of the photo's shape")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="photos per run (default 24)")
    parser.add_argument(
        "--shapes-only", action="store_true", help="only the table of odd photo shapes"
    )
    parser.add_argument("--against", metavar="REF", help="compare with the code of a git ref")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each with --against")
    args = parser.parse_args(argv)
    if args.against:
        with tempfile.TemporaryDirectory(prefix="bench_capture_") as tmp:
            against_table(Path(tmp), args.against, args.n, args.rounds)
        return 0
    if args.shapes_only:
        with tempfile.TemporaryDirectory(prefix="bench_capture_") as tmp:
            shape_table(Path(tmp))
        return 0
    n = args.n

    with tempfile.TemporaryDirectory(prefix="bench_capture_") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        make_photos(tmp / "first", n, seed=1)
        make_photos(tmp / "second", n, seed=2)
        both = tmp / "both"
        for part in ("first", "second"):
            for photo in (tmp / part).rglob("*.jpg"):
                target = both / photo.parent.name / f"{part}_{photo.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.hardlink_to(photo)
        size_mb = sum(p.stat().st_size for p in (tmp / "first").rglob("*.jpg")) / 1e6
        print(
            f"generated {2 * n} photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} "
            f"({size_mb / n:.1f} MB each) in {time.perf_counter() - start:.0f} s"
        )

        size = str(OUTPUT_SIZE)
        naive = run_child(_NAIVE_CHILD, str(tmp / "first"), str(tmp / "naive"), size)
        ours = run_child(_INGEST_CHILD, str(tmp / "first"), str(tmp / "ds_n"), size)
        ours_2n = run_child(_INGEST_CHILD, str(both), str(tmp / "ds_2n"), size)

    rows = [
        ("naive (full decode, exif_transpose, resize, PNG)", n, naive),
        ("lowcost_capture.ingest", n, ours),
        ("lowcost_capture.ingest", 2 * n, ours_2n),
    ]
    print()
    print(
        f"{'pipeline':<50} {'photos':>6} {'photos/s':>9} {'CPU s/photo':>12} "
        f"{'RSS after imports MB':>21} {'peak RSS MB':>12}"
    )
    for name, count, result in rows:
        rate = result["photos"] / result["seconds"]
        cpu = result["cpu"] / result["photos"]
        print(
            f"{name:<50} {count:>6} {rate:>9.2f} {cpu:>12.3f} "
            f"{result['baseline_rss_mb']:>21.0f} {result['peak_rss_mb']:>12.0f}"
        )
    print()
    wall_ratio = (ours["photos"] / ours["seconds"]) / (naive["photos"] / naive["seconds"])
    cpu_ratio = (naive["cpu"] / naive["photos"]) / (ours["cpu"] / ours["photos"])
    rss_ratio = ours_2n["peak_rss_mb"] / ours["peak_rss_mb"]
    print(f"throughput ratio ingest / naive (wall clock): {wall_ratio:.2f}x  (target >= 2x)")
    print(f"throughput ratio ingest / naive (CPU time):   {cpu_ratio:.2f}x")
    print(
        f"peak RSS ratio ingest 2N / N:                 {rss_ratio:.2f}  (1.0 = independent of N)"
    )
    print(
        f"ingest added {ours['photos']} + rejected {ours['rejected']} of {n}; "
        f"{ours_2n['photos']} + {ours_2n['rejected']} of {2 * n}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_capture_") as tmp:
        shape_table(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
