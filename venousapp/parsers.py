"""The API's JSON parser: a body nested too deeply is refused before it is built, with a 400
that names the limit; a body with a NUL character in a text (which PostgreSQL cannot store)
is refused with a 400 that says where (``nul_at``, also used by the forms that read JSON)."""

import io
import itertools
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# A JSON string, escapes included; an unterminated one runs to the end of the body. It always
# matches from a quote, so the scan stays linear whatever the body.
_STRING = re.compile(rb'"[^"\\]*(?:\\[\s\S][^"\\]*)*"?')
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in the JSON ``body`` (0 for a scalar), counted on the
    bytes without building anything; brackets inside strings do not count. Exact for UTF-8
    (JSON's encoding), whose multi-byte characters contain no ASCII byte."""
    brackets = _NOT_A_BRACKET.sub(b"", _STRING.sub(b"", body))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets), initial=0))


def too_deep_message() -> str:
    depth = settings.API_JSON_MAX_DEPTH
    return f"JSON nested too deeply: at most {depth} levels of arrays and objects."


def json_depth_check(body: bytes) -> None:
    """ParseError (400) for a body nested deeper than ``API_JSON_MAX_DEPTH``, counted before
    anything is built."""
    if json_depth(body) > settings.API_JSON_MAX_DEPTH:
        raise ParseError(too_deep_message())


def nul_at(data: Any) -> tuple[Any, ...] | None:
    """Where in parsed JSON a key or a text holds a NUL character, as the keys and indexes
    that lead there (``()`` for the top level), or None. Walked without recursion."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return (*where, key)
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, index), item) for index, item in enumerate(value))
    return None


def path_text(where: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in where)


def nul_problem(raw: bytes, data: Any) -> str | None:
    """What a request body holding a NUL character is told, or None (``raw``: its bytes,
    ``data``: them parsed). JSON writes a NUL in a text as an escape (a raw one is no JSON),
    so only a body with that escape is walked."""
    if b"\\u0000" not in raw:
        return None
    where = nul_at(data)
    if where is None:
        return None
    at = path_text(where) or "the top"
    return f"A text of the body holds a NUL character (at {at}), which cannot be stored."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with arrays and objects nested at most ``API_JSON_MAX_DEPTH`` levels.

    Python's parser recurses per level, so ``[`` × 100 000 would otherwise end in a
    RecursionError (a 500), and no request of this API needs more than a dozen levels. The
    depth is counted before anything is built; the body itself is already bounded by
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (DRF reads it through ``request.body``).
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read()
        json_depth_check(body)
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:  # only with API_JSON_MAX_DEPTH near Python's recursion limit
            raise ParseError(too_deep_message()) from None
        problem = nul_problem(body, data)
        if problem is not None:
            raise ParseError(problem)
        return data
