"""``load_malaria_subset``: the patient-split NIH malaria subset, ready for fastai ``from_folder``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_registry import malaria
from data_registry.loaders.files import dataset_files
from data_registry.registry import MALARIA_CLASSES


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
    files = dataset_files("malaria_subset", source)
    root = Path(files.root)
    derivation_file = root / malaria.DERIVATION_FILE
    derivation = json.loads(derivation_file.read_text("utf-8")) if derivation_file.is_file() else {}
    manifest = pd.DataFrame(malaria.read_manifest(root))
    manifest["bytes"] = manifest["bytes"].astype(int)
    return ImageFolderData(
        "malaria_subset", files.source, root, manifest, MALARIA_CLASSES, derivation
    )
