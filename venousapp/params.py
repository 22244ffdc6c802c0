"""Reading ids from query strings.

``str.isdigit()`` is true for characters ``int()`` rejects ("²", "٣" …) and says nothing
about size, so an id typed into a URL could reach ``int()`` or the database and fail with a
500. :func:`object_id` accepts what a primary key can hold and nothing else.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1  # BigAutoField (PostgreSQL bigint, SQLite integer)


def object_id(text: object) -> int | None:
    """The positive integer id written in ``text`` (ASCII digits, surrounding blanks and a
    leading "#" allowed), or None when ``text`` is not such an id."""
    if not isinstance(text, str):
        return None
    text = text.strip().removeprefix("#")
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
