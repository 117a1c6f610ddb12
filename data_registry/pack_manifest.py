"""The schema of a classroom pack's ``pack_manifest.json``, and its validation.

A pack comes from outside (a USB stick, a shared drive): its manifest is checked against
:data:`PACK_MANIFEST_SCHEMA` (JSON Schema, draft 7) before anything else reads it, so a damaged
or hand-edited manifest ends in one clear line naming the bad field instead of a ``KeyError``.
The schema is compiled by fastjsonschema (imported in 0.2 s; the ``jsonschema`` package can
take seconds to import where Jupyter installed its format-checking extras).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

import fastjsonschema

from data_registry.errors import PackError

PACK_MANIFEST = "pack_manifest.json"
PACK_FORMAT = 1
MAX_MANIFEST_BYTES = 16 << 20
DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")

PACK_MANIFEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["format", "datasets"],
    "properties": {
        "format": {"const": PACK_FORMAT},
        "created": {"type": "string"},
        "registry_version": {"type": "string"},
        "datasets": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "required": ["files"],
                "properties": {
                    "source": {"const": "real"},
                    "derived": {"type": "boolean"},
                    "files": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["file", "size", "sha256"],
                            "properties": {
                                "file": {"type": "string", "minLength": 1, "maxLength": 1024},
                                "size": {"type": "integer", "minimum": 0},
                                "sha256": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                                "registry_hash": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
        },
    },
}

_VALIDATE = fastjsonschema.compile(PACK_MANIFEST_SCHEMA)


def schema_problem(validate, document) -> str | None:
    """Return ``"<field>: <problem>; got <value>"`` for the first schema violation, or None.

    Parameters
    ----------
    validate : callable
        A validator compiled by ``fastjsonschema.compile``.
    document : object
        The parsed JSON.
    """
    try:
        validate(document)
    except fastjsonschema.JsonSchemaValueException as error:
        field = error.name.removeprefix("data").lstrip(".") or "the top level"
        problem = error.message.removeprefix(error.name).strip()
        return f"{field}: {problem}; got {_short(repr(error.value), 60)}"
    return None


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unsafe_path(name: str) -> bool:
    """True for a member path that could escape its folder or is not portable."""
    pure = PurePosixPath(name)
    return (
        name != name.strip()
        or "\\" in name
        or "\x00" in name
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
        or (len(name) > 1 and name[1] == ":")
    )


def parse_manifest(raw: bytes, pack_name: str) -> dict:
    """Parse and validate the bytes of ``pack_manifest.json``.

    Parameters
    ----------
    raw : bytes
        The file's content.
    pack_name : str
        The pack, for messages.

    Returns
    -------
    dict
        The manifest, valid against :data:`PACK_MANIFEST_SCHEMA`, with safe and unique file
        names.

    Raises
    ------
    PackError
        With one line naming the problem and the field.
    """
    try:
        manifest = json.loads(raw)
    except ValueError as error:
        raise PackError(f"{pack_name}: {PACK_MANIFEST} is not valid JSON ({error})") from error
    if isinstance(manifest, dict) and manifest.get("format", PACK_FORMAT) != PACK_FORMAT:
        raise PackError(
            f"{pack_name} has pack format {_short(repr(manifest.get('format')), 40)}; this "
            f"course-data reads format {PACK_FORMAT}: update course-kit or ask for a new pack"
        )
    problem = schema_problem(_VALIDATE, manifest)
    if problem is not None:
        raise PackError(
            f"{pack_name}: {PACK_MANIFEST} is malformed at {problem}. Ask for a fresh pack "
            "(`course-data pack`)."
        )
    for name, record in manifest["datasets"].items():
        if not DATASET_NAME.match(name):
            raise PackError(
                f"{pack_name}: {PACK_MANIFEST} has an invalid dataset name "
                f"{_short(repr(name), 80)}; refused"
            )
        seen = set()
        for index, entry in enumerate(record["files"]):
            file_name = entry["file"]
            where = f"datasets.{name}.files[{index}].file"
            if unsafe_path(file_name):
                raise PackError(
                    f"{pack_name}: {PACK_MANIFEST} has an unsafe path at {where}: "
                    f"{_short(repr(file_name), 80)}; refused"
                )
            if file_name in seen:
                raise PackError(
                    f"{pack_name}: {PACK_MANIFEST} lists {file_name!r} twice ({where}); refused"
                )
            seen.add(file_name)
    return manifest
