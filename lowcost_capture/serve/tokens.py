"""Class and instructor tokens, and the student or group names that become split groups.

The class token goes into the URL students scan; the instructor token opens the instructor page.
Both are made with :func:`secrets.token_urlsafe`, stored in ``DATASET/.capture/tokens.json``
(readable by the owner only) so that a restarted server keeps the same links and QR codes, and
compared in constant time.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from data_registry.atomic import atomic_write_json

TOKENS_NAME = "tokens.json"
_GROUP_CHARS = re.compile(r"[^a-z0-9]+")
#: Longest student or group name kept.
MAX_NAME_LENGTH = 40


@dataclass(frozen=True)
class Tokens:
    """The two secrets of a capture session."""

    student: str
    instructor: str


def load_or_create_tokens(state_dir: Path, renew: bool = False) -> Tokens:
    """Read the session's tokens, or make and store new ones.

    Parameters
    ----------
    state_dir : Path
        ``DATASET/.capture`` (created if needed).
    renew : bool
        Make new tokens even when some are stored (old links stop working).
    """
    state_dir = Path(state_dir)
    path = state_dir / TOKENS_NAME
    if not renew and path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            return Tokens(str(stored["student"]), str(stored["instructor"]))
        except (ValueError, KeyError, TypeError):
            pass  # damaged: make new ones below
    tokens = Tokens(secrets.token_urlsafe(16), secrets.token_urlsafe(24))
    stored = {"student": tokens.student, "instructor": tokens.instructor}
    atomic_write_json(path, stored, mode=0o600)  # the secrets stay the owner's
    return tokens


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of a token from a URL with the real one."""
    return secrets.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def group_id(name: str) -> str:
    """The split group of a student or group name: lower-case ASCII letters, digits and ``-``.

    ``"Ana B."`` and ``"ana b"`` give the same group ``ana-b``, so a student who types their name
    slightly differently stays in one group (and one split).

    Raises
    ------
    ValueError
        When the name is empty or has no letter or digit.
    """
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    slug = _GROUP_CHARS.sub("-", text.lower()).strip("-")[:MAX_NAME_LENGTH].strip("-")
    if not slug:
        raise ValueError("enter your name or your group's name (letters or digits)")
    return "student-" + slug


def display_name(name: str) -> str:
    """The name as typed, trimmed and without control characters (for the instructor page)."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable()).strip()
    return text[:MAX_NAME_LENGTH]
