"""Temporary work folders of data_registry: recognisable names, known places, stale clean-up.

Every temporary folder this package creates in the cache is named after the machine and the
process that made it:

* ``<cache>/.staging-<host>-<pid>/``: classroom packs are extracted and checked here;
* ``<final folder>.tmp-<host>-<pid>``: an archive extraction or a twin being built, renamed
  onto its final name when complete.

A run killed by SIGKILL, a power cut or an older version's SIGTERM leaves such a folder behind.
:func:`clean_stale` (called by later runs) removes the ones whose process is gone (same host),
or that are older than :data:`STALE_AFTER_SECONDS` (made on another host that shares the cache).
Nothing else is ever removed: a user's own ``.tmp`` files do not match these names and places.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

STAGING_PREFIX = ".staging-"
TMP_MARK = ".tmp-"
STALE_AFTER_SECONDS = 24 * 3600
_OWNER = re.compile(r"^(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)$")


def _host() -> str:
    """This machine's name, reduced to the characters used in temporary names."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname() or "host")[:64] or "host"


def owner_tag() -> str:
    """Return ``<host>-<pid>``, the tag that marks this process's temporary folders."""
    return f"{_host()}-{os.getpid()}"


def staging_dir(cache_root: Path) -> Path:
    """Return this process's staging folder ``<cache>/.staging-<host>-<pid>`` (not created)."""
    return Path(cache_root) / f"{STAGING_PREFIX}{owner_tag()}"


def tmp_sibling(final: Path) -> Path:
    """Return the temporary folder beside ``final`` that is renamed onto it when complete."""
    final = Path(final)
    return final.with_name(f"{final.name}{TMP_MARK}{owner_tag()}")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: rely on age only
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by another user
    return True


def is_stale(path: Path, tag: str, now: float | None = None) -> bool:
    """Return True when the temporary folder ``path`` tagged ``<host>-<pid>`` is abandoned."""
    match = _OWNER.match(tag)
    if match is None:
        return False  # not a name this package makes: never touch it
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    if match["host"] == _host() and not _process_alive(int(match["pid"])):
        return True
    return age > STALE_AFTER_SECONDS


def _candidates(cache_root: Path):
    """Yield ``(folder, tag)`` for every temporary folder of this package in the cache."""
    for path in cache_root.glob(f"{STAGING_PREFIX}*"):
        yield path, path.name[len(STAGING_PREFIX) :]
    patterns = (f"*/*/_extracted/*{TMP_MARK}*", f"*/*{TMP_MARK}*")
    for pattern in patterns:
        for path in cache_root.glob(pattern):
            if path.parts[len(cache_root.parts)] in ("real", "twin"):
                yield path, path.name.rsplit(TMP_MARK, 1)[1]


def clean_stale(cache_root: Path) -> list[Path]:
    """Remove abandoned temporary folders of this package from the cache; return them.

    Parameters
    ----------
    cache_root : Path
        The cache folder (``COURSE_DATA_DIR``).

    Returns
    -------
    list of Path
        The folders removed (only directories with this package's names, in its places).
    """
    cache_root = Path(cache_root)
    if not cache_root.is_dir():
        return []
    removed = []
    now = time.time()
    for path, tag in sorted(set(_candidates(cache_root))):
        if path.is_dir() and not path.is_symlink() and is_stale(path, tag, now):
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed
