"""A VICS set in the store: packed, its media's records kept, its PDQ values (from
AlternativeHashes) near-matched through a saved index or, for a small set, directly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hashmatch.hashsets import Category, HashSetStore
from hashmatch.hashsets.model import SetLayout
from hashmatch.matching.near import MIH_MIN_ENTRIES, NearIndex

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


def write_set(path: Path, values: np.ndarray) -> Path:
    media = [
        {"MediaID": i + 1, "Category": 1 if i % 2 else 0, "MD5": f"{i:032x}",
         "MediaFiles": [{"FileName": f"img{i}.jpg"}],
         "AlternativeHashes": [{"HashName": "PDQ", "HashValue": values[i].tobytes().hex()}]}
        for i in range(len(values))
    ]  # fmt: skip
    path.write_text(json.dumps({"@odata.context": CONTEXT, "value": media}))
    return path


def flipped(value: bytes, bits: int) -> bytes:
    raw = bytearray(value)
    for bit in range(0, bits * 8, 8):  # one bit in each of the first bytes
        raw[bit // 8] ^= 1
    return bytes(raw)


@pytest.mark.parametrize("count", [MIH_MIN_ENTRIES + 10, 12], ids=["saved-index", "small"])
def test_pdq_values_of_a_vics_set_are_near_matched(tmp_path: Path, count: int) -> None:
    values = np.random.default_rng(7).integers(0, 256, (count, 32), dtype=np.uint8)
    source = write_set(tmp_path / "set.json", values)
    with HashSetStore(tmp_path / "store") as store:
        info = store.import_file(source).info
        assert info.layout is SetLayout.PACKED and set(info.algorithms) == {"md5", "pdq"}
        saved = (tmp_path / "store" / "near" / str(info.id) / "pdq.json").exists()
        assert saved == (count >= MIH_MIN_ENTRIES)
        index = store.near_index(info, "pdq")
        if index is None:  # a small set: the scan builds its own from the values
            keys, raw = store.value_arrays(info, "pdq")
            words = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
            index = NearIndex(256, words, keys)
        row = count - 3
        found = index.query(flipped(values[row].tobytes(), 10), 31)
        assert len(found) == 1 and found[0][1] == 10
        details = store.details(info, [found[0][0]], "pdq")[found[0][0]]
        assert details.reference == f"MediaID {row + 1}; img{row}.jpg"
        assert details.value == values[row].tobytes().hex()
        assert details.category is (Category.KNOWN_BAD if row % 2 else Category.KNOWN_GOOD)
        assert details.label == ("VICS 1 (Child Abuse Material)" if row % 2
                                 else "VICS 0 (Non-Pertinent)")  # fmt: skip
        record = json.loads(store.record(info, row + 1) or "{}")
        assert record["MD5"] == f"{row:032x}" and record["MediaFiles"] == [
            {"FileName": f"img{row}.jpg"}
        ]
