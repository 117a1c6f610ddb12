"""Twin of BCCD (blood smear photos with RBC / WBC / platelet boxes).

Same layout as the Shenggan/BCCD_Dataset repository the registry pins:
``BCCD/JPEGImages/BloodImage_NNNNN.jpg`` (640 x 480 RGB baseline JPEG),
``BCCD/Annotations/BloodImage_NNNNN.xml`` (Pascal VOC), ``BCCD/ImageSets/Main/{train,val,
trainval,test}.txt`` (image stems) and ``test.csv`` with the real column order
``filename,cell_type,xmin,xmax,ymin,ymax`` (xmax before ymin). The twin has 12 images
(the real set: 364) with a gap in the numbering like the real one, each with red cells,
usually one white cell and a few platelets; ``LICENSE`` and ``README.md`` say it is
synthetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import jpeg_bytes

SEED = 4
IMAGE_NUMBERS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12)
SPLITS = {"train": (1, 3, 4, 6, 8, 12), "val": (0, 2, 9), "test": (5, 7, 10)}
WIDTH, HEIGHT = 640, 480


def _paint_disc(
    rgb: np.ndarray, cy: float, cx: float, ry: float, rx: float, colour, strength: float = 1.0
) -> None:
    """Blend a soft-edged ellipse of ``colour`` into ``rgb`` in place (only its bounding window)."""
    row0, row1 = max(0, int(cy - ry) - 2), min(HEIGHT, int(cy + ry) + 3)
    col0, col1 = max(0, int(cx - rx) - 2), min(WIDTH, int(cx + rx) + 3)
    if row0 >= row1 or col0 >= col1:
        return
    rows, cols = np.mgrid[row0:row1, col0:col1].astype(np.float32)
    distance = np.sqrt(((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2)
    alpha = np.clip((1.0 - distance) * min(ry, rx) / 2.0 + 0.5, 0.0, 1.0)[..., None] * strength
    window = rgb[row0:row1, col0:col1]
    window += alpha * (np.asarray(colour, np.float32) - window)


def make_smear(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[str, int, int, int, int]]]:
    """One 480 x 640 RGB smear and its boxes ``(cell_type, xmin, ymin, xmax, ymax)``."""
    rgb = np.ones((HEIGHT, WIDTH, 3), np.float32) * np.array([0.93, 0.85, 0.70], np.float32)
    boxes = []
    for _ in range(int(rng.integers(9, 16))):
        cy, cx = rng.uniform(20, HEIGHT - 20), rng.uniform(20, WIDTH - 20)
        ry = rng.uniform(42, 55)
        rx = ry * rng.uniform(0.9, 1.1)
        _paint_disc(rgb, cy, cx, ry, rx, (0.86, 0.55, 0.50))
        _paint_disc(rgb, cy, cx, ry * 0.5, rx * 0.5, (0.93, 0.80, 0.70), strength=0.45)
        boxes.append(("RBC", cx - rx, cy - ry, cx + rx, cy + ry))
    n_white = 1 if rng.random() < 0.85 else int(rng.choice([0, 2]))
    for _ in range(n_white):
        cy, cx = rng.uniform(110, HEIGHT - 110), rng.uniform(110, WIDTH - 110)
        radius = rng.uniform(80, 105)
        _paint_disc(rgb, cy, cx, radius, radius, (0.72, 0.62, 0.80))
        for angle in np.linspace(0, 2 * np.pi, int(rng.integers(2, 5)), endpoint=False):
            ly = cy + radius * 0.35 * np.sin(angle + rng.uniform(0, 1))
            lx = cx + radius * 0.35 * np.cos(angle + rng.uniform(0, 1))
            _paint_disc(rgb, ly, lx, radius * 0.32, radius * 0.4, (0.35, 0.18, 0.50))
        boxes.append(("WBC", cx - radius, cy - radius, cx + radius, cy + radius))
    for _ in range(int(rng.integers(0, 4))):
        cy, cx = rng.uniform(15, HEIGHT - 15), rng.uniform(15, WIDTH - 15)
        radius = rng.uniform(8, 14)
        _paint_disc(rgb, cy, cx, radius, radius * 1.2, (0.50, 0.32, 0.62))
        boxes.append(("Platelets", cx - radius * 1.2, cy - radius, cx + radius * 1.2, cy + radius))
    rgb += rng.normal(0, 0.02, rgb.shape).astype(np.float32)
    image = np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)
    clipped = [
        (kind, max(0, int(x0)), max(0, int(y0)), min(WIDTH - 1, int(x1)), min(HEIGHT - 1, int(y1)))
        for kind, x0, y0, x1, y1 in boxes
    ]
    return image, clipped


def voc_xml(stem: str, boxes: list[tuple[str, int, int, int, int]]) -> str:
    """Pascal VOC annotation in the layout of the BCCD files (tab-indented)."""
    objects = "".join(
        f"\t<object>\n\t\t<name>{kind}</name>\n\t\t<pose>Unspecified</pose>\n"
        f"\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"
        f"\t\t\t<xmin>{x0}</xmin>\n\t\t\t<ymin>{y0}</ymin>\n\t\t\t<xmax>{x1}</xmax>\n"
        f"\t\t\t<ymax>{y1}</ymax>\n\t\t</bndbox>\n\t</object>\n"
        for kind, x0, y0, x1, y1 in boxes
    )
    return (
        f"<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>{stem}.jpg</filename>\n"
        f"\t<path>JPEGImages/{stem}.jpg</path>\n\t<source>\n\t\t<database>Unknown</database>\n"
        f"\t</source>\n\t<size>\n\t\t<width>{WIDTH}</width>\n\t\t<height>{HEIGHT}</height>\n"
        f"\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n{objects}</annotation>\n"
    )


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the BCCD twin files under ``dest_dir`` (keys are the registry file names)."""
    dest_dir = Path(dest_dir)
    rng = np.random.default_rng(SEED)
    written: dict[str, Path] = {}

    def put(relative: str, data: bytes) -> None:
        written[relative] = atomic_write_bytes(dest_dir / relative, data)

    csv_rows = ["filename,cell_type,xmin,xmax,ymin,ymax"]
    for number in IMAGE_NUMBERS:
        stem = f"BloodImage_{number:05d}"
        image, boxes = make_smear(rng)
        put(f"BCCD/JPEGImages/{stem}.jpg", jpeg_bytes(image, quality=92))
        put(f"BCCD/Annotations/{stem}.xml", voc_xml(stem, boxes).encode("utf-8"))
        csv_rows += [f"{stem}.jpg,{kind},{x0},{x1},{y0},{y1}" for kind, x0, y0, x1, y1 in boxes]
    split_lists = dict(SPLITS)
    split_lists["trainval"] = tuple(sorted(SPLITS["train"] + SPLITS["val"]))
    for split in ("test", "train", "trainval", "val"):
        listed = "".join(f"BloodImage_{number:05d}\n" for number in sorted(split_lists[split]))
        put(f"BCCD/ImageSets/Main/{split}.txt", listed.encode("ascii"))
    put("test.csv", ("\n".join(csv_rows) + "\n").encode("ascii"))
    put("LICENSE", b"Synthetic twin of the BCCD dataset (MIT licence of the original applies).\n")
    put("README.md", b"# BCCD twin\n\nSynthetic blood smears in the BCCD layout; not real data.\n")
    return written
