"""Generate the dataset pages of the book from the registry table.

Licences, attributions and dataset citations live only in ``data_registry.registry``; this
module turns them into two files under ``book/_build/generated/`` before Sphinx reads any
page:

* ``datasets.bib``: every BibTeX entry of the registry (listed in ``bibtex_bibfiles`` of
  ``book/_config.yml``, next to ``book/references.bib`` for the methods),
* ``dataset_licences.md``: the licence and attribution table, included by
  ``book/licences.md``.

It works as a Sphinx extension (``sphinx.local_extensions`` in ``book/_config.yml``) and as a
plain script (``python3 book/_ext/dataset_tables.py [OUT_DIR]``) that needs no Sphinx.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

GENERATED = Path("book") / "_build" / "generated"
_KEY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")


def bibtex_keys(text: str) -> list[str]:
    """Return the citation keys of the BibTeX entries in ``text``, in order."""
    return _KEY.findall(text)


def split_entries(text: str) -> dict[str, str]:
    """Split BibTeX text into ``{key: entry}`` (entries start with ``@`` at a line start)."""
    entries = {}
    for chunk in re.split(r"(?m)^(?=@)", text):
        chunk = chunk.strip()
        keys = bibtex_keys(chunk)
        if keys:
            entries[keys[0]] = chunk
    return entries


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _link(text: str, url: str) -> str:
    return f"[{_cell(text)}]({url})" if url.startswith(("http://", "https://")) else _cell(text)


def registry_bibtex(datasets, extra_bib: dict[str, str] | None = None, skip=()) -> str:
    """Return one BibTeX file with every registry entry, each key once.

    Parameters
    ----------
    datasets : iterable of data_registry.registry.Dataset
        Registry records (their ``bibtex`` fields).
    extra_bib : dict of str to str, optional
        Further registry entries by key (``data_registry.registry.BIB``).
    skip : iterable of str
        Keys already defined elsewhere (``book/references.bib``); left out.
    """
    entries: dict[str, str] = {}
    for dataset in datasets:
        for key, entry in split_entries(dataset.bibtex).items():
            entries.setdefault(key, entry)
    for key, entry in (extra_bib or {}).items():
        entries.setdefault(key, entry.strip())
    skip = set(skip)
    header = (
        "% Generated from data_registry.registry by book/_ext/dataset_tables.py. Do not edit.\n"
    )
    return header + "\n\n".join(e for k, e in sorted(entries.items()) if k not in skip) + "\n"


def licence_table(datasets) -> str:
    """Return the MyST markdown licence and attribution table for the registry datasets."""
    lines = [
        "| Dataset | Licence | Cite | Notes |",
        "|---|---|---|---|",
    ]
    for dataset in sorted(datasets, key=lambda d: d.name):
        keys = bibtex_keys(dataset.bibtex) or [dataset.citation_key]
        cite = "{cite:p}`" + ",".join(keys) + "`"
        notes = []
        if dataset.derived_from:
            notes.append(f"derived locally from `{dataset.derived_from}`")
        if dataset.instructor_only:
            notes.append("instructor download only")
        if dataset.manual:
            notes.append("manual download")
        if dataset.unverified:
            notes.append("**unverified**: " + "; ".join(dataset.unverified))
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{_link(dataset.title, dataset.homepage)} (`{dataset.name}`)",
                    _link(dataset.licence, dataset.licence_url),
                    cite,
                    _cell("; ".join(notes)) or "",
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return  # keep the mtime, so Sphinx does not re-read the including page
    from data_registry.atomic import atomic_write_text

    atomic_write_text(path, text)


def generate(root: Path, out_dir: Path | None = None) -> list[Path]:
    """Write ``datasets.bib`` and ``dataset_licences.md`` for the repository at ``root``.

    Returns
    -------
    list of pathlib.Path
        The two generated files.
    """
    from data_registry.registry import BIB, DATASETS

    out_dir = out_dir or root / GENERATED
    references = root / "book" / "references.bib"
    skip = bibtex_keys(references.read_text(encoding="utf-8")) if references.is_file() else []
    bib_path = out_dir / "datasets.bib"
    table_path = out_dir / "dataset_licences.md"
    _write_if_changed(bib_path, registry_bibtex(DATASETS.values(), BIB, skip))
    _write_if_changed(table_path, licence_table(DATASETS.values()))
    return [bib_path, table_path]


def _on_config_inited(app, config) -> None:
    # The repository that holds this extension (book/_ext/), whatever folder Sphinx reads.
    generate(Path(__file__).resolve().parents[2])


def setup(app):
    """Sphinx entry point: generate the files as soon as the configuration is read."""
    app.connect("config-inited", _on_config_inited, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}


if __name__ == "__main__":
    repo_root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo_root))
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    for written in generate(repo_root, target):
        print(written)
