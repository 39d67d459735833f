"""The two VICS readers (ijson's item builder for flat sets, the event loop for case
files) give the same media and cases for any document, whichever one a file gets."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.hashsets.formats import vics_stream
from hashmatch.hashsets.formats.vics import Vics

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from(["MD5", "SHA1", "Category", "MediaID", "MediaFiles", "Media", "x"])
media = st.dictionaries(keys, json_values, max_size=5)
cases = st.fixed_dictionaries(
    {"CaseNumber": st.text(max_size=5), "Media": st.lists(media | json_values, max_size=4)}
)
items = st.lists(media | cases | json_values, max_size=6)


def normalised(found: list[tuple[str, Any]]) -> str:
    return json.dumps(found, default=str, sort_keys=True)


def document(value: list[Any], context_first: bool) -> bytes:
    parts = [("@odata.context", CONTEXT), ("value", value)]
    body = dict(parts if context_first else parts[::-1])
    return json.dumps(body).encode()


@settings(max_examples=300, deadline=None)
@given(value=items, context_first=st.booleans())
def test_both_readers_give_the_same_objects(value: list[Any], context_first: bool) -> None:
    data = document(value, context_first)
    chosen: dict[str, str] = {}
    events: dict[str, str] = {}
    found = list(vics_stream.objects(io.BytesIO(data), chosen))
    expected = list(vics_stream._events(io.BytesIO(data), events))
    assert normalised(found) == normalised(expected)
    assert chosen == events


def test_a_flat_set_takes_the_item_builder_and_a_case_file_the_event_loop(
    monkeypatch: Any,
) -> None:
    used: list[str] = []
    flat, events = vics_stream._flat, vics_stream._events
    monkeypatch.setattr(vics_stream, "_flat", lambda s: (used.append("flat"), flat(s))[1])
    monkeypatch.setattr(
        vics_stream, "_events", lambda s, p: (used.append("events"), events(s, p))[1]
    )
    medium = {"MD5": "00" * 16, "Category": 1}
    for value, context_first in [
        ([medium], True),
        ([{"Media": [medium]}], True),
        ([medium], False),
    ]:
        list(vics_stream.objects(io.BytesIO(document(value, context_first)), {}))
    assert used == ["flat", "events", "events"]


def test_numbers_and_strings_stay_as_written_in_the_record() -> None:
    medium = {
        "MD5": "AA" * 16,
        "Category": "1",
        "MediaSize": 1.5,
        "Big": 10**20,
        "IsDistributed": "true",
    }
    entry = next(iter(Vics().read(io.BytesIO(b"\xef\xbb\xbf" + document([medium], True)))))
    assert json.loads(entry.record) == medium  # type: ignore[union-attr]


def test_numbers_no_float_holds_are_kept_as_their_text() -> None:
    """1e999999 failed the import with Python's limit on writing long integers."""
    text = document([{"MD5": "AA" * 16, "MediaSize": 0, "Category": 0}], True)
    text = text.replace(b'"MediaSize": 0', b'"MediaSize": 1e999999')
    text = text.replace(b'"Category": 0', b'"Category": -1e999999')
    entry = next(iter(Vics().read(io.BytesIO(text))))
    record = json.loads(entry.record)  # type: ignore[union-attr]
    assert record["MediaSize"] == "1E+999999"
    assert entry.label == 'VICS category "-1E+999999"'  # type: ignore[union-attr]
