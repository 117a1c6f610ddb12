"""Citations and attribution lines for the registered datasets (BibTeX from the registry)."""

from __future__ import annotations

import re

from data_registry.registry import DATASETS, get_dataset

_ENTRY_KEY = re.compile(r"@\w+\{([^,]+),")


def split_entries(bibtex: str) -> dict[str, str]:
    """Split a BibTeX string into ``key -> entry``."""
    entries = {}
    for chunk in re.split(r"\n\s*\n", bibtex.strip()):
        match = _ENTRY_KEY.search(chunk)
        if match:
            entries[match.group(1).strip()] = chunk.strip()
    return entries


def cite(name: str) -> str:
    """Return the BibTeX entries to cite when using one dataset."""
    return get_dataset(name).bibtex.strip() + "\n"


def cite_all(names: list[str] | None = None) -> str:
    """Return the BibTeX of several datasets (all by default), each entry once."""
    entries: dict[str, str] = {}
    for name in names or list(DATASETS):
        entries.update(split_entries(get_dataset(name).bibtex))
    return "\n\n".join(entries.values()) + "\n"


def attribution(name: str) -> str:
    """Return a one-line attribution: title, licence and primary reference key."""
    dataset = get_dataset(name)
    return (
        f"{dataset.title}. Licence: {dataset.licence} ({dataset.licence_url}). "
        f"Cite: {dataset.citation_key}."
    )
