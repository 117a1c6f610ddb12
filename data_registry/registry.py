"""The registry table: the single source of truth for every dataset of the course.

Each :class:`Dataset` lists its files (:class:`RemoteFile`) with a URL pinned to an immutable
version, the published hash (``sha256:...`` or ``md5:...``) and the byte size where known, plus
licence, citation and class names. Nothing else in the kit writes a URL or a hash.

Hashes come from the publishers' or well-known libraries' code (torch-em, MedMNIST, scikit-image,
the BSCCM croissant file) or, for BCCD, from the pinned GitHub commit (``registry_files/bccd.csv``).
Where no hash was published the field is ``None`` and the note says so.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from importlib import resources

from data_registry.errors import UnknownDatasetError

#: What a dataset *is* decides which public loader (a name in ``data_registry``) serves it. The
#: loader finds the dataset's files (real or twin, see :mod:`data_registry.source`) and hands
#: them to the record's ``reader``; the reader's options are those of the loader. ``source``
#: datasets (raw downloads that a ``course-data derive-*`` command or your own code reads) have
#: no loader, and ``photos`` are read by their loader itself (it keeps every photo it can fetch).
KIND_LOADERS: dict[str, str | None] = {
    "segmentation": "load_segmentation",  # reader(files, split, n) -> SegmentationData
    "classification": "load_classification",  # reader(files) -> ClassificationData
    "sample": "load_sample",  # reader(files) -> numpy.ndarray
    "detection": "load_bccd",  # reader(files) -> DetectionData
    "crops": "load_nuclei_crops",  # reader(files, n) -> CropsData
    "imagefolder": "load_malaria_subset",  # reader(files) -> ImageFolderData
    "tracking": "load_tracking",  # reader(files, sequence, frames) -> TrackingData
    "timelapse": "load_timelapse",  # reader(files) -> TimelapseData
    "photos": "load_foldscope_photos",  # no reader: the loader fetches photo by photo
    "source": None,  # no loader, no reader
}
KINDS = tuple(KIND_LOADERS)
#: Kinds whose records need no ``reader``.
KINDS_WITHOUT_READER = ("photos", "source")
#: Entry-point group through which an installed package adds datasets to the registry: each
#: entry point names an iterable of :class:`Dataset` records (see :func:`plugin_datasets`).
ENTRY_POINT_GROUP = "course_data.datasets"
AUTH_KINDS = ("dryad-token", "kaggle", "hf-token", None)
UNPACK_KINDS = (None, "zip", "tar")

# Environment variable holding the optional token for each auth kind.
AUTH_ENV = {"dryad-token": "DRYAD_TOKEN", "hf-token": "HF_TOKEN", "kaggle": "KAGGLE_USERNAME"}


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of a dataset.

    Parameters
    ----------
    name : str
        File name in the cache (may contain ``/`` for datasets that keep a folder layout).
    url : str
        URL pinned to an immutable version (commit, release, record).
    known_hash : str or None
        ``"sha256:<hex>"`` or ``"md5:<hex>"``; None when no hash was ever published.
    size : int or None
        Size in bytes, None when not published.
    unpack : {None, "zip", "tar"}
        Archive type, if the file should also be extracted in the cache.
    note : str
        Caveats for instructors (no published hash, size only, ...).
    verify_after_extract : tuple of (str, str)
        ``(path inside the archive, "sha256:<hex>")`` pairs checked after extraction; used when
        the archive itself has no published hash but some of its members do.
    """

    name: str
    url: str
    known_hash: str | None
    size: int | None
    unpack: str | None = None
    note: str = ""
    verify_after_extract: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dataset:
    """One dataset of the course, with everything needed to fetch, verify and cite it.

    Parameters
    ----------
    name : str
        Registry key (lower case, ``_`` separated).
    title, description : str
        Human-readable title and a few sentences on content.
    homepage : str
        Landing page of the dataset.
    licence, licence_url : str
        Data licence and where it is stated.
    citation_key : str
        BibTeX key of the primary reference.
    bibtex : str
        One or more BibTeX entries to cite when using the data.
    classes : tuple of str
        Class names in label order (empty when there are no labels).
    files : tuple of RemoteFile
        The files to download (empty for derived or manual datasets).
    auth : {None, "dryad-token", "kaggle", "hf-token"}
        Optional or required credentials (see ``notes``).
    kind : str
        One of ``KINDS``: what the dataset is, which decides the loader that serves it
        (``KIND_LOADERS``).
    notes : str
        Caveats: host pain points, class balance, instructor-only status.
    derived_from : str or None
        Registry name of the dataset this one is built from locally.
    instructor_only : bool
        True for large downloads meant for the instructor's machine only.
    unverified : tuple of str
        What has not been checked against real data or a published source yet (shown by
        ``course-data info`` and on the licences page); ``course-data fetch NAME --record`` on a
        connected machine records the hashes needed to pin it.
    reader : str or None
        ``"module:function"`` that turns the dataset's local files (a
        :class:`~data_registry.source.DatasetFiles`, real or twin) into what the kind's loader
        returns; None only for the kinds in ``KINDS_WITHOUT_READER``.
    twin : str or None
        ``"module:function"`` ``build(name, dest_dir) -> {registry file name: path}`` that
        writes the dataset's synthetic twin (same file names and formats); None: no twin.
    manual : bool
        True when the files must be downloaded by hand and registered with
        ``course-data import`` (no ``files`` are listed).
    deriver : str or None
        For a dataset derived locally (``derived_from``) whose derivation can be re-checked:
        ``"module:function"`` ``rederive(sources, out_dir, parameters) -> Path`` that derives it
        again from its verified source files with the recorded parameters.
    """

    name: str
    title: str
    description: str
    homepage: str
    licence: str
    licence_url: str
    citation_key: str
    bibtex: str
    classes: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    auth: str | None
    kind: str
    notes: str = ""
    derived_from: str | None = None
    instructor_only: bool = False
    unverified: tuple[str, ...] = ()
    reader: str | None = None
    twin: str | None = None
    manual: bool = False
    deriver: str | None = None

    @property
    def total_size(self) -> int | None:
        """Sum of the file sizes in bytes, or None if any size is unknown."""
        sizes = [f.size for f in self.files]
        if not sizes or any(s is None for s in sizes):
            return None
        return sum(sizes)

    def file(self, name: str) -> RemoteFile:
        """Return the registry record of one file by its name."""
        for remote in self.files:
            if remote.name == name:
                return remote
        raise KeyError(f"dataset {self.name!r} has no file {name!r}")


# --------------------------------------------------------------------------------------------
# BibTeX entries (one place; datasets refer to them by key)
# --------------------------------------------------------------------------------------------

BIB = {
    "caicedo2019cytometry": """@article{caicedo2019cytometry,
  author  = {Caicedo, Juan C. and Roth, Jonathan and Goodman, Allen and Becker, Tim and
             Karhohs, Kyle W. and Broisin, Matthieu and Molnar, Csaba and McQuin, Claire and
             Singh, Shantanu and Theis, Fabian J. and Carpenter, Anne E.},
  title   = {Evaluation of Deep Learning Strategies for Nucleus Segmentation in Fluorescence Images},
  journal = {Cytometry Part A},
  volume  = {95},
  number  = {9},
  pages   = {952--965},
  year    = {2019},
  doi     = {10.1002/cyto.a.23863}
}""",
    "ljosa2012bbbc": """@article{ljosa2012bbbc,
  author  = {Ljosa, Vebjorn and Sokolnicki, Katherine L. and Carpenter, Anne E.},
  title   = {Annotated high-throughput microscopy image sets for validation},
  journal = {Nature Methods},
  volume  = {9},
  number  = {7},
  pages   = {637},
  year    = {2012},
  doi     = {10.1038/nmeth.2083}
}""",
    "caicedo2019dsb": """@article{caicedo2019dsb,
  author  = {Caicedo, Juan C. and Goodman, Allen and Karhohs, Kyle W. and Cimini, Beth A. and
             Ackerman, Jeanelle and Haghighi, Marzieh and Heng, CherKeng and Becker, Tim and
             Doan, Minh and McQuin, Claire and Rohban, Mohammad and Singh, Shantanu and
             Carpenter, Anne E.},
  title   = {Nucleus segmentation across imaging experiments: the 2018 Data Science Bowl},
  journal = {Nature Methods},
  volume  = {16},
  number  = {12},
  pages   = {1247--1253},
  year    = {2019},
  doi     = {10.1038/s41592-019-0612-7}
}""",
    "schmidt2018stardist": """@inproceedings{schmidt2018stardist,
  author    = {Schmidt, Uwe and Weigert, Martin and Broaddus, Coleman and Myers, Gene},
  title     = {Cell Detection with Star-Convex Polygons},
  booktitle = {Medical Image Computing and Computer Assisted Intervention -- MICCAI 2018},
  series    = {Lecture Notes in Computer Science},
  volume    = {11071},
  pages     = {265--273},
  year      = {2018},
  doi       = {10.1007/978-3-030-00934-2_30}
}""",
    "yang2023medmnist": """@article{yang2023medmnist,
  author  = {Yang, Jiancheng and Shi, Rui and Wei, Donglai and Liu, Zequan and Zhao, Lin and
             Ke, Bilian and Pfister, Hanspeter and Ni, Bingbing},
  title   = {{MedMNIST} v2 -- A large-scale lightweight benchmark for 2D and 3D biomedical
             image classification},
  journal = {Scientific Data},
  volume  = {10},
  pages   = {41},
  year    = {2023},
  doi     = {10.1038/s41597-022-01721-8}
}""",
    "acevedo2020blood": """@article{acevedo2020blood,
  author  = {Acevedo, Andrea and Merino, Anna and Alf{\\'e}rez, Santiago and Molina, {\\'A}ngel and
             Bold{\\'u}, Laura and Rodellar, Jos{\\'e}},
  title   = {A dataset of microscopic peripheral blood cell images for development of automatic
             recognition systems},
  journal = {Data in Brief},
  volume  = {30},
  pages   = {105474},
  year    = {2020},
  doi     = {10.1016/j.dib.2020.105474}
}""",
    "pinkard2024bsccm": """@misc{pinkard2024bsccm,
  author        = {Pinkard, Henry and Liu, Cherry and Nyatigo, Fanice and Fletcher, Daniel A.
                   and Waller, Laura},
  title         = {The Berkeley Single Cell Computational Microscopy ({BSCCM}) Dataset},
  year          = {2024},
  eprint        = {2402.06191},
  archivePrefix = {arXiv},
  doi           = {10.48550/arXiv.2402.06191},
  note          = {Data: Dryad, doi:10.5061/dryad.sxksn038s}
}""",
    "eulenberg2017cellcycle": """@article{eulenberg2017cellcycle,
  author  = {Eulenberg, Philipp and K{\\"o}hler, Niklas and Blasi, Thomas and Filby, Andrew and
             Carpenter, Anne E. and Rees, Paul and Theis, Fabian J. and Wolf, F. Alexander},
  title   = {Reconstructing cell cycle and disease progression using deep learning},
  journal = {Nature Communications},
  volume  = {8},
  pages   = {463},
  year    = {2017},
  doi     = {10.1038/s41467-017-00623-3}
}""",
    "shenggan2017bccd": """@misc{shenggan2017bccd,
  author       = {Shenggan},
  title        = {{BCCD} Dataset: a small-scale dataset for blood cells detection},
  year         = {2017},
  howpublished = {\\url{https://github.com/Shenggan/BCCD_Dataset}},
  note         = {Commit d272fb14cdff6e473fafeeeba32aba5f560e9e43, MIT licence}
}""",
    "vanderwalt2014skimage": """@article{vanderwalt2014skimage,
  author  = {van der Walt, St{\\'e}fan and Sch{\\"o}nberger, Johannes L. and
             Nunez-Iglesias, Juan and Boulogne, Fran{\\c{c}}ois and Warner, Joshua D. and
             Yager, Neil and Gouillart, Emmanuelle and Yu, Tony and
             {the scikit-image contributors}},
  title   = {scikit-image: image processing in {P}ython},
  journal = {PeerJ},
  volume  = {2},
  pages   = {e453},
  year    = {2014},
  doi     = {10.7717/peerj.453}
}""",
    "barkley_nucleusnet": """@misc{barkley_nucleusnet,
  author       = {Barkley, Russell},
  title        = {{NucleusNet-10K}: single-nucleus {DAPI} crops of {CV-1} cells},
  howpublished = {Hugging Face dataset \\url{https://huggingface.co/datasets/RussellBarkley/msa-em-figures}},
  note         = {Commit 654b7f771e0e4948390ad0bb16334e3480217339}
}""",
    "mooney_cellcycle": """@misc{mooney_cellcycle,
  author       = {Mooney, Paul},
  title        = {Cell Cycle Experiments},
  howpublished = {Kaggle dataset \\url{https://www.kaggle.com/paultimothymooney/cell-cycle-experiments}}
}""",
    "sinha2024foldscope": """@misc{sinha2024foldscope,
  author       = {Sinha, Prithvi},
  title        = {foldscope: image analysis of {Foldscope} phone photos},
  year         = {2024},
  howpublished = {\\url{https://github.com/prithvi-sinha/foldscope}},
  note         = {Commit f70dcfe186e08e458ddc59b8c97b20ba6485a20f, MIT licence}
}""",
    "rajaraman2018malaria": """@article{rajaraman2018malaria,
  author  = {Rajaraman, Sivaramakrishnan and Antani, Sameer K. and Poostchi, Mahdieh and
             Silamut, Kamolrat and Hossain, Md. A. and Maude, Richard J. and Jaeger, Stefan and
             Thoma, George R.},
  title   = {Pre-trained convolutional neural networks as feature extractors toward improved
             malaria parasite detection in thin blood smear images},
  journal = {PeerJ},
  volume  = {6},
  pages   = {e4568},
  year    = {2018},
  doi     = {10.7717/peerj.4568}
}""",
    "ker2018c2c12": """@article{ker2018c2c12,
  author  = {Ker, Dai Fei Elmer and Eom, Sungeun and Sanami, Sho and Bise, Ryoma and
             Pascale, Corinne and Yin, Zhaozheng and Huh, Seung-il and Osuna-Highley, Elvira and
             Junkers, Silvina N. and Helfrich, Casey J. and others and Kanade, Takeo and
             Weiss, Lee E. and Campbell, Phil G.},
  title   = {Phase contrast time-lapse microscopy datasets with automated and manual cell
             tracking annotations},
  journal = {Scientific Data},
  volume  = {5},
  pages   = {180237},
  year    = {2018},
  doi     = {10.1038/sdata.2018.237}
}""",
    "fukai2023laptrack": """@article{fukai2023laptrack,
  author  = {Fukai, Yohsuke T. and Kawaguchi, Kyogo},
  title   = {{LapTrack}: linear assignment particle tracking with tunable metrics},
  journal = {Bioinformatics},
  volume  = {39},
  number  = {1},
  pages   = {btac799},
  year    = {2023},
  doi     = {10.1093/bioinformatics/btac799}
}""",
    "maska2023ctc": """@article{maska2023ctc,
  author  = {Ma{\\v{s}}ka, Martin and Ulman, Vladim{\\'i}r and Delgado-Rodriguez, Pablo and
             others and Ortiz-de-Sol{\\'o}rzano, Carlos},
  title   = {The Cell Tracking Challenge: 10 years of objective benchmarking},
  journal = {Nature Methods},
  volume  = {20},
  pages   = {1010--1020},
  year    = {2023},
  doi     = {10.1038/s41592-023-01879-y}
}""",
    "ulman2017ctc": """@article{ulman2017ctc,
  author  = {Ulman, Vladim{\\'i}r and Ma{\\v{s}}ka, Martin and Magnusson, Klas E. G. and
             others and Ortiz-de-Sol{\\'o}rzano, Carlos},
  title   = {An objective comparison of cell-tracking algorithms},
  journal = {Nature Methods},
  volume  = {14},
  number  = {12},
  pages   = {1141--1152},
  year    = {2017},
  doi     = {10.1038/nmeth.4473}
}""",
    "cybulski2014foldscope": """@article{cybulski2014foldscope,
  author  = {Cybulski, James S. and Clements, James and Prakash, Manu},
  title   = {Foldscope: Origami-Based Paper Microscope},
  journal = {PLoS ONE},
  volume  = {9},
  number  = {6},
  pages   = {e98781},
  year    = {2014},
  doi     = {10.1371/journal.pone.0098781}
}""",
}


def _bib(*keys: str) -> str:
    return "\n\n".join(BIB[k] for k in keys)


# --------------------------------------------------------------------------------------------
# File lists
# --------------------------------------------------------------------------------------------

BBBC039_BASE = "https://data.broadinstitute.org/bbbc/BBBC039"
SKIMAGE_DATA = "https://gitlab.com/scikit-image/data/-/raw"
SKIMAGE_COMMIT = "2cdc5ce89b334d28f06a58c9f0ca21aa6992a5ba"
ZENODO_MEDMNIST = "https://zenodo.org/records/10519652/files"
BSCCM_DOI = "10.5061/dryad.sxksn038s"
BCCD_COMMIT = "d272fb14cdff6e473fafeeeba32aba5f560e9e43"
BCCD_RAW = f"https://github.com/Shenggan/BCCD_Dataset/raw/{BCCD_COMMIT}"
LAPTRACK_COMMIT = "97943e8b61a5fa6e9cdabf2968037c4b1f8cbf32"
NUCLEUSNET_COMMIT = "654b7f771e0e4948390ad0bb16334e3480217339"
FOLDSCOPE_COMMIT = "f70dcfe186e08e458ddc59b8c97b20ba6485a20f"
FOLDSCOPE_RAW = f"https://github.com/prithvi-sinha/foldscope/raw/{FOLDSCOPE_COMMIT}"
NLM_MALARIA = "https://data.lhncbc.nlm.nih.gov/public/Malaria"


def dryad_url(file_name: str, doi: str = BSCCM_DOI) -> str:
    """Return the ``dryad://`` URL of one file of a Dryad dataset.

    Dryad's per-file download links carry numeric ids that only its API knows, so the registry
    stores the DOI and the file name; :func:`data_registry.fetch.resolve_url` asks the API for the
    latest version's download link at fetch time.
    """
    return f"dryad://doi:{doi}/{file_name}"


def _bccd_files() -> tuple[RemoteFile, ...]:
    table = resources.files("data_registry").joinpath("registry_files/bccd.csv")
    with table.open("r", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple(
        RemoteFile(
            name=row["path"],
            url=f"{BCCD_RAW}/{row['path']}",
            known_hash=f"sha256:{row['sha256']}",
            size=int(row["bytes"]),
        )
        for row in rows
    )


def _foldscope_table() -> list[dict[str, str]]:
    table = resources.files("data_registry").joinpath("registry_files/foldscope.csv")
    with table.open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _foldscope_files() -> tuple[RemoteFile, ...]:
    """The files of prithvi-sinha/foldscope that have a known sha256 (66 of 70)."""
    return tuple(
        RemoteFile(
            name=row["path"],
            url=f"{FOLDSCOPE_RAW}/{row['path']}",
            known_hash=f"sha256:{row['sha256']}",
            size=int(row["bytes"]),
        )
        for row in _foldscope_table()
        if row["sha256"]
    )


def foldscope_unpinned() -> dict[str, str]:
    """Photos of the Foldscope repository with no known sha256: path -> git blob id.

    They are 4 MiB or larger and were absent from the snapshot the hashes come from; only
    their git blob ids (SHA-1 of the git object) are known, so they are not registered as
    files. ``course-data fetch --record`` can pin them on a connected machine.
    """
    return {row["path"]: row["git_blob_sha1"] for row in _foldscope_table() if not row["sha256"]}


def _skimage_sample(
    name: str, title: str, file_name: str, gitlab_name: str, sha256: str, description: str,
    licence: str = "CC0-1.0", licence_url: str = "https://creativecommons.org/publicdomain/zero/1.0/",
    commit: str = SKIMAGE_COMMIT, size: int | None = None, notes: str = "",
) -> Dataset:  # fmt: skip
    return Dataset(
        name=name,
        title=title,
        description=description,
        homepage="https://scikit-image.org/docs/stable/api/skimage.data.html",
        licence=licence,
        licence_url=licence_url,
        citation_key="vanderwalt2014skimage",
        bibtex=_bib("vanderwalt2014skimage"),
        classes=(),
        files=(
            RemoteFile(
                name=file_name,
                url=f"{SKIMAGE_DATA}/{commit}/{gitlab_name}",
                known_hash=f"sha256:{sha256}",
                size=size,
                note="sha256 and URL from scikit-image's data/_registry.py"
                + ("" if size else "; size not published"),
            ),
        ),
        auth=None,
        kind="sample",
        reader="data_registry.loaders.samples:read_sample",
        twin="data_registry.twins.skimage_samples:build",
        notes=notes,
    )


BLOOD_CLASSES = (
    "basophil",
    "eosinophil",
    "erythroblast",
    "immature granulocytes",
    "lymphocyte",
    "monocyte",
    "neutrophil",
    "platelet",
)
JURKAT_CLASSES = ("G1", "S", "G2", "Prophase", "Metaphase", "Anaphase", "Telophase")
BSCCM_CLASSES = ("lymphocyte", "granulocyte", "monocyte")
MALARIA_CLASSES = ("Parasitized", "Uninfected")
MALARIA_LICENCE = (
    "no licence stated by NLM for cell_images.zip (U.S. Government work; attribute NLM and "
    "cite Rajaraman et al. 2018)"
)

_BSCCM_UNVERIFIED = (
    "the file is taken from Dryad's latest version of the dataset, not a pinned version; "
    "`course-data fetch NAME --record` records the resolved version link and the sha256",
    "the tarball has no published hash (only the extracted index, surface-marker and "
    "metadata files are checked)",
    "the cell-type labels (the *_selection_gated columns read as in the bsccm package) have "
    "not been checked on the real files",
)

_DATASET_LIST = [
    Dataset(
        name="bbbc039",
        title="BBBC039: U2OS nuclei (Hoechst), with instance masks",
        description=(
            "200 fields of view of U2OS cells stained with Hoechst, 520x696 16-bit TIFF files "
            "holding 12-bit data, with about 23,000 hand-annotated nuclei. Masks are RGBA PNGs "
            "whose red channel holds small values (0..3) that separate touching nuclei; "
            "instances are connected components taken per value. Official split 100/50/50."
        ),
        homepage="https://bbbc.broadinstitute.org/BBBC039",
        licence="CC0-1.0",
        licence_url="https://creativecommons.org/publicdomain/zero/1.0/",
        citation_key="caicedo2019cytometry",
        bibtex=_bib("caicedo2019cytometry", "ljosa2012bbbc"),
        classes=(),
        files=(
            RemoteFile(
                "images.zip",
                f"{BBBC039_BASE}/images.zip",
                "sha256:6f30a5d4fe38c928ded972704f085975f8dc0d65d9aa366df00e5a9d449fddd7",
                77_915_748,
                unpack="zip",
            ),
            RemoteFile(
                "masks.zip",
                f"{BBBC039_BASE}/masks.zip",
                "sha256:f9e6043d8ca56344a4886f96a700d804d6ee982f31e2b2cd3194af2a053c2710",
                2_753_811,
                unpack="zip",
            ),
            RemoteFile(
                "metadata.zip",
                f"{BBBC039_BASE}/metadata.zip",
                "sha256:a2c1f900bed9ba92a99553efd4c2ae98598433691c7401d818653ab61110deb2",
                17_816,
                unpack="zip",
            ),
        ),
        auth=None,
        kind="segmentation",
        reader="data_registry.loaders.bbbc039:read_segmentation",
        twin="data_registry.twins.bbbc039:build",
        notes=(
            "Hashes as pinned by torch-em and several other projects. The zips contain a "
            "__MACOSX folder, which loaders ignore. Please attribute: image set BBBC039v1 "
            "(Caicedo et al. 2019) from the Broad Bioimage Benchmark Collection (Ljosa et al. 2012)."
        ),
    ),
    Dataset(
        name="dsb2018",
        title="StarDist subset of the 2018 Data Science Bowl (fluorescent nuclei)",
        description=(
            "Fluorescent-nucleus subset of BBBC038 prepared by the StarDist authors: "
            "dsb2018/{train,test}/{images,masks}/*.tif, 447 training and 50 test images, "
            "single-channel images with uint16 instance-label masks."
        ),
        homepage="https://github.com/stardist/stardist/releases/tag/0.1.0",
        licence="CC0-1.0 (BBBC038 images and annotations)",
        licence_url="https://bbbc.broadinstitute.org/BBBC038",
        citation_key="caicedo2019dsb",
        bibtex=_bib("caicedo2019dsb", "schmidt2018stardist", "ljosa2012bbbc"),
        classes=(),
        files=(
            RemoteFile(
                "dsb2018.zip",
                "https://github.com/stardist/stardist/releases/download/0.1.0/dsb2018.zip",
                "sha256:e44921950edce378063aa4457e625581ba35b4c2dbd9a07c19d48900129f386f",
                None,
                unpack="zip",
                note="sha256 as pinned by torch-em (dsb.py); size not published",
            ),
        ),
        auth=None,
        kind="segmentation",
        reader="data_registry.loaders.dsb2018:read_segmentation",
        twin="data_registry.twins.dsb2018:build",
        notes="StarDist reports AP@0.5 = 0.864 on the 50 test images.",
    ),
    Dataset(
        name="bloodmnist",
        title="BloodMNIST (MedMNIST v2), 28x28 px",
        description=(
            "17,092 peripheral blood cell images (Acevedo et al. 2020) in 8 classes, resized to "
            "28x28 RGB; npz with train/val/test images (N x 28 x 28 x 3 uint8) and labels (N x 1). "
            "Split 11,959 / 1,712 / 3,421."
        ),
        homepage="https://medmnist.com/",
        licence="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        citation_key="yang2023medmnist",
        bibtex=_bib("yang2023medmnist", "acevedo2020blood"),
        classes=BLOOD_CLASSES,
        files=(
            RemoteFile(
                "bloodmnist.npz",
                f"{ZENODO_MEDMNIST}/bloodmnist.npz?download=1",
                "md5:7053d0359d879ad8a5505303e11de1dc",
                None,
                note="md5 from medmnist/info.py; size not published",
            ),
        ),
        auth=None,
        kind="classification",
        reader="data_registry.loaders.bloodmnist:read_classification",
        twin="data_registry.twins.bloodmnist:build",
        notes=(
            "Zenodo rate-limits anonymous clients (HTTP 429); the fetcher identifies itself "
            "and backs off. MedMNIST v2 reports ResNet-18 (28 px) test ACC 0.958, AUC 0.998."
        ),
    ),
    Dataset(
        name="bloodmnist_64",
        title="BloodMNIST (MedMNIST+), 64x64 px",
        description="The BloodMNIST images at 64x64 RGB, same classes and split as bloodmnist.",
        homepage="https://medmnist.com/",
        licence="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        citation_key="yang2023medmnist",
        bibtex=_bib("yang2023medmnist", "acevedo2020blood"),
        classes=BLOOD_CLASSES,
        files=(
            RemoteFile(
                "bloodmnist_64.npz",
                f"{ZENODO_MEDMNIST}/bloodmnist_64.npz?download=1",
                "md5:2b94928a2ae4916078ca51e05b6b800b",
                None,
                note="md5 from medmnist/info.py; size not published",
            ),
        ),
        auth=None,
        kind="classification",
        reader="data_registry.loaders.bloodmnist:read_classification",
        twin="data_registry.twins.bloodmnist:build",
        notes="Zenodo rate limits apply (see bloodmnist).",
    ),
    _skimage_sample(
        "human_mitosis",
        "Human mitosis (scikit-image sample)",
        "mitosis.tif",
        "AS_09125_050116030001_D03f00d0.tif",
        "2751ba667c4067c5d30817cff004aa06f6f6287f1cdbb5b8c9c6a500308cb456",
        "512x512 uint8 image of DNA-stained human cells with several cells in mitosis "
        "(D. Root, Broad Institute; Moffat et al. 2006).",
    ),
    _skimage_sample(
        "cells3d",
        "Cells 3D: membranes and nuclei (scikit-image sample)",
        "cells3d.tif",
        "cells3d.tif",
        "afc7c7d80d38bfde09788b4064ac1e64ec14e88454ab785ebdc8dbba5ca3b222",
        "3D fluorescence stack (60, 2, 256, 256) uint16, axes ZCYX, channel 0 membranes, "
        "channel 1 nuclei, voxel 0.29 x 0.26 x 0.26 um (Allen Institute for Cell Science).",
        licence="Allen Institute for Cell Science terms (not stated in scikit-image)",
        licence_url="https://www.allencell.org/terms-of-use.html",
        notes="Licence not stated by scikit-image; check the Allen Institute terms before redistributing.",
    ),
    _skimage_sample(
        "kidney",
        "Mouse kidney tissue, fluorescence (scikit-image sample)",
        "kidney.tif",
        "kidney-tissue-fluorescence.tif",
        "80c0799bc58b08cf6eaa53ecd202305eb42fd7bc73746cb6c5064dbeae7e8476",
        "3D multichannel stack (16, 512, 512, 3) uint16, axes ZYXC.",
    ),
    _skimage_sample(
        "cell",
        "Cell, quantitative phase image (scikit-image sample)",
        "cell.png",
        "cell.png",
        "8d23a7fb81f7cc877cd09f330357fc7f595651306e84e17252f6e0a1b3f61515",
        "660x550 quantitative phase image of a single cell, PNG.",
        commit="5c090b56df3988d988ff97928e2ef2d2cbe38e1b",
        size=74_183,
    ),
    _skimage_sample(
        "skin",
        "Skin H&E section (scikit-image sample)",
        "skin.jpg",
        "Normal_Epidermis_and_Dermis_with_Intradermal_Nevus_10x.JPG",
        "8759fe080509712163453f4b17106582b8513e73b0788d80160abf840e272075",
        "960x1280 RGB JPEG of an H&E-stained skin section with an intradermal nevus.",
        licence="Public domain",
        licence_url="https://commons.wikimedia.org/wiki/File:Normal_Epidermis_and_Dermis_with_Intradermal_Nevus_10x.JPG",
    ),
    _skimage_sample(
        "protein_transport",
        "Nuclear protein transport time-lapse (scikit-image sample)",
        "protein_transport.tif",
        "NPCsingleNucleus.tif",
        "a8e24e8d187f33e92ee28508d5615286c850ca75374af7e74e527d290e8b06ea",
        "Time-lapse (15, 2, 180, 183) uint8, axes TCYX: a nucleus with a fluorescent protein "
        "moving between compartments.",
        licence="CC0-1.0 (as distributed by scikit-image)",
    ),
    Dataset(
        name="bsccmnist_tiny",
        title="BSCCMNIST-tiny: 1,000 white blood cells, LED-array contrasts + fluorescence (28 px)",
        description=(
            "Random 1,000-cell subsample of the Berkeley Single Cell Computational Microscopy "
            "dataset at 28x28: 23 LED-array contrasts (brightfield, darkfield, DPC), 6 "
            "fluorescence channels of surface markers, an index CSV and a surface-marker CSV, "
            "as a zarr store inside a tar.gz (one Dryad chunk)."
        ),
        homepage="https://waller-lab.github.io/BSCCM/",
        licence="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        citation_key="pinkard2024bsccm",
        bibtex=_bib("pinkard2024bsccm"),
        classes=BSCCM_CLASSES,
        files=(
            RemoteFile(
                "BSCCMNIST-tiny.tar.gz_chunk00000.bin",
                dryad_url("BSCCMNIST-tiny.tar.gz_chunk00000.bin"),
                None,
                None,
                unpack="tar",
                note=(
                    "No hash published for the tarball (about 13.4 MB); the extracted index, "
                    "surface-marker and global-metadata files are checked against the sha256 "
                    "in BSCCM's croissant_metadata.json."
                ),
                verify_after_extract=(
                    (
                        "BSCCMNIST-tiny/BSCCM_index.csv",
                        "sha256:157211c21662f52b7651f403257edfb2654ec2c987b1a202bfd5687709e35e2c",
                    ),
                    (
                        "BSCCMNIST-tiny/BSCCM_surface_markers.csv",
                        "sha256:ee946a8f249b8d950ca3180a9a29d4d54380964b2ba614c736442c6533ac70c4",
                    ),
                    (
                        "BSCCMNIST-tiny/BSCCM_global_metadata.json",
                        "sha256:882953648346a46767d3c25b7e2802076163c3a59e57446d85a9bb2daa7b0e53",
                    ),
                ),
            ),
        ),
        auth="dryad-token",
        kind="classification",
        reader="data_registry.loaders.bsccm:read_classification",
        twin="data_registry.twins.bsccm:build",
        notes=(
            "Dryad may refuse anonymous API downloads (HTTP 401): set DRYAD_TOKEN to a Dryad "
            "API bearer token, or use a classroom pack. Cell-type labels exist only for batch 0 "
            "with antibody condition 'all', so the tiny subsample holds few labelled cells."
        ),
        unverified=_BSCCM_UNVERIFIED,
    ),
    Dataset(
        name="bsccm_tiny",
        title="BSCCM-tiny: 1,000 white blood cells, LED-array contrasts + fluorescence (128 px)",
        description=(
            "Random 1,000-cell subsample of BSCCM at full resolution: 128x128 12-bit LED-array "
            "contrasts and fluorescence, plus histology for a subset, as a zarr store inside a "
            "tar.gz (one Dryad chunk, about 513 MB)."
        ),
        homepage="https://waller-lab.github.io/BSCCM/",
        licence="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        citation_key="pinkard2024bsccm",
        bibtex=_bib("pinkard2024bsccm"),
        classes=BSCCM_CLASSES,
        files=(
            RemoteFile(
                "BSCCM-tiny.tar.gz_chunk00000.bin",
                dryad_url("BSCCM-tiny.tar.gz_chunk00000.bin"),
                None,
                None,
                unpack="tar",
                note=(
                    "No hash published for the tarball (about 513 MB); the extracted metadata "
                    "files are checked against BSCCM's croissant_metadata.json."
                ),
                verify_after_extract=(
                    (
                        "BSCCM-tiny/BSCCM_index.csv",
                        "sha256:b2a1026e6b9fd873f5706c31079d80bcb93475d1cbce9177ee461cd29bb8c7f7",
                    ),
                    (
                        "BSCCM-tiny/BSCCM_surface_markers.csv",
                        "sha256:259c31de6db23c97d25ebb4377a29934db193537dcd4a6de38b33caee382284f",
                    ),
                    (
                        "BSCCM-tiny/BSCCM_global_metadata.json",
                        "sha256:127287671735d51dafb517bd1eb9c2267eeaca2f58934c72b04a4223c837a713",
                    ),
                ),
            ),
        ),
        auth="dryad-token",
        kind="classification",
        reader="data_registry.loaders.bsccm:read_classification",
        twin="data_registry.twins.bsccm:build",
        notes="Same Dryad access caveats as bsccmnist_tiny; 513 MB, so prefer a classroom pack.",
        instructor_only=True,
        unverified=_BSCCM_UNVERIFIED,
    ),
    Dataset(
        name="jurkat_bbbc048",
        title="BBBC048: Jurkat cell cycle, imaging flow cytometry (full, 1.6 GB)",
        description=(
            "32,266 Jurkat cells imaged by imaging flow cytometry in 7 cell-cycle phases "
            "(G1 14,333; S 8,616; G2 8,601; Prophase 606; Metaphase 68; Anaphase 15; "
            "Telophase 27). The outer zip holds CellCycle.zip with "
            "CellCycle/<Phase>/<id>_<channel>.jpg images."
        ),
        homepage="https://bbbc.broadinstitute.org/BBBC048",
        licence="CC-BY-NC-SA-3.0",
        licence_url="https://creativecommons.org/licenses/by-nc-sa/3.0/",
        citation_key="eulenberg2017cellcycle",
        bibtex=_bib("eulenberg2017cellcycle", "ljosa2012bbbc"),
        classes=JURKAT_CLASSES,
        files=(
            RemoteFile(
                "BBBC048v1.zip",
                "https://data.broadinstitute.org/bbbc/BBBC048/BBBC048v1.zip",
                None,
                1_611_429_608,
                note="No published hash: size-only pin (as checked by third-party downloaders).",
            ),
            RemoteFile(
                "Ground_truth.lst",
                "https://data.broadinstitute.org/bbbc/BBBC048/Ground_truth.lst",
                None,
                None,
                note="No published hash or size.",
            ),
        ),
        auth=None,
        kind="source",
        twin="data_registry.twins.jurkat:build",
        notes=(
            "Instructor-only: fetch once, then run `course-data derive-jurkat-mini` to build "
            "the small jurkat_mini subset students use. About 97 % of cells are in interphase: "
            "report balanced accuracy or macro-F1, not plain accuracy. Ground_truth.lst is "
            "read by third-party loaders from this URL as whitespace-separated 'id label path' "
            "lines, one per channel image."
        ),
        instructor_only=True,
        unverified=(
            "BBBC048v1.zip: size-only pin (1,611,429,608 B), no published hash",
            "Ground_truth.lst: URL used by third-party code, no published hash or size",
            "record both with `course-data fetch jurkat_bbbc048 --record`",
        ),
    ),
    Dataset(
        name="jurkat_mini",
        title="jurkat-mini: balanced-as-possible subset of BBBC048 (derived locally)",
        description=(
            "All mitotic cells of BBBC048 plus N interphase cells per class (G1, S, G2), as "
            "folder-per-label PNGs with a manifest.csv recording the sha256 of every file. "
            "Built by `course-data derive-jurkat-mini` from the BBBC048 zip."
        ),
        homepage="https://bbbc.broadinstitute.org/BBBC048",
        licence="CC-BY-NC-SA-3.0 (derived from BBBC048)",
        licence_url="https://creativecommons.org/licenses/by-nc-sa/3.0/",
        citation_key="eulenberg2017cellcycle",
        bibtex=_bib("eulenberg2017cellcycle", "ljosa2012bbbc"),
        classes=JURKAT_CLASSES,
        files=(),
        auth=None,
        kind="classification",
        reader="data_registry.loaders.jurkat:read_classification",
        twin="data_registry.twins.jurkat:build",
        deriver="data_registry.jurkat_mini:rederive",
        notes=(
            "No download: an instructor derives it once (`course-data fetch jurkat_bbbc048` then "
            "`course-data derive-jurkat-mini --source BBBC048v1.zip -o DIR`) and shares it as a "
            "classroom pack. Anaphase and Telophase have only a few dozen cells. Lecture 7 "
            "keeps only the label-free channels (bright field, dark field) of each image."
        ),
        derived_from="jurkat_bbbc048",
        unverified=(
            "the real CellCycle/<Phase>/<id>_<channel>.jpg layout and the content of the "
            "_merged images (which channels, in which order) have not been checked on the "
            "real zip; the derivation falls back to the first three channel images",
        ),
    ),
    Dataset(
        name="nucleusnet_10k",
        title="NucleusNet-10K: 10,000 unlabelled DAPI nucleus crops",
        description=(
            "10,000 single-nucleus crops (256x256 uint8, rotation-aligned, zeroed outside the "
            "nucleus) of DAPI-stained CV-1 cells, 100 per experiment, in one parquet file with "
            "columns image and filename. No class labels."
        ),
        homepage="https://huggingface.co/datasets/RussellBarkley/msa-em-figures",
        licence="not stated by the author (ask before redistributing)",
        licence_url="https://huggingface.co/datasets/RussellBarkley/msa-em-figures",
        citation_key="barkley_nucleusnet",
        bibtex=_bib("barkley_nucleusnet"),
        classes=(),
        files=(
            RemoteFile(
                "train-00000-of-00001.parquet",
                "https://huggingface.co/datasets/RussellBarkley/msa-em-figures/resolve/"
                f"{NUCLEUSNET_COMMIT}/data/train-00000-of-00001.parquet",
                None,
                None,
                note=(
                    "No published hash or size, and the file path follows push_to_hub's default "
                    "layout (not verified). Pinned to commit 654b7f77; record the sha256 on the "
                    "first successful fetch."
                ),
            ),
        ),
        auth="hf-token",
        kind="crops",
        reader="data_registry.loaders.crops:read_crops",
        twin="data_registry.twins.nucleusnet:build",
        notes=(
            "Optional, for the unsupervised lecture. Hugging Face rate-limits anonymous clients "
            "(HTTP 429) and the repo may be private: set HF_TOKEN if you get 401/429."
        ),
        unverified=(
            "the parquet path data/train-00000-of-00001.parquet is push_to_hub's default layout, "
            "not seen in a published listing; the repository name (msa-em-figures) does not "
            "name the dataset, and the upload notebook pushed it private=True",
            "no sha256 or size: record them with `course-data fetch nucleusnet_10k --record`",
        ),
    ),
    Dataset(
        name="bccd",
        title="BCCD: blood smear photos with RBC/WBC/platelet boxes",
        description=(
            "364 Giemsa-stained blood-smear photos (640x480 JPEG) with Pascal VOC boxes for red "
            "cells, white cells and platelets, ImageSets split lists and a test.csv box table "
            "(columns filename, cell_type, xmin, xmax, ymin, ymax)."
        ),
        homepage="https://github.com/Shenggan/BCCD_Dataset",
        licence="MIT",
        licence_url=f"{BCCD_RAW}/LICENSE",
        citation_key="shenggan2017bccd",
        bibtex=_bib("shenggan2017bccd"),
        classes=("RBC", "WBC", "Platelets"),
        files=_bccd_files(),
        auth=None,
        kind="detection",
        reader="data_registry.loaders.bccd:read_detection",
        twin="data_registry.twins.bccd:build",
        notes=(
            "735 files at commit d272fb14, each pinned by sha256. Two annotations are "
            "degenerate zero-area boxes (BloodImage_00338, BloodImage_00343)."
        ),
    ),
    Dataset(
        name="foldscope_photos",
        title="Foldscope phone photos (prithvi-sinha/foldscope, unlabelled)",
        description=(
            "Phone photos taken through a Foldscope paper microscope, from the images/ folder of "
            "the prithvi-sinha/foldscope repository: camera originals (Xiaomi 2312DRAABI, "
            "3000x4000 JPEG with full EXIF) and WhatsApp re-encodes (774-1600 px, no EXIF). "
            "A circular field of view in a black vignette; onion epidermis, pollen and stained "
            "plant tissue. No labels. Registered: the 64 photos with a known sha256 plus "
            "LICENSE and README.md."
        ),
        homepage="https://github.com/prithvi-sinha/foldscope",
        licence="MIT",
        licence_url=f"{FOLDSCOPE_RAW}/LICENSE",
        citation_key="sinha2024foldscope",
        bibtex=_bib("sinha2024foldscope", "cybulski2014foldscope"),
        classes=(),
        files=_foldscope_files(),
        auth=None,
        kind="photos",
        twin="data_registry.twins.foldscope:build",
        notes=(
            "Please attribute: photos by Prithvi Sinha (github.com/prithvi-sinha/foldscope, "
            "commit f70dcfe1, MIT licence: Copyright (c) 2024 Prithvi Sinha). The MIT text "
            "speaks of 'software and documentation'; the photos are committed files of that "
            "repository and are covered by it. The repository holds 68 photos; 4 of them "
            "(IMG_20240520_155857, IMG_20240520_160018, IMG_20240522_151302, "
            "IMG_20240522_151303; 4 MiB or more) have no known sha256 and are NOT registered "
            "(unpinned; only their git blob ids are known). A loader keeps the photos it can "
            "fetch and reports the others."
        ),
    ),
    Dataset(
        name="malaria_cells",
        title="NIH/NLM malaria cell images: 27,558 thin-smear red-cell crops (smartphone)",
        description=(
            "Single red blood cells cropped from Giemsa-stained thin blood smears photographed "
            "with a smartphone on a light microscope (Chittagong Medical College Hospital, "
            "Bangladesh): cell_images/Parasitized/*.png and cell_images/Uninfected/*.png, "
            "13,779 each, PNG crops of variable size on a black background. Two NLM CSV files "
            "map every cell file to its patient."
        ),
        homepage="https://lhncbc.nlm.nih.gov/publication/pub9932",
        licence=MALARIA_LICENCE,
        licence_url="https://lhncbc.nlm.nih.gov/publication/pub9932",
        citation_key="rajaraman2018malaria",
        bibtex=_bib("rajaraman2018malaria"),
        classes=MALARIA_CLASSES,
        files=(
            RemoteFile(
                "cell_images.zip",
                f"{NLM_MALARIA}/cell_images.zip",
                "sha256:0a949556b2414159b5100192609805376654c4266d8d187be9b1922fad43c668",
                353_452_851,
                unpack="zip",
                note=(
                    "sha256 and size from tensorflow/datasets url_checksums/malaria.txt (which "
                    "lists the older ceb.nlm.nih.gov URL); NLM now serves the file from "
                    "data.lhncbc.nlm.nih.gov/public/Malaria/."
                ),
            ),
            RemoteFile(
                "patientid_cellmapping_parasitized.csv",
                f"{NLM_MALARIA}/patientid_cellmapping_parasitized.csv",
                "sha256:d0367e513397404e980baee2a641bce9ce329a22e62ea9007962dfca2f8418d3",
                None,
                note=(
                    "Patient-ID to cell-file mapping published by NLM beside cell_images.zip. "
                    "The sha256 was computed by a third party (the stable_datasets Malaria "
                    "builder) from NLM's download, not published by NLM; size not published."
                ),
            ),
            RemoteFile(
                "patientid_cellmapping_uninfected.csv",
                f"{NLM_MALARIA}/patientid_cellmapping_uninfected.csv",
                "sha256:a8577b21e7154724f4bbd18326218e2c63a99b22ab372b79a7530d36df6dab78",
                None,
                note=("As the parasitized mapping: third-party sha256, size not published."),
            ),
        ),
        auth=None,
        kind="source",
        twin="data_registry.twins.malaria:build",
        notes=(
            "Licence: NLM's publication page and data folder state no licence for "
            "cell_images.zip (we found none); NLM's sister release NIH-NLM-ThinBloodSmearsPf "
            "carries an NLM notice allowing commercial and non-commercial use and "
            "redistribution if the notice is kept and NLM is not said to endorse the use. "
            "Attribute 'Courtesy of the U.S. National Library of Medicine' and cite Rajaraman "
            "et al. 2018. Patients: NLM publishes no fixed train/test split, but its two "
            "patient-mapping CSVs give the patient of every cell (about 200 patients; the file "
            "name prefix, e.g. C100P61ThinF, names the slide and patient). Cells of one "
            "patient share stain, smear and camera: a random cell-level split (fastai "
            "valid_pct) leaks patients into validation and overestimates accuracy; split by "
            "patient. 353 MB: instructors derive malaria_subset once."
        ),
        instructor_only=True,
    ),
    Dataset(
        name="malaria_subset",
        title="malaria-subset: balanced, patient-split subset of the NIH malaria cells (derived)",
        description=(
            "A few thousand cell crops of malaria_cells, the same number per class, copied "
            "byte for byte from cell_images.zip into train/, valid/ and test/ folders of "
            "Parasitized/ and Uninfected/ (fastai from_folder layout), split by patient. "
            "manifest.csv records every file's sha256, patient and source member; "
            "derivation.json records the source zip's sha256 and the parameters."
        ),
        homepage="https://lhncbc.nlm.nih.gov/publication/pub9932",
        licence=MALARIA_LICENCE,
        licence_url="https://lhncbc.nlm.nih.gov/publication/pub9932",
        citation_key="rajaraman2018malaria",
        bibtex=_bib("rajaraman2018malaria"),
        classes=MALARIA_CLASSES,
        files=(),
        auth=None,
        kind="imagefolder",
        reader="data_registry.loaders.malaria:read_imagefolder",
        twin="data_registry.twins.malaria:build",
        notes=(
            "No download: an instructor runs `course-data fetch malaria_cells` then "
            "`course-data derive-malaria-subset` (defaults: 1,500 cells per class, seed 0, "
            "patients split 70/15/15) and shares the folder as a classroom pack. "
            "`course-data verify-malaria-subset --rederive` re-checks every file against the "
            "source zip and the recorded parameters."
        ),
        derived_from="malaria_cells",
    ),
    Dataset(
        name="c2c12_laptrack_small",
        title="C2C12 myoblast time-lapse, 10 frames with segmentations (laptrack sample)",
        description=(
            "10 phase-contrast frames (234 x 234 px, uint8) of C2C12 mouse myoblasts, every 10th "
            "frame of one sequence of Ker et al. 2018 (imaged every 5 min, so 50 min apart), "
            "with per-frame instance labels drawn by the laptrack authors; cells move and "
            "divide. Label numbers are not kept from frame to frame: linking them is the task."
        ),
        homepage="https://osf.io/ysaq2/",
        licence="CC-BY-4.0",
        licence_url="https://creativecommons.org/licenses/by/4.0/",
        citation_key="ker2018c2c12",
        bibtex=_bib("ker2018c2c12", "fukai2023laptrack"),
        classes=(),
        files=(
            RemoteFile(
                "data_small.npz",
                "https://raw.githubusercontent.com/yfukai/laptrack/"
                f"{LAPTRACK_COMMIT}/docs/examples/cell_segmentation_data/data_small.npz",
                "sha256:48040529876dcc9142c5b1b0448c8773c1657d2b14a2807b32ea911e8362f3e9",
                345_211,
                note=(
                    "laptrack publishes md5:be37bfb4da12f47b6e3146d22fb80290 for this file "
                    "(laptrack.datasets); the sha256 is of the git blob at the pinned commit."
                ),
            ),
        ),
        auth=None,
        kind="timelapse",
        reader="data_registry.loaders.tracking:read_timelapse",
        twin="data_registry.twins.c2c12:build",
        notes=(
            "A sub-sample of the full OSF project (48 sequences of about 3.5 days with manual "
            "lineages, https://osf.io/ysaq2/), which has no per-file hashes to pin; npz keys "
            "'images' and 'labels', both (10, 234, 234) uint8."
        ),
    ),
    Dataset(
        name="ctc_fluo_n2dh_gowt1",
        title="Cell Tracking Challenge Fluo-N2DH-GOWT1 (manual download, opt-in, not open)",
        description=(
            "GFP-tagged Oct4 nuclei of GOWT1 mouse embryonic stem cells, 2D+t confocal "
            "time-lapse (1024 x 1024 px, 8-bit, about 0.24 um/px, 5 min between frames), two "
            "training sequences with tracking ground truth (TRA masks + man_track.txt) and "
            "gold-standard segmentations (SEG) for some frames, in the CTC folder layout."
        ),
        homepage="https://celltrackingchallenge.net/2d-datasets/",
        licence=(
            "CTC conditions of use (not an open licence): cite the CTC papers; public use "
            "outside the challenge needs the data provider's permission; commercial use needs "
            "explicit permission"
        ),
        licence_url="https://celltrackingchallenge.net/datasets/",
        citation_key="maska2023ctc",
        bibtex=_bib("maska2023ctc", "ulman2017ctc"),
        classes=(),
        files=(),
        auth=None,
        kind="tracking",
        reader="data_registry.loaders.tracking:read_tracking",
        twin="data_registry.twins.ctc_tracking:build",
        manual=True,
        notes=(
            "Opt-in only, never in a classroom pack or on the course website. Read the "
            "conditions of use at https://celltrackingchallenge.net/datasets/ (bottom of the "
            "page): cite Maska et al. 2023 and Ulman et al. 2017; any public use outside the "
            "challenge needs permission from the data provider (Dr. E. Bartova, Institute of "
            "Biophysics, Brno); commercial use needs explicit permission. If you accept them, "
            "download the training set http://data.celltrackingchallenge.net/training-datasets/"
            "Fluo-N2DH-GOWT1.zip in your browser, unzip it, then run `course-data import "
            "ctc_fluo_n2dh_gowt1 PATH/TO/Fluo-N2DH-GOWT1`. The CTC publishes no hash: the "
            "import records the sha256 of every file. Without the import, lecture 11 uses the "
            "synthetic twin (same layout)."
        ),
    ),
    Dataset(
        name="foldscope_ascaris",
        title="Foldscope photos of dividing Ascaris cells (Kaggle, manual download)",
        description=(
            "90 phone photos through a Foldscope paper microscope of haematoxylin-stained "
            "Ascaris embryo cells, labelled interphase or mitosis (part of Paul Mooney's Kaggle "
            "dataset 'cell-cycle-experiments')."
        ),
        homepage="https://www.kaggle.com/paultimothymooney/cell-cycle-experiments",
        licence="not stated on Kaggle (use for teaching only, do not redistribute)",
        licence_url="https://www.kaggle.com/paultimothymooney/cell-cycle-experiments",
        citation_key="mooney_cellcycle",
        bibtex=_bib("mooney_cellcycle", "cybulski2014foldscope"),
        classes=("interphase", "mitosis"),
        files=(),
        auth="kaggle",
        kind="source",
        manual=True,
        notes=(
            "Kaggle needs an account: download the dataset in your browser (or with the kaggle "
            "CLI and your kaggle.json token), unzip it, then run "
            "`course-data import foldscope_ascaris PATH/TO/FOLDER`. The import records the "
            "sha256 of every file and never changes your folder."
        ),
    ),
]


def plugin_datasets() -> list[Dataset]:
    """Return the records that installed packages add through the ``course_data.datasets``
    entry-point group.

    A package (a course fork's own data package, or a test) declares, in its
    ``pyproject.toml``::

        [project.entry-points."course_data.datasets"]
        my_course = "my_course_data.registry:DATASETS"

    where ``DATASETS`` is an iterable of :class:`Dataset` records (or a function returning
    one) whose ``reader`` and ``twin`` name the package's own functions. Nothing else in the
    kit has to change for ``course-data`` and the loaders to serve them.

    Raises
    ------
    TypeError
        If an entry point does not give :class:`Dataset` records.
    """
    from importlib.metadata import entry_points

    found: list[Dataset] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        records = point.load()
        records = records() if callable(records) else records
        for record in records:
            if not isinstance(record, Dataset):
                raise TypeError(
                    f"entry point {point.name} = {point.value} ({ENTRY_POINT_GROUP}) gave "
                    f"{type(record).__name__}, not a data_registry.registry.Dataset"
                )
            found.append(record)
    return found


def _table(records: list[Dataset]) -> dict[str, Dataset]:
    table: dict[str, Dataset] = {}
    for record in records:
        if record.name in table:
            raise ValueError(f"two registry records are named {record.name!r}")
        table[record.name] = record
    return table


DATASETS: dict[str, Dataset] = _table(_DATASET_LIST + plugin_datasets())


def get_dataset(name: str) -> Dataset:
    """Return the registry record of a dataset.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"bbbc039"``. Case and ``-``/``_`` differences are tolerated.

    Raises
    ------
    UnknownDatasetError
        If no dataset has this name; the message suggests close names.
    """
    key = name.strip().lower().replace("-", "_")
    if key in DATASETS:
        return DATASETS[key]
    suggestions = difflib.get_close_matches(key, list(DATASETS), n=3, cutoff=0.5)
    raise UnknownDatasetError(name, suggestions)


def dataset_names() -> list[str]:
    """Return all registered dataset names in registry order."""
    return list(DATASETS)


def datasets_of_kind(*kinds: str) -> list[str]:
    """Return the names of the registered datasets of the given kinds, in registry order.

    >>> datasets_of_kind("segmentation")[:2]
    ['bbbc039', 'dsb2018']
    """
    unknown = [kind for kind in kinds if kind not in KIND_LOADERS]
    if unknown:
        raise ValueError(f"unknown dataset kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    return [name for name, dataset in DATASETS.items() if dataset.kind in kinds]
