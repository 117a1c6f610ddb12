"""The book pages around the lectures: references, glossary, licences, internal links."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BOOK = REPO_ROOT / "book"

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")
DOC = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`")
GLOSSARY_TERM = re.compile(r"(?m)^([^\s:`#][^\n]*)\n  \S")

# Works the course relies on; each must be citable from the book.
REQUIRED_CITATIONS = {
    "caicedo2019cytometry",  # BBBC039 (registry)
    "ljosa2012bbbc",  # Broad Bioimage Benchmark Collection (registry)
    "caicedo2019dsb",  # Data Science Bowl 2018 (registry)
    "schmidt2018stardist",  # StarDist (registry)
    "yang2023medmnist",  # MedMNIST v2 (registry)
    "acevedo2020blood",  # blood cell images behind BloodMNIST (registry)
    "eulenberg2017cellcycle",  # Jurkat cell cycle (registry)
    "pinkard2024bsccm",  # BSCCM (registry)
    "vanderwalt2014skimage",  # scikit-image (registry)
    "cybulski2014foldscope",  # Foldscope (registry)
    "stringer2021cellpose",
    "otsu1979",
    "howard2020fastai",
    "he2016resnet",
    "skandarajah2014phone",
    "vandermaaten2008tsne",
    "mcinnes2018umap",
    "bussola2021leakage",
    "breiman2001forests",
}


def _load_dataset_tables():
    spec = importlib.util.spec_from_file_location(
        "dataset_tables", BOOK / "_ext" / "dataset_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _texts():
    """(name, text) of every book page and every notebook markdown cell."""
    for page in sorted(BOOK.glob("*.md")):
        yield page.relative_to(REPO_ROOT).as_posix(), page.read_text(encoding="utf-8")
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
        yield path.relative_to(REPO_ROOT).as_posix(), text


@pytest.fixture(scope="module")
def bib_keys() -> dict[str, set[str]]:
    from data_registry.registry import BIB, DATASETS

    tables = _load_dataset_tables()
    registry = set(BIB)
    for dataset in DATASETS.values():
        registry.update(tables.bibtex_keys(dataset.bibtex))
    local = tables.bibtex_keys((BOOK / "references.bib").read_text(encoding="utf-8"))
    return {"registry": registry, "local": set(local), "local_list": local}


def test_references_bib_does_not_repeat_registry_or_itself(bib_keys):
    local = bib_keys["local_list"]
    assert len(local) == len(set(local)), "duplicate keys in book/references.bib"
    clash = bib_keys["local"] & bib_keys["registry"]
    assert not clash, f"{sorted(clash)} are registry citations; remove them from references.bib"


def test_required_works_are_citable(bib_keys):
    missing = REQUIRED_CITATIONS - bib_keys["local"] - bib_keys["registry"]
    assert not missing, f"add BibTeX for {sorted(missing)}"


def test_every_cited_key_exists(bib_keys):
    known = bib_keys["local"] | bib_keys["registry"]
    problems = []
    for name, text in _texts():
        for group in CITE.findall(text):
            for key in (k.strip() for k in group.split(",")):
                if key and key not in known:
                    problems.append(f"{name}: {{cite}}`{key}`")
    assert not problems, (
        "unknown citation keys:\n"
        + "\n".join(problems)
        + "\nDataset citations use the registry keys ("
        + ", ".join(sorted(bib_keys["registry"]))
        + "); other works go into book/references.bib ("
        + ", ".join(sorted(bib_keys["local"]))
        + ")."
    )


def test_generated_bibtex_has_every_registry_entry_once(bib_keys, tmp_path):
    tables = _load_dataset_tables()
    bib_path, table_path = tables.generate(REPO_ROOT, tmp_path)
    generated = tables.bibtex_keys(bib_path.read_text(encoding="utf-8"))
    assert len(generated) == len(set(generated))
    assert set(generated) == bib_keys["registry"] - bib_keys["local"]


def test_licence_table_lists_every_dataset_with_its_licence(tmp_path):
    from data_registry.registry import DATASETS

    tables = _load_dataset_tables()
    _, table_path = tables.generate(REPO_ROOT, tmp_path)
    table = table_path.read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    assert len(rows) == len(DATASETS)
    for dataset in DATASETS.values():
        row = next(r for r in rows if f"(`{dataset.name}`)" in r)
        assert " ".join(dataset.licence.split()).replace("|", "\\|") in row
        assert dataset.citation_key in row or tables.bibtex_keys(dataset.bibtex)[0] in row
    licences_page = (BOOK / "licences.md").read_text(encoding="utf-8")
    assert "_build/generated/dataset_licences.md" in licences_page
    assert "BSD" in licences_page and "CC-BY-4.0" in licences_page


def test_glossary_has_the_core_terms_and_every_linked_term():
    glossary = (BOOK / "glossary.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\{glossary\}\n(.*?)```", glossary, flags=re.S)
    assert blocks, "book/glossary.md has no {glossary} block"
    terms = {t.strip().lower() for block in blocks for t in GLOSSARY_TERM.findall(block)}
    for core in ("pixel", "bit depth", "segmentation", "iou", "data leakage", "foldscope"):
        assert core in terms
    assert len(terms) >= 60
    problems = []
    for name, text in _texts():
        for use in TERM.findall(text):
            target = re.sub(r"^.*<(.+)>$", r"\1", use).strip().lower()
            if target not in terms:
                problems.append(f"{name}: {{term}}`{use}`")
    assert not problems, "terms missing from book/glossary.md:\n" + "\n".join(problems)


def test_doc_links_in_pages_point_at_existing_documents():
    for page in sorted(BOOK.glob("*.md")):
        for target in DOC.findall(page.read_text(encoding="utf-8")):
            path = target.lstrip("/") if target.startswith("/") else f"book/{target}"
            exists = any((REPO_ROOT / f"{path}{suffix}").is_file() for suffix in (".md", ".ipynb"))
            assert exists, f"{page.name} links to {target}, which does not exist"


def test_syllabus_schedule_covers_every_lecture():
    syllabus = (BOOK / "syllabus.md").read_text(encoding="utf-8")
    assert "| Week / session | Lecture | Time in class |" in syllabus
    for number in range(11):
        assert re.search(rf"(?m)^\| [0-9.]+ \| {number} ", syllabus), f"lecture {number}"


NOTEBOOK_GLOSSARY_LINK = re.compile(r"\]\(\.\./book/glossary\.md#term-([^)\s]+)\)")


def test_glossary_links_in_notebooks_name_existing_terms():
    glossary = (BOOK / "glossary.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\{glossary\}\n(.*?)```", glossary, flags=re.S)
    slugs = {
        re.sub(r"[^a-z0-9]+", "-", t.strip().lower()).strip("-")
        for block in blocks
        for t in GLOSSARY_TERM.findall(block)
    }
    linked, problems = 0, []
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            for slug in NOTEBOOK_GLOSSARY_LINK.findall(cell.source):
                linked += 1
                if slug not in slugs:
                    problems.append(f"{path.name}: #term-{slug}")
    assert linked >= 50, f"only {linked} glossary links in the lecture notebooks"
    assert not problems, "glossary links to terms that do not exist:\n" + "\n".join(problems)
