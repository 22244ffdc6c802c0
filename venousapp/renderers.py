"""JSON answers written by orjson: the API's renderer (DRF's, :class:`JSONRenderer`) and a
``JsonResponse`` for views outside DRF (the CDS Hooks service).

The renderer writes what DRF's renderer writes, byte for byte for what the API sends (objects,
lists, texts, numbers, booleans and null): compact, UTF-8, U+2028 and U+2029 escaped.
What orjson does not write itself (dates and times, decimals, lazy translations, sets) goes
through DRF's own encoder, so it is written as before. Anything else DRF's renderer also
handles: an indented answer (``Accept: application/json; indent=4``) and a value orjson
refuses (an integer over 64 bits, a type no encoder knows, which then fails as it did). One
difference: a float that is not a number or infinite, which DRF's renderer refuses (an error
answer), is written as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from rest_framework import renderers
from rest_framework.utils import encoders

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    _default = staticmethod(encoders.JSONEncoder().default)

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        indent = self.get_indent(accepted_media_type or "", renderer_context or {})
        if data is None or indent is not None or not self.compact or self.ensure_ascii:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=self._default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATOR in written or _PARAGRAPH_SEPARATOR in written:
            written = written.replace(_LINE_SEPARATOR, b"\\u2028").replace(
                _PARAGRAPH_SEPARATOR, b"\\u2029"
            )
        return written


class JsonResponse(HttpResponse):
    """Django's ``JsonResponse`` for a dict, written by orjson in UTF-8 (Django's escapes
    every character beyond ASCII; the JSON is the same). What orjson does not write itself
    goes through Django's encoder, as in Django's."""

    _default = staticmethod(DjangoJSONEncoder().default)

    def __init__(self, data: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("content_type", "application/json")
        super().__init__(orjson.dumps(data, default=self._default, option=_OPTIONS), **kwargs)
