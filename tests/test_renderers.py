"""The API's JSON renderer (venousapp/renderers.py) writes what DRF's writes: the same bytes
for objects, lists, texts, integers, booleans and null, the same values for floats, and DRF's
own forms for dates, times, decimals and lazy translations."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer as DRFRenderer

from venousapp.renderers import JSONRenderer

ours, drf = JSONRenderer(), DRFRenderer()

texts = st.text()
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | texts
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=30,
)


@given(documents)
def test_the_same_bytes_as_drf(document):
    assert ours.render(document) == drf.render(document)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_the_same_number_as_drf(number):
    assert json.loads(ours.render({"x": number})) == json.loads(drf.render({"x": number}))


def test_dates_decimals_uuids_and_translations_as_drf_writes_them():
    document = {
        "at": dt.datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=dt.UTC),
        "naive": dt.datetime(2026, 12, 7, 9, 30),
        "day": dt.date(2026, 12, 7),
        "time": dt.time(9, 30),
        "diameter": decimal.Decimal("14.5"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": gettext_lazy("Case"),
        "codes": {"CIV"},
        "pair": ("CIV", "EIV"),
        1: "a key that is a number",
    }
    assert ours.render(document) == drf.render(document)


def test_line_and_paragraph_separators_are_escaped():
    assert ours.render(["a\u2028b\u2029c"]) == b'["a\\u2028b\\u2029c"]'


def test_an_indented_answer_is_drfs():
    media = "application/json; indent=2"
    assert ours.render({"a": [1]}, media) == drf.render({"a": [1]}, media)


def test_an_integer_over_64_bits_is_written_as_drf_writes_it():
    assert ours.render([2**70]) == drf.render([2**70]) == b"[1180591620717411303424]"


def test_nothing_is_an_empty_body():
    assert ours.render(None) == b""
