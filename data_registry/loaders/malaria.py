"""``load_malaria_subset``: the patient-split NIH malaria subset, ready for fastai ``from_folder``."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_registry import malaria
from data_registry.loaders.dispatch import read_dataset
from data_registry.registry import get_dataset
from data_registry.source import DatasetFiles


@dataclass
class ImageFolderData:
    """A folder-per-label image set: ``root/<split>/<label>/*.png`` plus its manifest.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    root : Path
        Folder holding ``train/``, ``valid/`` and ``test/`` (give it to
        ``ImageDataLoaders.from_folder(root, train="train", valid="valid")``).
    manifest : pandas.DataFrame
        One row per file: ``path, label, split, patient, sha256, bytes, source_member``.
    class_names : tuple of str
        Labels (folder names).
    derivation : dict
        Source hash and parameters the subset was derived with.
    """

    name: str
    source: str
    root: Path
    manifest: pd.DataFrame
    class_names: tuple[str, ...]
    derivation: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.manifest)

    def counts(self) -> pd.DataFrame:
        """Cells (and patients) per split and class."""
        table = self.manifest.pivot_table(
            index="split", columns="label", values="path", aggfunc="count", fill_value=0
        )
        table["patients"] = self.manifest.groupby("split")["patient"].nunique()
        return table.reindex([s for s in malaria.SPLITS if s in table.index])

    def sample_folder(self, out_dir: Path, max_per_class: int | None, seed: int = 0) -> Path:
        """A copy with at most ``max_per_class`` images per split and label (for a CPU run).

        Files are hard-linked where the file system allows it (no extra space), else copied.
        ``max_per_class=None`` returns :attr:`root` itself.

        Parameters
        ----------
        out_dir : Path
            Folder to create (must not exist or be empty).
        max_per_class : int or None
            Cap per split and label.
        seed : int
            Seed of the random pick.

        Returns
        -------
        Path
            The folder holding ``<split>/<label>/*.png``.
        """
        if max_per_class is None:
            return self.root
        out_dir = Path(out_dir)
        if out_dir.exists() and any(out_dir.iterdir()):
            raise FileExistsError(f"{out_dir} exists and is not empty")
        picked = (
            self.manifest.groupby(["split", "label"], group_keys=False)
            .apply(lambda rows: rows.sample(min(len(rows), max_per_class), random_state=seed))
            .sort_values("path")
        )
        for relative in picked["path"]:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(self.root / relative, target)
            except OSError:
                shutil.copyfile(self.root / relative, target)
        return out_dir

    def __repr__(self) -> str:
        splits = self.manifest["split"].value_counts().to_dict()
        parts = ", ".join(f"{s} {splits.get(s, 0)}" for s in malaria.SPLITS)
        return (
            f"ImageFolderData({self.name!r}, source={self.source!r}: {len(self)} images ({parts}), "
            f"{self.manifest['patient'].nunique()} patients, classes {list(self.class_names)})"
        )


def load_malaria_subset(source: str | None = None) -> ImageFolderData:
    """Load the balanced, patient-split malaria subset (real if derived here, else the twin).

    Parameters
    ----------
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    ImageFolderData
    """
    return read_dataset("imagefolder", "malaria_subset", source)


def read_imagefolder(files: DatasetFiles) -> ImageFolderData:
    """The registry's reader of ``malaria_subset`` for :func:`load_malaria_subset`.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin): the folder with ``manifest.csv``.

    Returns
    -------
    ImageFolderData
    """
    root = Path(files.root)
    derivation_file = root / malaria.DERIVATION_FILE
    derivation = json.loads(derivation_file.read_text("utf-8")) if derivation_file.is_file() else {}
    manifest = pd.DataFrame(malaria.read_manifest(root))
    manifest["bytes"] = manifest["bytes"].astype(int)
    return ImageFolderData(
        files.name, files.source, root, manifest, get_dataset(files.name).classes, derivation
    )
