"""Time-to-accuracy of the lecture 6 training recipe on BloodMNIST (the twin offline).

Runs the lecture 6 recipe (folder-per-class export, ``DataBlock`` with the per-class cap of
the ``cpu`` scale, cell augmentations, ``fit_one_cycle``) for each network and records, after
every epoch, the wall time, the CPU time of this process and the validation accuracy. Prints
a table with the epoch and wall time at which the validation accuracy first reaches each
threshold, and the side-by-side ratio of the networks' time per epoch.

Usage::

    python benchmarks/bench_training.py                   # small_cnn and resnet18, 8 epochs
    python benchmarks/bench_training.py --epochs 12 --archs resnet18
    COURSE_DATA=real python benchmarks/bench_training.py  # on the real data, if cached

Wall times on a shared machine depend on the load; the CPU-time column is steadier. The
numbers describe the data the loader used (the banner says twin or real).
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from pathlib import Path

DEFAULT_THRESHOLDS = (0.7, 0.8, 0.9)


def _record_epochs(learn, records: list[dict], start_wall: float, start_cpu: float):
    """Attach a callback that appends (epoch, wall s, cpu s, valid accuracy) after each epoch."""
    from fastai.callback.core import Callback

    class EpochClock(Callback):
        order = 90  # after the Recorder has computed the metrics

        def after_epoch(self):
            accuracy = float(self.recorder.values[-1][2])
            records.append(
                {
                    "epoch": self.epoch + 1,
                    "wall_s": time.perf_counter() - start_wall,
                    "cpu_s": time.process_time() - start_cpu,
                    "valid_accuracy": accuracy,
                }
            )

    learn.add_cb(EpochClock())


def run_one(arch: str, folder: Path, settings, epochs: int, learning_rate: float, seed: int):
    """Train one network with the lecture 6 recipe; return the per-epoch records."""
    from fastai.vision.all import (
        CategoryBlock,
        DataBlock,
        GrandparentSplitter,
        ImageBlock,
        parent_label,
    )

    from lecture_helpers import cell_dataloaders, cnn_learners, run_settings

    run_settings.set_seed(seed)
    block = DataBlock(
        blocks=(ImageBlock, CategoryBlock),
        get_items=functools.partial(
            cell_dataloaders.get_image_files_per_class, max_per_class=settings.max_items_per_class
        ),
        splitter=GrandparentSplitter(train_name="train", valid_name="valid"),
        get_y=parent_label,
        batch_tfms=cell_dataloaders.cell_aug_transforms(
            fluorescence=False, size=settings.image_size
        ),
    )
    dls = block.dataloaders(folder, bs=settings.batch_size, num_workers=settings.num_workers)
    learn = cnn_learners.make_learner(dls, arch=arch)
    n_parameters = sum(p.numel() for p in learn.model.parameters())
    records: list[dict] = []
    _record_epochs(learn, records, time.perf_counter(), time.process_time())
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs, learning_rate)
    return records, n_parameters, len(dls.train_ds), len(dls.valid_ds)


def first_reaching(records: list[dict], threshold: float) -> dict | None:
    """The first epoch record whose validation accuracy is at least ``threshold``."""
    return next((r for r in records if r["valid_accuracy"] >= threshold), None)


def format_table(results: dict, thresholds) -> str:
    """Markdown-style table: one row per network."""
    header = ["network", "params"]
    header += [f"to {t:.0%}: epoch / wall s" for t in thresholds]
    header += ["final acc", "wall s/epoch", "cpu s/epoch"]
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    for arch, (records, n_parameters) in results.items():
        row = [arch, f"{n_parameters / 1e6:.2f} M"]
        for threshold in thresholds:
            hit = first_reaching(records, threshold)
            row.append(f"{hit['epoch']} / {hit['wall_s']:.0f}" if hit else "not reached")
        last = records[-1]
        row += [
            f"{last['valid_accuracy']:.3f}",
            f"{last['wall_s'] / last['epoch']:.1f}",
            f"{last['cpu_s'] / last['epoch']:.1f}",
        ]
        lines.append(" | ".join(row))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["small_cnn", "resnet18"])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3, help="maximum learning rate")
    parser.add_argument("--scale", default=None, help="cpu or gpu (default COURSE_KIT_SCALE)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(DEFAULT_THRESHOLDS))
    args = parser.parse_args(argv)

    from data_registry.export import export_imagefolder
    from data_registry.loaders import load_classification
    from lecture_helpers import run_settings

    settings = run_settings.setup(args.scale, seed=args.seed)
    source = load_classification("bloodmnist").source
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_training_") as work:
        folder = export_imagefolder("bloodmnist", Path(work) / "bloodmnist")
        for arch in args.archs:
            print(f"\n== {arch}: {args.epochs} epochs, max lr {args.lr:g}")
            records, n_parameters, n_train, n_valid = run_one(
                arch, folder, settings, args.epochs, args.lr, args.seed
            )
            for record in records:
                print(
                    f"  epoch {record['epoch']:2d}  valid acc {record['valid_accuracy']:.3f}  "
                    f"wall {record['wall_s']:6.1f} s  cpu {record['cpu_s']:6.1f} s"
                )
            results[arch] = (records, n_parameters)
    print(
        f"\nTime to accuracy, lecture 6 recipe, BloodMNIST ({source}), {settings.describe()}; "
        f"{n_train} training / {n_valid} validation images, {args.epochs} epochs per network:\n"
    )
    print(format_table(results, args.thresholds))
    if len(results) >= 2:
        names = list(results)
        base_records = results[names[0]][0]
        base = base_records[-1]["cpu_s"] / base_records[-1]["epoch"]
        for other in names[1:]:
            other_records = results[other][0]
            ratio = other_records[-1]["cpu_s"] / other_records[-1]["epoch"] / base
            print(f"\nCPU time per epoch, {other} / {names[0]}: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
