"""Sets kept as SQLite rows (every set imported before its format was packed; no import
writes rows any more) answer as packed sets do: exact lookups, near hits, entries,
breakdowns and exports, for the same file imported both ways."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from hashmatch.hashsets import HashSetStore
from hashmatch.hashsets.export import export_set
from hashmatch.hashsets.formats.generic_csv import GenericCsv
from hashmatch.hashsets.formats.pdq import PdqList
from hashmatch.hashsets.model import SetLayout
from hashmatch.matching.near import MIH_MIN_ENTRIES

PDQ_COUNT = 2 * MIH_MIN_ENTRIES + 200  # (about half of quality 50 or more: an index)


def pdq_file(path: Path) -> list[str]:
    """A PDQ list with names and qualities (some under 50), as Meta's tool writes it."""
    rng = np.random.default_rng(3)
    values = [bytes(r).hex() for r in rng.integers(0, 256, (PDQ_COUNT, 32), dtype=np.uint8)]
    path.write_text("".join(f"{v},{(i * 7) % 101},img{i}.jpg\n" for i, v in enumerate(values)))
    return values


def csv_file(path: Path) -> None:
    rows = ["md5,sha1,category,name"]
    for i in range(40):
        md5, sha1 = f"{i:032x}", f"{i * 3:040x}"
        rows.append(f"{md5},{sha1 if i % 3 else ''},{['known-bad', 'Grade B', ''][i % 3]},f{i}.jpg")
    path.write_text("\n".join(rows) + "\n")


def both_layouts(
    store: HashSetStore, path: Path, fmt: type, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    """(the set imported as rows, the same file imported packed)."""
    with monkeypatch.context() as patched:
        patched.setattr(fmt, "packs", lambda self: False)
        as_rows = store.import_file(path, name="rows").info
    again = path.with_name("again" + path.suffix)  # (a blank line more: another file's
    again.write_bytes(path.read_bytes() + b"\n")  # SHA-256, else a no-op re-import)
    packed = store.import_file(again, name="packed")
    assert (as_rows.layout, packed.info.layout) == (SetLayout.ROWS, SetLayout.PACKED)
    return as_rows, packed.info


def test_pdq_sets_answer_alike_in_both_layouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = pdq_file(tmp_path / "list.pdq")
    with HashSetStore(tmp_path / "store") as store:
        rows, packed = both_layouts(store, tmp_path / "list.pdq", PdqList, monkeypatch)
        probes = [bytes.fromhex(values[i]) for i in (0, 7, 4000)] + [b"\0" * 32]
        found = [
            {raw: [(d.reference, d.quality, d.category, d.label) for d in hits]
             for raw, hits in store.lookup(info, "pdq", probes).items()}
            for info in (rows, packed)
        ]  # fmt: skip
        assert found[0] == found[1] and len(found[0]) == 3
        near = []
        for info in (rows, packed):
            index = store.near_index(info, "pdq")
            assert index is not None
            probes = []
            for i in (8, 4000):  # (qualities 56 and 21: the second is left out of both)
                flipped = bytearray(bytes.fromhex(values[i]))
                flipped[0] ^= 0x0F
                probes.append(bytes(flipped))
            answers = []
            for hits in index.query_many(probes, 31):
                details = store.details(info, [key for key, _ in hits], "pdq")
                answers.append(sorted((details[key].reference, details[key].quality, distance)
                                      for key, distance in hits))  # fmt: skip
            near.append(answers)
        assert near[0] == near[1] == [[("img8.jpg", 56, 4)], []]
        kept = [i for i in range(PDQ_COUNT) if (i * 7) % 101 >= 50]
        assert len(store.value_arrays(rows, "pdq", 50)[0]) == len(kept)
        assert len(store.value_arrays(packed, "pdq", 50)[0]) == len(kept)
        entries = [[(e.values, e.quality, e.reference, e.category, e.label)
                    for e in store.iter_entries(info)] for info in (rows, packed)]  # fmt: skip
        assert entries[0] == entries[1] and len(entries[0]) == PDQ_COUNT


def test_csv_sets_answer_alike_in_both_layouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_file(tmp_path / "set.csv")
    with HashSetStore(tmp_path / "store") as store:
        rows, packed = both_layouts(store, tmp_path / "set.csv", GenericCsv, monkeypatch)
        assert store.breakdown(rows) == store.breakdown(packed)
        probes = [f"{i:032x}".encode() for i in (0, 1, 2, 99)]
        raw = [bytes.fromhex(p.decode()) for p in probes]
        found = [{k: [(d.reference, d.category, d.label) for d in v]
                  for k, v in store.lookup(info, "md5", raw).items()}
                 for info in (rows, packed)]  # fmt: skip
        assert found[0] == found[1] and len(found[0]) == 3
        exported = []
        for info in (rows, packed):
            out = io.StringIO()
            export_set(store, info, "md5sum", out)
            exported.append(out.getvalue())
        assert exported[0] == exported[1] and exported[0].count("\n") == 40
